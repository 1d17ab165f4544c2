"""Where many jobs execute: a local spawn-context process pool, or Ray tasks (local or a cluster).

Both run `fn(*job, updates=...)` for every job and yield `(index, result)` as jobs finish, so a
sweep, the demo or a study runs unchanged on either. `updates` is a queue a job may `put`
progress messages on (None when nobody listens); `on_update` receives them in this process.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import ExitStack
from multiprocessing.managers import SyncManager
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.jobs import Job, OnUpdate
from behaviorlab.limits import WORKER_BYTES, Need, require
from behaviorlab.workers import die_with_parent

BACKENDS = ("local", "ray")
POLL_SECONDS = 0.2


def local_workers(jobs: int, threads: int = 1) -> int:
    """Pool size: one worker per core (each using `threads` torch threads), never more than jobs."""
    return max(1, min(jobs, (os.cpu_count() or 1) // max(1, threads)))


def _drain(q: Any, on_update: OnUpdate | None) -> None:
    while on_update is not None:
        try:
            on_update(q.get_nowait())
        except queue.Empty:
            return


def run_local(
    fn: Callable[..., Any], jobs: list[Job], workers: int | None = None, on_update: OnUpdate | None = None
) -> Iterator[tuple[int, Any]]:
    """Run jobs in spawned processes (fork after torch set up its thread pool is unsafe)."""
    if not jobs:
        return
    if workers is not None and workers < 1:
        raise BadInput(f"--workers must be at least 1; got {workers}")
    ctx = mp.get_context("spawn")
    parent = (os.getpid(),)  # every process this starts dies with this one (workers.py)
    with ExitStack() as stack:
        updates = None
        if on_update is not None:
            manager = SyncManager(ctx=ctx)
            manager.start(die_with_parent, parent)
            stack.enter_context(manager)
            updates = manager.Queue()
        n = workers or local_workers(len(jobs))
        pool = stack.enter_context(
            ProcessPoolExecutor(n, mp_context=ctx, initializer=die_with_parent, initargs=parent)
        )
        pending = {pool.submit(fn, *job, updates=updates): i for i, job in enumerate(jobs)}
        while pending:
            done, _ = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            _drain(updates, on_update)
            for fut in done:
                yield pending.pop(fut), fut.result()


def run_ray(
    fn: Callable[..., Any], jobs: list[Job], address: str | None = None, on_update: OnUpdate | None = None
) -> Iterator[tuple[int, Any]]:
    """Run jobs as Ray tasks (1 CPU each): join `address`, or start a small local instance."""
    try:
        import ray
        from ray.util.queue import Queue
    except ImportError:
        raise BadInput("--backend ray needs Ray: pip install 'behaviorlab[ray]'") from None
    if not jobs:
        return
    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
        else:
            ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    try:
        updates = Queue() if on_update is not None else None
        task = ray.remote(num_cpus=1, max_retries=1)(fn)
        pending = {task.remote(*job, updates=updates): i for i, job in enumerate(jobs)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
            _drain(updates, on_update)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)
    finally:
        if started:
            ray.shutdown()


def check_backend(backend: str, address: str | None = None, workers: int | None = None) -> None:
    """Refuse an unknown backend or meaningless options before anything starts."""
    if backend not in BACKENDS:
        raise BadInput(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend == "local" and address:
        raise BadInput("--address is only for --backend ray")
    if workers is not None and workers < 1:
        raise BadInput(f"--workers must be at least 1; got {workers}")
    if workers is not None:  # each worker is a process with torch loaded, before any model
        require("--workers", Need(memory=workers * WORKER_BYTES, parts=(f"{workers:,} processes",)))


def run_jobs(
    fn: Callable[..., Any],
    jobs: list[Job],
    backend: str,
    *,
    address: str | None = None,
    workers: int | None = None,
    on_update: OnUpdate | None = None,
) -> Iterator[tuple[int, Any]]:
    """Dispatch to a backend by name; yields (job index, result) as jobs finish."""
    check_backend(backend, address, workers)
    if backend == "local":
        return run_local(fn, jobs, workers, on_update)
    return run_ray(fn, jobs, address, on_update)
