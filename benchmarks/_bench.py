"""Shared by the benchmark scripts: interleaved timing with rotated order, and the profile line.

Timing is process CPU time (`time.process_time`): on a shared 2-core box wall time mostly
measures the neighbours' jobs. Contestants run in alternation and the order rotates every
repetition, so neither drift in load nor cache warmth from the previous contestant favours one.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable

from torch.profiler import ProfilerActivity, profile, record_function

Clock = Callable[[], float]
# Kernels that do the model's arithmetic: matrix multiplies and fused attention, forward and
# backward. Everything else (pointwise ops, layer norm, optimizer, allocation, Python, dispatch)
# is overhead at these sizes, the share to push down.
_MATMUL = re.compile(r"(^|::)_?(mm|bmm|addmm|baddbmm|addmm_activation|linear|matmul)$")
_ATTENTION = re.compile(r"scaled_?dot_?product|flash_?attention", re.IGNORECASE)


def race(
    fns: dict[str, Callable[[], object]], repeats: int, inner: int = 1, clock: Clock = time.process_time
) -> dict[str, tuple[float, float]]:
    """(median, min) seconds per call of each fn; one warm-up call each, then rotated rounds."""
    names = list(fns)
    for name in names:
        fns[name]()
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            t0 = clock()
            for _ in range(inner):
                fns[name]()
            times[name].append((clock() - t0) / inner)
    return {n: (statistics.median(ts), min(ts)) for n, ts in times.items()}


def is_kernel(name: str) -> bool:
    """True for profiler events that are matmul or attention kernels."""
    return bool(_MATMUL.search(name) or _ATTENTION.search(name))


def kernel_share(step: Callable[[], object], steps: int = 20) -> float:
    """Fraction of a step's profiled time spent in matmul/attention kernels (self time)."""
    for _ in range(3):  # warm-up outside the profile: allocator, lazy init, first-call dispatch
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            with record_function("bench.step"):
                step()
    events = prof.key_averages()
    total = sum(e.cpu_time_total for e in events if e.key == "bench.step")
    kernels = sum(e.self_cpu_time_total for e in events if is_kernel(e.key))
    return kernels / total if total else 0.0


def profile_line(label: str, step: Callable[[], object], steps: int = 20) -> str:
    """`profile <label>: matmul/attention X%, everything else Y%` from torch.profiler."""
    share = kernel_share(step, steps)
    return (
        f"  profile {label}: matmul/attention kernels {100 * share:.0f}%, "
        f"everything else (overhead) {100 * (1 - share):.0f}%"
    )
