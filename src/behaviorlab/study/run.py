"""`behaviorlab study NAME`: a study's whole grid as jobs on the sweep backends, resumable, then the
cells across seeds, the claims table, STUDY.md and a report page, with what the runs cost."""

from __future__ import annotations

import fnmatch
import json
from collections import defaultdict
from collections.abc import Sequence
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
from rich.table import Table

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json, atomic_write_text
from behaviorlab.limits import require
from behaviorlab.outdir import resuming
from behaviorlab.rundir import STUDY, STUDY_MARKER, STUDY_MD, replace_output_dir, unlock
from behaviorlab.study.aggregate import summarize_cell
from behaviorlab.study.definitions import STUDIES, StudyDef
from behaviorlab.study.grid import SEEDS
from behaviorlab.study.job import finished_row, run_one
from behaviorlab.study.markdown import render_markdown
from behaviorlab.study.sessions import Session, command, cost, earlier_sessions
from behaviorlab.sweep.backends import check_backend, local_workers, run_jobs
from behaviorlab.track import check_sinks, open_tracker
from behaviorlab.train import ExperimentConfig
from behaviorlab.train.budget import jobs_need
from behaviorlab.validate import check_seed

Job = tuple[Any, int, ExperimentConfig]  # (cell, seed, config)


def _is_study(path: Path) -> bool:
    return (path / STUDY).is_file() or (path / STUDY_MARKER).is_file()


def _earlier(out: Path) -> dict[str, Any] | None:
    """The study already in OUT (its study.json), if any."""
    try:
        earlier = json.loads((out / STUDY).read_text())
    except (OSError, ValueError):
        return None
    return earlier if isinstance(earlier, dict) else None


def _prepare(
    out: Path, name: str, force: bool, resume: bool, quick: bool, seeds: tuple[int, ...], only: str | None
) -> None:
    """Create (or, resuming the same study, grid, cells and seeds, reopen) the study folder, locked."""
    if resume and out.is_dir() and _is_study(out):
        earlier = _earlier(out) or {}
        # A study.json from before studies were named is the recursion study's.
        if (was := earlier.get("study", "recursion") if earlier else name) != name:
            raise BadInput(f"{out}: holds the {was} study; --resume continues only the same study")
        if "quick" in earlier and bool(earlier["quick"]) != quick:
            grid = "quick" if earlier["quick"] else "full"
            raise BadInput(
                f"{out}: holds the {grid} grid; --resume it with{'' if earlier['quick'] else 'out'} --quick"
            )
        if "seeds" in earlier and tuple(earlier["seeds"]) != seeds:
            raise BadInput(f"{out}: was run with seeds {earlier['seeds']}; --resume it with the same --seeds")
        if "only_cells" in earlier and earlier["only_cells"] != only:
            was_only = f"--cells {earlier['only_cells']!r}" if earlier["only_cells"] else "every cell"
            raise BadInput(f"{out}: was run with {was_only}; --resume it with the same --cells")
        with resuming(out):  # locked for this process
            return
    marker = {STUDY_MARKER: "behaviorlab study folder (runs are written here)\n"}
    replace_output_dir(out, force, _is_study, "an earlier study's folder", marker)


def _bar(study: str, console: Console) -> Progress:
    """A live bar on a terminal; a log file gets one line per finished run instead (see _run)."""
    return Progress(
        TextColumn(study, style="bold"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}", markup=False),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )


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
    seeds: Sequence[int] = SEEDS,
    console: Console | None = None,
    sinks: tuple[str, ...] = (),
    allow_long: bool = False,
    only: str | None = None,
) -> dict[str, Any]:
    """Run (or finish) a study's grid into OUT; write OUT/study.json, OUT/STUDY.md, OUT/report.html.

    With `resume`, finished runs are kept (their recorded rows, not retrained) and the cells, claims
    and pages are computed anew by this code: resuming a finished study re-reads it. `seeds` may be
    a lazy range: the grid (cells x seeds) is checked against this machine before any of it is
    built; `allow_long` lets it start when only the time is over the limit; `only` (a glob over the
    cell keys) runs a part of the grid, and the pages name the cells left out."""
    check_backend(backend, address, workers)
    check_sinks(sinks)
    if study not in STUDIES:
        raise BadInput(f"unknown study {study!r}; choose from {', '.join(STUDIES)}")
    definition = STUDIES[study]
    if len(seeds) < 1:
        raise BadInput("a study needs at least one seed")
    one_seed = definition.jobs(quick, (0,))  # one seed's configs: what each cell costs
    every = _keys(one_seed)
    first = _selected(one_seed, only, study, every)
    estimate_workers = workers or local_workers(len(first) * len(seeds))
    require(
        f"study {study}: {len(first)} cells x {len(seeds):,} seeds",
        jobs_need(((cfg, len(seeds)) for _, _, cfg in first), estimate_workers if backend == "local" else 1),
        out=out,
        hint="lower --seeds",
        allow_long=allow_long,
    )
    seeds = tuple(check_seed(s, "seed") for s in seeds)
    grid = _selected(definition.jobs(quick, seeds), only, study, every)  # validated before any write
    _prepare(out, study, force, resume, quick, seeds, only)
    chosen = set(_keys(first))
    left_out = [k for k in every if k not in chosen]
    try:
        return _run(
            out,
            study,
            definition,
            quick,
            seeds,
            grid,
            backend,
            workers,
            address,
            resume,
            console,
            sinks,
            (only, left_out),
        )
    finally:
        unlock(out)


