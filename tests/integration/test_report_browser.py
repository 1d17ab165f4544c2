"""The HTML report in a real headless browser: no script errors, every figure drawn, and — for
every report kind (train, probe, imitation, study, demo), at 1280 px — a layout a person can read:
no table or code block wider than its box, no page wider than the window, no axis title, legend
or chart title cut off or overlapped by another or by plotly's toolbar.

Uses Debian's `chromium` (make setup installs it where it can); skipped only when no binary exists.
The report is built with `capture_errors=True`, which records window errors, rejected promises and
console.error calls on <html data-bl-errors>, and measures the layout in the DOM (theme.LAYOUT_JS:
every <details> opened) onto <html data-bl-layout>, where `--dump-dom` shows both."""

from __future__ import annotations

import html as htmllib
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from behaviorlab.report import build_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
    # Let plotly's timers and promises settle before the DOM is dumped or the screenshot taken.
    "--virtual-time-budget=15000",
]


def _browser() -> str:
    for name in BROWSERS:
        if found := shutil.which(name):
            return found
    pytest.skip(
        f"no headless browser found (looked for {', '.join(BROWSERS)}); "
        "install Debian's `chromium` (make setup does when apt and root are available)"
    )


def _chrome(browser: str, page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [browser, *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _check_page(browser: str, page: Path, profile: Path) -> tuple[int, str]:
    """Dump the DOM at WIDTH px; assert no recorded errors and a drawn plot in every figure
    element; the number of figures and the DOM."""
    proc = _chrome(browser, page, profile, f"--window-size={WIDTH},900", "--dump-dom")
    dom = proc.stdout
    assert "data-bl-errors=" in dom, f"page scripts did not run:\n{proc.stderr[-2000:]}"
    errors = json.loads(htmllib.unescape(re.search(r'data-bl-errors="([^"]*)"', dom).group(1)))
    assert errors == [], f"browser errors on {page.name}: {errors}"
    uncaught = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln and "Uncaught" in ln]
    assert not uncaught, uncaught
    chunks = re.split(r'<div class="bl-fig', dom)[1:]
    assert chunks, "no figures on the page"
    blank = [c[:80] for c in chunks if "main-svg" not in c.split("<figcaption", 1)[0]]
    assert not blank, f"{len(blank)} of {len(chunks)} figures not drawn: {blank}"
    plotted = re.search(r'data-bl-plotted="(\d+)"', dom)
    assert plotted and int(plotted.group(1)) == len(chunks)
    return len(chunks), dom


WIDTH = 1280  # the window a person reads the report in (a laptop)
KINDS = ("train", "probe", "imitation", "study", "demo")


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small directory of every report kind, made by the real code (report_kinds.py)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    try:
        import report_kinds as rk
    finally:
        sys.path.pop(0)
    root = tmp_path_factory.mktemp("kinds")
    train = rk.train_run(root / "train")
    probe_results = rk.probe_run(root / "probe")
    return {
        "train": train,
        "probe": root / "probe",
        "imitation": rk.imitation_run(root / "imitation"),
        "study": rk.study_dir(root / "study"),
        "demo": rk.demo_dir(root / "demo", train, root / "probe", probe_results),
    }


def _layout(dom: str) -> dict[str, Any]:
    """The page's layout as theme.LAYOUT_JS measured it (every <details> open)."""
    found = re.search(r'data-bl-layout="([^"]*)"', dom)
    assert found, "the layout check did not run"
    return dict(json.loads(htmllib.unescape(found.group(1))))


@pytest.mark.parametrize("kind", KINDS)
def test_every_report_kind_fits_a_1280px_window(kind: str, kinds: dict[str, Path], tmp_path: Path) -> None:
    browser = _browser()
    text, canvas = build_report(kinds[kind], capture_errors=True)
    page = kinds[kind] / "layout-check.html"
    page.write_text(text, encoding="utf-8")
    drawn, dom = _check_page(browser, page, tmp_path / "profile")  # no errors, every figure drawn
    got = _layout(dom)
    assert got["tables"] > 0 and got["figures"] == drawn == len(canvas.figures) > 0, got
    assert got["overflow"] == [], f"{kind}: wider than their box at {WIDTH} px: {got['overflow']}"
    assert got["page"] is None, f"{kind}: the page is wider than the window: {got['page']}"
    assert got["clipped"] == [], f"{kind}: cut off at the figure's edge: {got['clipped']}"
    assert got["overlaps"] == [], f"{kind}: drawn over each other: {got['overlaps']}"
    assert got["split"] == [], f"{kind}: words broken inside across lines: {got['split']}"
    # Every figure names whose it is (the run, or the probe run's models) in its title.
    subject = {"probe": "fake-open-text-model-alpha", "study": "lr ", "imitation": "tiny-imitation"}
    named = subject.get(kind)
    for fig in canvas.figures:
        if named is not None:
            assert named in fig.title, fig.title
        elif kind == "train":
            assert "binary-successor-reverse-tiny-run-with-a-long-name" in fig.title, fig.title
    if kind in ("train", "probe"):  # screenshots of two kinds, as a person sees them
        shot = tmp_path / f"{kind}-{WIDTH}.png"
        _chrome(browser, page, tmp_path / "profile", f"--window-size={WIDTH},4000", f"--screenshot={shot}")
        assert shot.is_file() and shot.stat().st_size > 20_000
        print(f"screenshot: {shot}")


def _study_fakes() -> ModuleType:
    path = Path(__file__).parents[1] / "unit" / "study_fakes.py"
    spec = importlib.util.spec_from_file_location("study_fakes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_study_pages_render_in_headless_browser(tmp_path: Path) -> None:
    """The tree-boundary page draws its phase diagram with every cell's numbers on the cell; the
    architectures page draws its bars; both without browser errors."""
    browser = _browser()
    fakes = _study_fakes()
    study = fakes.boundary_study()
    folder = fakes.write_study(tmp_path / "boundary", study)
    text, _ = build_report(folder, capture_errors=True)
    (folder / "report.html").write_text(text, encoding="utf-8")
    drawn, _ = _check_page(browser, folder / "report.html", tmp_path / "profile")
    assert drawn == 4  # 2 traversals × 2 planes
    dom = _chrome(browser, folder / "report.html", tmp_path / "profile", "--dump-dom").stdout
    figures = [c.split("<figcaption", 1)[0] for c in re.split(r'<div class="bl-fig', dom)[1:]]
    left_out = 0
    for fig in figures:  # a 3 × 3 phase diagram: nine cells, each with three lines of numbers or left out
        labels = re.findall(r'<g class="heatmap-label">(.*?)</g>', fig)
        assert len(labels) == 9, fig[:120]
        drawn = [label for label in labels if ">left out (see below)</text>" not in label]
        left_out += len(labels) - len(drawn)
        assert all(label.count('<tspan class="line"') == 3 for label in drawn)
        assert all(re.search(r"e2e \d+% \[\d+–\d+\] · \d/3", label) for label in drawn)
    # Each point left out of the grid is named on the diagram of every plane it lies in.
    assert left_out == 2 * sum(len(d["planes"]) for d in study["dropped"]) > 0
    marked = sum(
        len(re.findall(r'<tspan class="line"[^>]*>◆ e2e fails, 1-step learns</tspan>', f)) for f in figures
    )
    # Each setting in the region is drawn once per plane it lies in.
    expected = sum(
        len(r["planes"]) for r in study["phases"] if r["phase"] == "end to end fails, 1-step learns"
    )
    assert marked == expected > 0
    shot = tmp_path / "study.png"
    proc = _chrome(
        browser,
        folder / "report.html",
        tmp_path / "profile",
        "--window-size=1400,3400",
        f"--screenshot={shot}",
    )
    assert shot.is_file() and shot.stat().st_size > 20_000, proc.stderr[-2000:]

    arch = fakes.write_study(tmp_path / "arch", fakes.arch_study())
    text, _ = build_report(arch, capture_errors=True)
    (arch / "report.html").write_text(text, encoding="utf-8")
    assert _check_page(browser, arch / "report.html", tmp_path / "profile")[0] == 2  # one bar chart per task


def test_the_layout_check_catches_what_it_should(tmp_path: Path) -> None:
    """The measurement itself: a table wider than the page, a code line running off it and an
    axis title longer than its figure are each reported."""
    from behaviorlab.report.canvas import Canvas
    from behaviorlab.report.figures import Figure, Series
    from behaviorlab.report.html import cards, table
    from behaviorlab.report.page import build_page

    browser = _browser()
    canvas = Canvas()
    tall = "y " * 200  # an axis title far longer than the figure is tall
    body = table([{f"column {i}": "x" * 30 for i in range(12)}]) + '<pre style="white-space:pre">' + "y" * 400
    body += "</pre>" + cards([("name", "zzzz" * 20)])  # breaks inside the word: nowhere else to
    body += canvas.figure(Figure("f", "t", "x", tall, [Series("s", [1, 2], [0.1, 0.2])]))
    page = tmp_path / "bad.html"
    page.write_text(build_page("bad", "", [], body, canvas, capture_errors=True), encoding="utf-8")
    got = _layout(_check_page(browser, page, tmp_path / "profile")[1])
    assert len(got["overflow"]) == 2 and got["clipped"], got
    assert any(w.startswith("zzzz") for w in got["split"]), got  # a word longer than its card


def test_whitebox_report_renders_in_headless_browser(tmp_path: Path) -> None:
    """A white-box run of a language model (a tiny random GPT-2): heads-found bars, ablation bars,
    head-score rankings and attention maps with the prompt's tokens on both axes, all drawn."""
    browser = _browser()
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1]))
    try:
        from lm_tiny import gpt2_dir
    finally:
        sys.path.pop(0)
    from behaviorlab.interpret.model_verbs import ModelJob, ablate, analyze

    spec = f"hf:{gpt2_dir(tmp_path)}"
    out = tmp_path / "wb"
    analyze(ModelJob(spec, ["the cat sat on a mat the cat sat"], out=out), 1, 2)
    ablate(ModelJob(spec, ["the cat sat on a mat"], out=out), None)
    text, _ = build_report(out, capture_errors=True)
    page = out / "report.html"
    page.write_text(text, encoding="utf-8")
    n, dom = _check_page(browser, page, tmp_path / "profile")
    assert n >= 3 + 3 + 1 + 2  # found-vs-random bars, head-score rankings, ablation bars, maps
    got = _layout(dom)
    assert got["overflow"] == [] and got["page"] is None and got["clipped"] == [], got
    for tick in ("0:the", "1:cat", "2:sat"):  # prompt tokens as axis labels of the drawn maps
        assert re.search(rf">{tick}</text>", dom), tick
    assert "Heads found and their ablation check" in dom and "median [min, max]" in dom
