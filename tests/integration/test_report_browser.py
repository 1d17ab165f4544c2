"""The HTML report in a real headless browser: no script errors, every figure drawn, a screenshot.

Uses Debian's `chromium` (make setup installs it where it can); skipped only when no binary exists.
The report is built with `capture_errors=True`, which records window errors, rejected promises and
console.error calls on <html data-bl-errors>, where `--dump-dom` shows them."""

from __future__ import annotations

import html as htmllib
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from behaviorlab.report import build_report, render_report

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


def _fixtures() -> ModuleType:
    # The synthetic run builders live with the unit tests; load that module by path.
    path = Path(__file__).parents[1] / "unit" / "test_report_data.py"
    spec = importlib.util.spec_from_file_location("report_fixtures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _real_run(out: Path) -> bool:
    """Train and evaluate the tiny config (a few seconds); False if training is unavailable."""
    try:
        from behaviorlab.train import evaluate_run, train
        from behaviorlab.train.config import validate
    except ImportError:
        return False
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1]))
    try:
        from conftest import TINY
    finally:
        sys.path.pop(0)
    train(validate(TINY, "tiny"), out, progress=False)
    evaluate_run(out)
    return True


def _chrome(browser: str, page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [browser, *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=50, check=False)


def _check_page(browser: str, page: Path, profile: Path) -> int:
    """Dump the DOM; assert no recorded errors and a drawn plot in every figure element."""
    proc = _chrome(browser, page, profile, "--dump-dom")
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
    return len(chunks)


def test_report_renders_in_headless_browser(tmp_path: Path) -> None:
    browser = _browser()
    fx = _fixtures()
    run = tmp_path / "run"
    if not _real_run(run):
        fx.make_run(run, sophia=True)
    fx._analysis(run / "analysis")  # analysis stages are not wired up yet; exercise their sections
    page = render_report(run, capture_errors=True)
    n_run = _check_page(browser, page, tmp_path / "profile")
    assert n_run >= 8  # curves, accuracy breakdowns, 4 attention maps, head scores

    shot = tmp_path / "report.png"
    proc = _chrome(browser, page, tmp_path / "profile", "--window-size=1400,5200", f"--screenshot={shot}")
    assert shot.is_file() and shot.stat().st_size > 20_000, proc.stderr[-2000:]
    print(f"screenshot: {shot}")

    # The comparison page: same HTML as render_report writes, minus the PNGs (unit tests cover
    # those) to keep this test well under a minute on two cores.
    demo = fx.make_demo(tmp_path / "demo")
    text, _ = build_report(demo, capture_errors=True)
    (demo / "report.html").write_text(text, encoding="utf-8")
    n_demo = _check_page(browser, demo / "report.html", tmp_path / "profile")
    assert n_demo >= 3 + 2 * 4  # comparison charts plus each run's figures (in <details>)


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
    assert _check_page(browser, folder / "report.html", tmp_path / "profile") == 4  # 2 traversals × 2 planes
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
    assert _check_page(browser, arch / "report.html", tmp_path / "profile") == 2  # one bar chart per task
