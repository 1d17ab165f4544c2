"""`behaviorlab study NAME`: a study's whole grid as jobs on the sweep backends, resumable, then the
cells across seeds, the claims table, STUDY.md and a report page, with what the runs cost."""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json, atomic_write_text
from behaviorlab.rundir import STUDY, STUDY_MARKER, STUDY_MD, replace_output_dir
from behaviorlab.study.aggregate import summarize_cell
from behaviorlab.study.definitions import STUDIES
from behaviorlab.study.grid import SEEDS
from behaviorlab.study.job import run_one
from behaviorlab.study.markdown import render_markdown
from behaviorlab.sweep.backends import check_backend, local_workers, run_jobs
from behaviorlab.track import check_sinks, open_tracker


def _is_study(path: Path) -> bool:
    return (path / STUDY).is_file() or (path / STUDY_MARKER).is_file()


def _earlier(out: Path) -> str | None:
    """The name of the study already in OUT (its study.json), if any."""
    try:
        return str(json.loads((out / STUDY).read_text()).get("study", "recursion"))
    except (OSError, ValueError, AttributeError):
        return None


def _prepare(out: Path, name: str, force: bool, resume: bool) -> None:
    if resume and out.is_dir() and _is_study(out):
        if (earlier := _earlier(out)) not in (None, name):
            raise BadInput(f"{out}: holds the {earlier} study; --resume continues only the same study")
        return
    marker = {STUDY_MARKER: "behaviorlab study folder (runs are written here)\n"}
    replace_output_dir(out, force, _is_study, "an earlier study's folder", marker)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_study(
    out: Path,
    *,
    study: str = "recursion",
    quick: bool = False,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    resume: bool = False,
    force: bool = False,
    seeds: tuple[int, ...] = SEEDS,
    console: Console | None = None,
    sinks: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run (or finish) a study's grid into OUT; write OUT/study.json, OUT/STUDY.md, OUT/report.html."""
    check_backend(backend, address, workers)
    check_sinks(sinks)
    if study not in STUDIES:
        raise BadInput(f"unknown study {study!r}; choose from {', '.join(STUDIES)}")
    definition = STUDIES[study]
    if len(seeds) < 1:
        raise BadInput("a study needs at least one seed")
    grid = definition.jobs(quick, seeds)  # every config validated before anything is written
    _prepare(out, study, force, resume)
    console = console or Console(markup=False, highlight=False)
    args = [(cfg.model_dump_json(), str(out / cfg.name), quick, definition.analyses) for _, _, cfg in grid]
    load_before, loads = _load(), []
    rows: list[dict[str, Any] | None] = [None] * len(grid)
    t0 = time.perf_counter()
    bar = Progress(
        TextColumn(study, style="bold"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}", markup=False),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    with bar:
        task = bar.add_task("study", total=len(grid), last="")

        def on_update(msg: tuple[str, int, str]) -> None:
            name, step, phase = msg
            bar.update(task, last=f"{name}: {phase} {step}")

        n_workers = workers or local_workers(len(grid))
        for i, row in run_jobs(
            run_one, args, backend, address=address, workers=n_workers, on_update=on_update
        ):
            rows[i] = row
            loads.append(os.getloadavg()[0])
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
        summarize_cell(cells[k], by_cell[k])
        for k in sorted(cells, key=lambda k: (cells[k].fields().get("family", ""), k))
    ]
    done = [r for r in rows if r is not None]
    result = {
        "study": study,
        "title": definition.title,
        "quick": quick,
        "seeds": list(seeds),
        "seconds": round(time.perf_counter() - t0, 1),
        # Summed over runs (a resumed study counts the recorded cost of the runs it kept).
        "cpu_seconds": round(sum(float(r.get("cpu_seconds") or 0.0) for r in done), 1),
        "load": {
            "before": load_before,
            "after": _load(),
            # The 1-minute load average each time a run finished: what shared the cores meanwhile.
            "mean_1min": round(sum(loads) / len(loads), 2) if loads else None,
            "max_1min": round(max(loads), 2) if loads else None,
            "cores": os.cpu_count(),
        },
        "workers": n_workers if backend == "local" else None,
        "backend": backend,
        **definition.read(summaries, quick),
        "cells": summaries,
        "runs": [
            {
                "name": r["name"],
                "cell": c.key,
                "seed": s,
                "run_dir": r["name"],
                "cpu_seconds": r.get("cpu_seconds"),
                "error": r.get("error"),
            }
            for (c, s, _), r in zip(grid, rows, strict=True)
            if r is not None
        ],
    }
    atomic_write_json(out / STUDY, result)
    atomic_write_text(out / STUDY_MD, render_markdown(result))
    from behaviorlab.report import render_report

    render_report(out)
    _send(out, result, sinks)
    return result


def _send(out: Path, study: dict[str, Any], sinks: tuple[str, ...]) -> None:
    """The claims table and the study's files into the optional results sinks."""
    if sinks:
        tracker = open_tracker(sinks, out, out.name, {})
        tracker.log_table("claims", [{k: str(v) for k, v in c.items()} for c in study["claims"]])
        for name in (STUDY, STUDY_MD):
            tracker.log_artifact(out / name)
        tracker.close()
