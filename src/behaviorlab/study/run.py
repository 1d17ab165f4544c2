"""`behaviorlab study recursion`: the whole grid as jobs on the sweep backends, resumable, then the
cells across seeds, the claims table, STUDY.md and a report page."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json, atomic_write_text
from behaviorlab.limits import require
from behaviorlab.outdir import resuming
from behaviorlab.rundir import STUDY, STUDY_MARKER, STUDY_MD, replace_output_dir, unlock
from behaviorlab.study.aggregate import summarize_cell
from behaviorlab.study.claims import check_claims
from behaviorlab.study.grid import SEEDS, Cell, cells, jobs
from behaviorlab.study.job import run_one
from behaviorlab.study.markdown import render_markdown
from behaviorlab.sweep.backends import check_backend, local_workers, run_jobs
from behaviorlab.track import check_sinks, open_tracker
from behaviorlab.train import ExperimentConfig
from behaviorlab.train.budget import jobs_need
from behaviorlab.validate import check_seed


def _is_study(path: Path) -> bool:
    return (path / STUDY).is_file() or (path / STUDY_MARKER).is_file()


def _prepare(out: Path, force: bool, resume: bool) -> None:
    """Create (or, resuming, reopen) the study folder, locked for this process."""
    if resume and out.is_dir() and _is_study(out):
        with resuming(out):
            return
    marker = {STUDY_MARKER: "behaviorlab study folder (runs are written here)\n"}
    replace_output_dir(out, force, _is_study, "an earlier study's folder", marker)


def run_study(
    out: Path,
    *,
    quick: bool = False,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    resume: bool = False,
    force: bool = False,
    seeds: Sequence[int] = SEEDS,
    console: Console | None = None,
    sinks: tuple[str, ...] = (),
    allow_long: bool = False,
) -> dict[str, Any]:
    """Run (or finish) the grid into OUT; write OUT/study.json, OUT/STUDY.md and OUT/report.html.

    `seeds` may be a lazy range: the grid (cells x seeds) is checked against this machine
    before any of it is built; `allow_long` lets it start when only the time is over the limit."""
    check_backend(backend, address, workers)
    check_sinks(sinks)
    if len(seeds) < 1:
        raise BadInput("a study needs at least one seed")
    grid_cells = cells(quick)
    n_workers = workers or local_workers(len(grid_cells) * len(seeds))
    per_cell = ((c.config(0, quick), len(seeds)) for c in grid_cells)
    require(
        f"study recursion: {len(grid_cells)} cells x {len(seeds):,} seeds",
        jobs_need(per_cell, n_workers if backend == "local" else 1),
        out=out,
        hint="lower --seeds",
        allow_long=allow_long,
    )
    seeds = tuple(check_seed(s, "seed") for s in seeds)
    grid = jobs(quick, seeds)  # every config validated before anything is written
    _prepare(out, force, resume)
    try:
        return _run(out, quick, seeds, grid, backend, n_workers, address, console, sinks)
    finally:
        unlock(out)


def _run(
    out: Path,
    quick: bool,
    seeds: tuple[int, ...],
    grid: list[tuple[Cell, int, ExperimentConfig]],
    backend: str,
    n_workers: int,
    address: str | None,
    console: Console | None,
    sinks: tuple[str, ...],
) -> dict[str, Any]:
    console = console or Console(markup=False, highlight=False)
    args = [(cfg.model_dump_json(), str(out / cfg.name), quick) for _, _, cfg in grid]
    rows: list[dict[str, Any] | None] = [None] * len(grid)
    t0 = time.perf_counter()
    bar = Progress(
        TextColumn("study", style="bold"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}", markup=False),
        TimeElapsedColumn(),
        console=console,
    )
    with bar:
        task = bar.add_task("study", total=len(grid), last="")

        def on_update(msg: tuple[str, int, str]) -> None:
            name, step, phase = msg
            bar.update(task, last=f"{name}: {phase} {step}")

        for i, row in run_jobs(
            run_one, args, backend, address=address, workers=n_workers, on_update=on_update
        ):
            rows[i] = row
            bar.update(
                task, advance=1, last=f"{row['name']} done" + (" (failed)" if row.get("error") else "")
            )
    by_cell: dict[str, list[dict[str, Any]]] = defaultdict(list)
    cells = {}
    for (cell, _, _), row in zip(grid, rows, strict=True):
        assert row is not None
        by_cell[cell.key].append(row)
        cells[cell.key] = cell
    summaries = [
        summarize_cell(cells[k], by_cell[k]) for k in sorted(cells, key=lambda k: (cells[k].family, k))
    ]
    study = {
        "study": "recursion",
        "quick": quick,
        "seeds": list(seeds),
        "seconds": round(time.perf_counter() - t0, 1),
        "claims": check_claims(summaries),
        "cells": summaries,
        "runs": [
            {"name": r["name"], "cell": c.key, "seed": s, "run_dir": r["name"], "error": r.get("error")}
            for (c, s, _), r in zip(grid, rows, strict=True)
            if r is not None
        ],
    }
    atomic_write_json(out / STUDY, study)
    atomic_write_text(out / STUDY_MD, render_markdown(study))
    from behaviorlab.report import render_report

    render_report(out)
    _send(out, study, sinks)
    return study


def _send(out: Path, study: dict[str, Any], sinks: tuple[str, ...]) -> None:
    """The claims table and the study's files into the optional results sinks."""
    if sinks:
        tracker = open_tracker(sinks, out, out.name, {})
        tracker.log_table("claims", [{k: str(v) for k, v in c.items()} for c in study["claims"]])
        for name in (STUDY, STUDY_MD):
            tracker.log_artifact(out / name)
        tracker.close()