def _run(
    out: Path,
    study: str,
    definition: StudyDef,
    quick: bool,
    seeds: tuple[int, ...],
    grid: list[tuple[Any, int, ExperimentConfig]],
    backend: str,
    workers: int | None,
    address: str | None,
    resume: bool,
    console: Console | None,
    sinks: tuple[str, ...],
    part: tuple[str | None, list[str]] = (None, []),
) -> dict[str, Any]:
    """Train what is not finished, then aggregate, write and send the study (OUT is locked)."""
    console = console or Console(markup=False, highlight=False)
    args = [(cfg.model_dump_json(), str(out / cfg.name), quick, definition.analyses) for _, _, cfg in grid]
    # Finished runs are read here, not sent to a worker: re-reading a finished study trains nothing.
    rows: list[dict[str, Any] | None] = [
        finished_row(out / cfg.name, cfg.digest(), definition.analyses) for _, _, cfg in grid
    ]
    todo = [i for i, row in enumerate(rows) if row is None]
    kept = len(grid) - len(todo)
    n_workers = workers or local_workers(len(todo))
    where = f"{n_workers} local workers" if backend == "local" else backend
    on = f" on {where}" if todo else ""
    console.print(f"{study}: {len(grid)} runs, {kept} finished and kept, {len(todo)} to run{on}")
    session = Session(out, earlier_sessions(out) if resume else [], kept, backend, n_workers)
    try:
        with _bar(study, console) as bar:
            task = bar.add_task("study", total=len(grid), completed=kept, last="")

            def on_update(msg: tuple[str, int, str]) -> None:
                name, step, phase = msg
                bar.update(task, last=f"{name}: {phase} {step}")

            jobs = [args[i] for i in todo]
            # Both backends return at once on no jobs: a re-read starts no pool.
            trained = run_jobs(
                run_one, jobs, backend, address=address, workers=n_workers, on_update=on_update
            )
            for j, row in trained:
                rows[todo[j]] = row
                session.run_finished()
                failed = " (failed)" if row.get("error") else ""
                bar.update(task, advance=1, last=f"{row['name']} done{failed}")
                if not console.is_terminal:  # a log file gets no live bar: one line per run instead
                    left = session.minutes_left(len(todo))
                    console.print(
                        f"{study}: {kept + session.finished}/{len(grid)} {row['name']} done{failed}; "
                        f"about {left:.0f} min left",
                        soft_wrap=True,  # one line per run, however narrow the log's console
                    )
    except BaseException:
        session.close(interrupted=True)  # the wall time of an interrupted session still counts
        raise
    sessions = session.close()
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
        "command": command(study, out, quick, seeds, backend, part[0]),
        "only_cells": part[0],
        "cells_left_out": part[1],
        **cost(sessions, done, out),
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


def _selected(jobs: list[Job], only: str | None, study: str, every: list[str]) -> list[Job]:
    """The jobs whose cell key matches the `--cells` glob (all without one); none is an error."""
    if only is None:
        return jobs
    picked = [j for j in jobs if fnmatch.fnmatchcase(j[0].key, only)]
    if not picked:
        raise BadInput(
            f"--cells {only!r} matches none of the {len(every)} cells of study {study} "
            f"(keys look like {every[0]!r}; `behaviorlab study {study} --list-cells` lists them)"
        )
    return picked


def study_cells(study: str, quick: bool = False) -> list[str]:
    """The cell keys of a study's grid, in the order they run (what `--cells` globs match)."""
    if study not in STUDIES:
        raise BadInput(f"unknown study {study!r}; choose from {', '.join(STUDIES)}")
    return _keys(STUDIES[study].jobs(quick, (0,)))


def _keys(jobs: list[Job]) -> list[str]:
    """The distinct cell keys of a job list, in its order."""
    return list(dict.fromkeys(cell.key for cell, _, _ in jobs))


def claims_table(study: dict[str, Any]) -> Table:
    """The claims and their verdicts, titled with what the study cost (for the console)."""
    title = f"{study['title']} ({study['seconds']} s wall, {study['cpu_seconds']} CPU-s)"
    table = Table("claim", "verdict", title=title)
    for c in study["claims"]:
        table.add_row(c["claim"], c["verdict"])
    return table


def _send(out: Path, study: dict[str, Any], sinks: tuple[str, ...]) -> None:
    """The claims table and the study's files into the optional results sinks."""
    if sinks:
        tracker = open_tracker(sinks, out, out.name, {})
        tracker.log_table("claims", [{k: str(v) for k, v in c.items()} for c in study["claims"]])
        for name in (STUDY, STUDY_MD):
            tracker.log_artifact(out / name)
        tracker.close()
