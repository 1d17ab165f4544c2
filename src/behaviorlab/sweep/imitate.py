"""`imitate`: an imitation experiment whose training jobs run on a local process pool or Ray
(the imitation stage comes before sweep, so the runner is handed to it from here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from behaviorlab.imitation import load_config, run_experiment
from behaviorlab.jobs import Job, OnUpdate
from behaviorlab.sweep.backends import check_backend, local_workers, run_jobs


def imitate(
    config: Path,
    out: Path,
    *,
    backend: str = "local",
    address: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    say: Callable[[str], None] = lambda _: None,
    allow_long: bool = False,
    sinks: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run the experiment a TOML config describes into `out`; returns results.json's content."""
    check_backend(backend, address, workers)
    cfg = load_config(config)
    check_backend(backend, address, cfg.workers)  # the config's own pool size, like --workers
    parallel = workers or cfg.workers or local_workers(1_000_000, cfg.threads)  # as many as it may use

    def runner(
        fn: Callable[..., Any], jobs: list[Job], on_update: OnUpdate | None
    ) -> Iterator[tuple[int, Any]]:
        n = workers or cfg.workers or local_workers(len(jobs), cfg.threads)
        return run_jobs(fn, jobs, backend, address=address, workers=n, on_update=on_update)

    return run_experiment(
        cfg,
        out,
        runner=runner,
        resume=resume,
        force=force,
        progress=progress,
        say=say,
        sinks=sinks,
        parallel=parallel if backend == "local" else 1,
        allow_long=allow_long,
    )
