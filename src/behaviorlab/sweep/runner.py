"""Run a sweep: expand, skip what is complete, dispatch the rest, record and summarise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from behaviorlab.io import atomic_write_json
from behaviorlab.jobs import Job
from behaviorlab.limits import require
from behaviorlab.outdir import check_links
from behaviorlab.rundir import CONFIG, SWEEP, RunDir
from behaviorlab.store.catalog import CATALOG_NAME, find_complete, record
from behaviorlab.sweep.backends import check_backend, local_workers, run_jobs
from behaviorlab.sweep.spec import SweepRun, load_sweep
from behaviorlab.sweep.worker import is_complete, run_one
from behaviorlab.train.budget import jobs_need

SWEEP_JSON = SWEEP


def _row(run: SweepRun, run_dir: Path, result: dict[str, Any]) -> dict[str, Any]:
    return {
        "digest": run.digest,
        "run_dir": str(run_dir),
        "overrides": run.overrides,
        **{k: result.get(k) for k in ("status", "accuracy_id", "accuracy_ood", "steps", "seconds", "error")},
    }


def _cached(run_dir: Path) -> dict[str, Any]:
    s = RunDir.open(run_dir).summary
    return {
        "status": "complete",
        "accuracy_id": s.get("accuracy_id"),
        "accuracy_ood": s.get("accuracy_ood"),
        "steps": s.get("steps"),
        "seconds": 0.0,
        "error": None,
        "skipped": True,
    }


def run_sweep(
    sweep_file: Path,
    *,
    out: Path | None = None,
    backend: str = "local",
    address: str | None = None,
    workers: int | None = None,
    catalog: Path | None = None,
    console: Console | None = None,
    progress: bool = True,
    allow_long: bool = False,
) -> dict[str, Any]:
    """Run every not-yet-complete run of a sweep; writes OUT/sweep.json and records runs.

    The whole sweep is checked against this machine first (memory per worker, disk, time);
    `allow_long` lets it start when only the time is over the limit."""
    check_backend(backend, address, workers)
    sweep = load_sweep(sweep_file)
    out = out or Path("runs") / sweep.name
    threads = max((r.config.train.threads for r in sweep.runs), default=1)
    pool = workers or local_workers(len(sweep.runs), threads)
    need = jobs_need(((r.config, 1) for r in sweep.runs), pool if backend == "local" else 1)
    require(f"sweep {sweep.name}", need, out=out, hint="fewer runs or smaller ones", allow_long=allow_long)
    out.mkdir(parents=True, exist_ok=True)
    check_links(out)
    catalog = catalog or out / CATALOG_NAME
    rows: list[dict[str, Any] | None] = [None] * len(sweep.runs)
    jobs: list[Job] = []
    job_index: list[int] = []
    for i, run in enumerate(sweep.runs):
        run_dir = out / run.digest
        earlier = run_dir if is_complete(run_dir, run.digest) else find_complete(catalog, run.digest)
        if earlier is not None:  # complete already (here, or elsewhere per the catalog)
            rows[i] = {**_row(run, earlier, _cached(earlier)), "skipped": True}
            record(earlier, catalog)
            continue
        jobs.append((run.config.model_dump_json(), str(run_dir)))
        job_index.append(i)
    workers = workers or local_workers(len(jobs), threads)
    console = console or Console()
    bar = Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}", markup=False),
        TimeElapsedColumn(),
        console=console,
        disable=not progress,
    )
    with bar:
        done = len(sweep.runs) - len(jobs)
        task = bar.add_task(f"sweep {sweep.name} ({backend})", total=len(sweep.runs), completed=done, last="")
        for j, result in run_jobs(run_one, jobs, backend, address=address, workers=workers):
            i = job_index[j]
            run = sweep.runs[i]
            rows[i] = {**_row(run, out / run.digest, result), "skipped": False}
            if (out / run.digest / CONFIG).is_file():
                record(out / run.digest, catalog)
            acc = result.get("accuracy_id")
            last = f"{run.digest} {result['status']}" + (f" id {acc:.3f}" if acc is not None else "")
            bar.update(task, advance=1, last=last)
    final = [r for r in rows if r is not None]
    counts = {s: sum(r["status"] == s for r in final) for s in {r["status"] for r in final}}
    summary = {
        "sweep": sweep.name,
        "source": str(sweep_file),
        "backend": backend,
        "catalog": str(catalog),
        "counts": counts,
        "runs": final,
    }
    atomic_write_json(out / SWEEP_JSON, summary)
    return summary
