"""Where sweep runs execute: a local spawn-context process pool, or Ray tasks (local or a cluster).

Both take the same job list and yield `(index, result)` as runs finish, so a sweep file runs
unchanged on either.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.sweep.worker import run_one

Job = tuple[str, str]  # (config JSON, run directory)
BACKENDS = ("local", "ray")


def local_workers(jobs: int, threads: int = 1) -> int:
    """Pool size: one worker per core (each using `threads` torch threads), never more than jobs."""
    return max(1, min(jobs, (os.cpu_count() or 1) // max(1, threads)))


def run_local(jobs: list[Job], workers: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Run jobs in spawned processes (fork after torch set up its thread pool is unsafe)."""
    if not jobs:
        return
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(workers or local_workers(len(jobs)), mp_context=ctx) as pool:
        futures = {pool.submit(run_one, cfg, out): i for i, (cfg, out) in enumerate(jobs)}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()


def run_ray(jobs: list[Job], address: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Run jobs as Ray tasks (1 CPU each): join `address`, or start a small local instance."""
    try:
        import ray
    except ImportError:
        raise BadInput("--backend ray needs Ray: pip install 'behaviorlab[ray]'") from None
    if not jobs:
        return
    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
        else:
            ray.init(
                num_cpus=2,
                include_dashboard=False,
                logging_level=logging.ERROR,
                log_to_driver=False,
            )
    try:
        task = ray.remote(num_cpus=1, max_retries=1)(run_one)
        pending = {task.remote(cfg, out): i for i, (cfg, out) in enumerate(jobs)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)
    finally:
        if started:
            ray.shutdown()


def run_jobs(
    jobs: list[Job], backend: str, *, address: str | None = None, workers: int | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Dispatch to a backend by name."""
    if backend == "local":
        if address:
            raise BadInput("--address is only for --backend ray")
        return run_local(jobs, workers)
    if backend == "ray":
        return run_ray(jobs, address)
    raise BadInput(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
