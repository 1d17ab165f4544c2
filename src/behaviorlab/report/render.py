"""`render_report`: a run, demo or sweep directory to one self-contained HTML file plus PNGs."""

from __future__ import annotations

import os
from pathlib import Path

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write
from behaviorlab.report.canvas import Canvas
from behaviorlab.report.compare import comparison_body
from behaviorlab.report.page import build_page, write_figures
from behaviorlab.report.run_sections import render_sections, run_sections
from behaviorlab.report.rundata import load_collection, load_run
from behaviorlab.rundir import FIGURES, REPORT, RUN_MARKERS, SUMMARY, SWEEP, is_run


def build_report(path: Path, *, capture_errors: bool = False) -> tuple[str, Canvas]:
    """The HTML text of the report for `path` and the figures it shows."""
    if not path.is_dir():
        raise BadInput(f"{path}: not a directory (expected a run, demo or sweep directory)")
    canvas = Canvas()
    coll = load_collection(path)
    if coll is not None:
        toc, body = comparison_body(coll, canvas)
        title = f"{path.resolve().name} ({coll.kind} comparison)"
    elif is_run(path):
        run = load_run(path)
        sections = run_sections(run, canvas)
        toc, body, title = [(a, t) for a, t, _ in sections], render_sections(sections), run.name
    else:
        raise BadInput(
            f"{path}: not a run, demo or sweep directory (no {', '.join(RUN_MARKERS)}, "
            f"no {SWEEP}, no {SUMMARY} with `models`)"
        )
    html = build_page(title, str(path.resolve()), toc, body, canvas, capture_errors=capture_errors)
    return html, canvas


def _write_shareable(tmp: Path, text: str) -> None:
    """Write the page with ordinary permissions (the atomic temp file starts owner-only)."""
    tmp.write_text(text, encoding="utf-8")
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)


def render_report(path: Path, out: Path | None = None, *, capture_errors: bool = False) -> Path:
    """Write the report (default PATH/report.html) and its figures as PNG in figures/ beside it.

    `capture_errors` adds a script recording browser errors on the page (for headless tests)."""
    path = Path(path)
    out = Path(out) if out is not None else path / REPORT
    if out.exists() and out.is_dir():
        raise BadInput(f"{out}: is a directory; --out takes the HTML file to write")
    html, canvas = build_report(path, capture_errors=capture_errors)
    write_figures(canvas, out.parent / FIGURES)
    atomic_write(out, lambda tmp: _write_shareable(tmp, html))
    return out
