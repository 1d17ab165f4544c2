"""The training forward, optionally through torch.compile, and the wall time spent compiling."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import Tensor, nn


def _graphs() -> int:
    """Graphs dynamo has compiled so far in this process."""
    # Imported here, not at the top: the compiler stack costs ~1.5 CPU-s to import, and every
    # command that opens a run imports this module.
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


class CompiledForward:
    """`forward(src, tgt_in)` of a model, compiled when enabled; `seconds` sums compiling steps.

    dynamic=True compiles one graph for every batch length (batches are trimmed to their longest
    row), so the kernels do not depend on which lengths came first: a resumed run compiles the
    same graph as an uninterrupted one. Only a length of 1 gets a graph of its own (dynamo
    specializes sizes 0 and 1), again fixed by the shape, not by the order.
    """

    def __init__(self, model: nn.Module, enabled: bool) -> None:
        self.enabled = enabled
        self.forward: Callable[[Tensor, Tensor], Tensor] = (
            torch.compile(model, dynamic=True) if enabled else model
        )
        self.seconds = 0.0
        self._t0, self._seen = 0.0, 0

    def start(self) -> None:
        """Call before the step's forward."""
        if self.enabled:
            self._t0, self._seen = time.perf_counter(), _graphs()

    def stop(self) -> None:
        """Call after the step's backward (inductor compiles the backward lazily, on first use)."""
        # A step that compiled counts whole: compiling takes seconds, the step's own work ~20 ms.
        if self.enabled and _graphs() != self._seen:
            self.seconds += time.perf_counter() - self._t0

    def summary(self) -> float | None:
        """Seconds spent in compiling steps this session (None when not compiled)."""
        return round(self.seconds, 3) if self.enabled else None
