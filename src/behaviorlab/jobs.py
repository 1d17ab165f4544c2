"""Jobs: the picklable arguments of one call, and the runner type a stage hands its jobs to.

A runner calls `fn(*job)` for every job (the sweep backends add `updates=`, a queue a job may put
progress messages on) and yields `(index, result)` as jobs finish. The sweep stage supplies the
process-pool and Ray runners; `in_process` runs jobs here, one after another (tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Job = tuple[Any, ...]  # the picklable positional arguments of one call
OnUpdate = Callable[[Any], None]
Runner = Callable[[Callable[..., Any], list[Job], OnUpdate | None], Iterator[tuple[int, Any]]]


def in_process(
    fn: Callable[..., Any], jobs: list[Job], on_update: OnUpdate | None = None
) -> Iterator[tuple[int, Any]]:
    """A runner that runs jobs one after another in this process (no worker processes)."""
    for i, job in enumerate(jobs):
        yield i, fn(*job)
