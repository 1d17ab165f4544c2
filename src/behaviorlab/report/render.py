"""`render_report`: a run, demo or sweep directory to one self-contained HTML file plus PNGs."""

from __future__ import annotations

import shutil
from pathlib import Path

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_text
from behaviorlab.outdir import claim_folder
from behaviorlab.report.canvas import Canvas
from behaviorlab.report.compare import comparison_body
from behaviorlab.report.imitation_sections import imitation_sections
from behaviorlab.report.interpret_sections import interpret_sections
from behaviorlab.report.page import GENERATOR, build_page, write_figures
from behaviorlab.report.probe_sections import probe_sections
from behaviorlab.report.run_sections import render_sections, run_sections
from behaviorlab.report.rundata import RunData, load_collection, load_run
from behaviorlab.report.study_sections import study_page
from behaviorlab.rundir import FIGURES, REPORT, RUN_MARKERS, STUDY, SUMMARY, SWEEP, is_run, read_json_object


def build_report(path: Path, *, capture_errors: bool = False) -> tuple[str, Canvas]:
    """The HTML text of the report for `path` and the figures it shows."""
    if not path.is_dir():
        raise BadInput(f"{path}: not a directory (expected a run, demo or sweep directory)")
    canvas = Canvas()
    coll = load_collection(path)
    if (path / STUDY).is_file():
        study = read_json_object(path / STUDY)
        toc, body = study_page(path, study, canvas)
        title = f"{path.resolve().name} ({study.get('title', 'recursion study')})"
    elif coll is not None:
        toc, body = comparison_body(coll, canvas)
        title = f"{path.resolve().name} ({coll.kind} comparison)"
    elif is_run(path):
        run = load_run(path)
        canvas.subject = subject_of(run)
        if run.kind == "probe":
            sections = probe_sections(run, canvas)
        elif run.kind == "imitation":
            sections = imitation_sections(run, canvas)
        elif run.kind == "interpret":
            sections = interpret_sections(run, canvas)
        else:
            sections = run_sections(run, canvas)
        toc, body, title = [(a, t) for a, t, _ in sections], render_sections(sections), run.name
    else:
        raise BadInput(
            f"{path}: not a run, demo or sweep directory (no {', '.join(RUN_MARKERS)}, "
            f"no {SWEEP}, no {SUMMARY} with `models`)"
        )
    html = build_page(title, str(path.resolve()), toc, body, canvas, capture_errors=capture_errors)
    return html, canvas


def subject_of(run: RunData) -> str:
    """Whose figures a run page shows: the run's name, or a probe run's models."""
    if run.kind == "probe":
        names = [str(m.get("name")) for m in run.results.get("models", []) if m.get("name")]
        return ", ".join(names) or run.name
    return run.name


def _is_ours(page: Path) -> bool:
    """True when an existing file is a report this tool wrote (it carries our generator tag)."""
    with open(page, "rb") as f:
        head = f.read(4096)
    return f'content="{GENERATOR}"'.encode() in head


def render_report(path: Path, out: Path | None = None, *, capture_errors: bool = False) -> Path:
    """Write the report (default PATH/report.html) and its figures as PNG in figures/ beside it.

    `capture_errors` adds a script recording browser errors on the page (for headless tests)."""
    path = Path(path)
    out = Path(out) if out is not None else path / REPORT
    if out.exists() and out.is_dir():
        raise BadInput(f"{out}: is a directory; --out takes the HTML file to write")
    if out.exists() and not _is_ours(out):
        raise BadInput(f"{out}: exists and is not a behaviorlab report; refusing to overwrite it")
    html, canvas = build_report(path, capture_errors=capture_errors)
    # figures/ beside the page: ours inside the reported directory; elsewhere only a folder we
    # made (a user's own figures/ beside --out is never overwritten).
    owned = out.parent.resolve() == path.resolve()
    made = not (out.parent / FIGURES).exists()
    try:
        folder = claim_folder(out.parent / FIGURES, "the report's figures", owned=owned)
        write_figures(canvas, folder)
        atomic_write_text(out, html)
    except OSError as e:
        if made:  # a full disk: the figures folder this call made goes again
            shutil.rmtree(out.parent / FIGURES, ignore_errors=True)
        raise BadInput(f"{e.filename or out}: cannot write the report: {e.strerror or e}") from None
    return out
