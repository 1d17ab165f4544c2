"""Pre-flight size checks: what a command will need — memory held at once, disk written, time —
estimated from its config before anything is allocated, against what this machine has.

Estimates are deliberately low (lower bounds: the smallest plausible bytes per example and the
fastest plausible step), so a refusal means the work certainly cannot fit; each one says the
estimate, the limit and what to lower. Memory and disk cannot be overridden; the time limit
(`BEHAVIORLAB_MAX_HOURS`, default a week of wall clock) can, with a command's `--allow-long`.
Each stage writes its own estimator from these parts (`train/budget.py`, `study`, `imitation`, …).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from behaviorlab.errors import BadInput

KiB, MiB, GiB = 1024, 1024**2, 1024**3
MAX_HOURS_ENV = "BEHAVIORLAB_MAX_HOURS"
DEFAULT_MAX_HOURS = 7 * 24.0
# A worker process with torch imported, before it holds any model (measured RSS: ~230 MB).
WORKER_BYTES = 200 * MiB
# Bytes a run directory holds besides checkpoints and data (config, env, summary, metrics, …).
RUN_FILES_BYTES = 16 * KiB


@dataclass(frozen=True)
class Need:
    """What some work needs: bytes in memory at once, bytes on disk, seconds of wall clock."""

    memory: float = 0.0
    disk: float = 0.0
    seconds: float = 0.0
    parts: tuple[str, ...] = field(default=())  # what the estimate counts, for the message

    def __add__(self, other: Need) -> Need:
        """Work done one after the other: memory is the larger, disk and time add up."""
        return Need(
            max(self.memory, other.memory),
            self.disk + other.disk,
            self.seconds + other.seconds,
            self.parts + other.parts,
        )

    def times(self, n: float, parallel: int = 1) -> Need:
        """`n` such pieces of work, `parallel` at a time."""
        par = max(1, min(parallel, int(n) if n >= 1 else 1))
        return Need(self.memory * par, self.disk * n, self.seconds * n / par, self.parts)

    def with_memory(self, extra: float) -> Need:
        """The same work holding `extra` more bytes throughout."""
        return Need(self.memory + extra, self.disk, self.seconds, self.parts)


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo, capped by a cgroup v2 limit; None where neither exists."""
    free = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) * 1024
    except OSError:
        return None
    try:  # a container's own limit can be far below the host's free memory
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max" and free is not None:
            used = int(Path("/sys/fs/cgroup/memory.current").read_text())
            free = min(free, int(limit) - used)
    except (OSError, ValueError):
        pass
    return free


def free_disk(path: Path) -> int | None:
    """Free bytes on the file system that holds `path` (or its nearest existing parent)."""
    where = next((p for p in (path, *path.absolute().parents) if p.exists()), None)
    if where is None:
        return None
    try:
        return shutil.disk_usage(where).free
    except OSError:
        return None


def max_seconds() -> float:
    """The wall-clock limit a command may plan for without --allow-long."""
    raw = os.environ.get(MAX_HOURS_ENV, "")
    try:
        hours = float(raw) if raw else DEFAULT_MAX_HOURS
    except ValueError:
        raise BadInput(f"${MAX_HOURS_ENV}={raw!r}: expected a number of hours") from None
    return max(0.0, hours) * 3600


def size(n: float) -> str:
    """Bytes as a short human figure (1.2 GiB)."""
    units = (("EiB", 1024**6), ("PiB", 1024**5), ("TiB", 1024**4), ("GiB", GiB), ("MiB", MiB), ("KiB", KiB))
    for unit, scale in units:
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def duration(seconds: float) -> str:
    """Seconds as a short human figure (3.5 days)."""
    for unit, scale in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.2g} s"


def require(
    what: str, need: Need, *, out: Path | None = None, hint: str = "", allow_long: bool = False
) -> None:
    """Refuse, in one line, work that cannot fit: memory, disk (at `out`), then time."""
    lower = f"; {hint}" if hint else ""
    counted = f" ({', '.join(need.parts)})" if need.parts else ""
    free = available_memory()
    if free is not None and need.memory > free:
        raise BadInput(
            f"{what}: needs at least {size(need.memory)} of memory{counted}, {size(free)} available{lower}"
        )
    disk = free_disk(out) if out is not None else None
    if disk is not None and need.disk > disk:
        raise BadInput(
            f"{out}: {what} needs at least {size(need.disk)} of disk{counted}, {size(disk)} free{lower}"
        )
    limit = max_seconds()
    if not allow_long and need.seconds > limit:
        raise BadInput(
            f"{what}: would take at least {duration(need.seconds)}{counted}, over the limit of "
            f"{duration(limit)} (${MAX_HOURS_ENV}){lower}, or pass --allow-long"
        )
