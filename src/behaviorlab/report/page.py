"""One self-contained HTML page: inline CSS, plotly.js once, figure data as embedded JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from behaviorlab.report.canvas import Canvas
from behaviorlab.report.html import esc
from behaviorlab.report.plotly_out import to_plotly
from behaviorlab.report.png_out import write_png
from behaviorlab.report.theme import CAPTURE_JS, CSS, LAYOUT_JS, PAGE_JS
from behaviorlab.rundir import figure_file


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


# Marks a page as ours: `report` overwrites only its own pages.
GENERATOR = "behaviorlab report"


def _script_json(obj: object) -> str:
    """JSON safe inside a <script> element (no `</script>` or `<!--` can appear)."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _clean(value: object) -> object:
    """NaN/inf become null: JSON has no spelling for them and plotly draws gaps for null."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def build_page(
    title: str,
    subtitle: str,
    toc: list[tuple[str, str]],
    body: str,
    canvas: Canvas,
    *,
    capture_errors: bool = False,
) -> str:
    """The full HTML document."""
    import behaviorlab

    figdata = {f"fig-{f.key}": _clean(to_plotly(f)) for f in canvas.figures}
    nav = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in toc)
    capture = f"<script>{CAPTURE_JS}</script>" if capture_errors else ""
    plotly = f"<script>{_plotly_js()}</script>" if canvas.figures else ""
    scripts = (
        f'<script type="application/json" id="bl-figdata">{_script_json(figdata)}</script>'
        f"<script>{PAGE_JS}</script>"
        if canvas.figures
        else ""
    )
    if capture_errors:  # test mode also measures the layout (theme.LAYOUT_JS)
        scripts += f"<script>{LAYOUT_JS}</script>"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="{GENERATOR}">'
        f'<title>{esc(title)} — behaviorlab report</title><link rel="icon" href="data:,">'
        f"{capture}<style>{CSS}</style>{plotly}</head><body>"
        f'<header class="top"><div class="wrap"><div class="kicker">behaviorlab report</div>'
        f'<h1>{esc(title)}</h1><p class="sub">{esc(subtitle)}</p></div></header>'
        f'<nav class="toc">{nav}</nav><main class="wrap">{body}</main>'
        f"<footer>behaviorlab {esc(behaviorlab.__version__)} · generated {esc(stamp)} · "
        f"{len(canvas.figures)} figures (PNG copies in figures/)</footer>{scripts}</body></html>\n"
    )


def write_figures(canvas: Canvas, folder: Path) -> list[Path]:
    """Every figure of the page as figures/KEY.png."""
    paths = []
    for f in canvas.figures:
        path = figure_file(folder, f.key)
        write_png(f, path)
        paths.append(path)
    return paths
