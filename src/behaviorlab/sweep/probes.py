"""`probe` over a model zoo: every model × probe part a job on a local process pool or Ray
(the probes stage comes before sweep, so the runner is handed to it from here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.jobs import Job, OnUpdate
from behaviorlab.lm import TextModel
from behaviorlab.probes import run_probes
from behaviorlab.probes.zoo import ZooModel, load_zoo
from behaviorlab.sweep.backends import check_backend, local_workers, run_jobs


def probe_on(
    models: Sequence[str | TextModel | ZooModel],
    out: Path,
    *,
    backend: str = "local",
    address: str | None = None,
    workers: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """`run_probes` with its parts as jobs on `backend` (one CPU each); `options` as run_probes takes
    them (probes, limit, seed, chat, settings, force, resume, progress, sinks). Returns results.json's
    content."""
    check_backend(backend, address, workers)

    def runner(
        fn: Callable[..., Any], jobs: list[Job], on_update: OnUpdate | None
    ) -> Iterator[tuple[int, Any]]:
        n = workers or local_workers(len(jobs))
        return run_jobs(fn, jobs, backend, address=address, workers=n, on_update=on_update)

    return run_probes(models, out, runner=runner, **options)


def probe(
    models: Sequence[str],
    out: Path,
    *,
    zoo: Path | None = None,
    backend: str | None = None,
    address: str | None = None,
    workers: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The `probe` command: `models` (specs) and a zoo file's models, in that order. Parts run here,
    in order, unless a backend is named or a zoo is given (then on `backend`, default the local pool)."""
    entries: list[str | ZooModel] = [*models, *(load_zoo(zoo) if zoo is not None else [])]
    if backend is None and zoo is None:
        if address or workers:
            raise BadInput("--address and --workers need --backend (local or ray) or --models")
        return run_probes(entries, out, **options)
    return probe_on(entries, out, backend=backend or "local", address=address, workers=workers, **options)
