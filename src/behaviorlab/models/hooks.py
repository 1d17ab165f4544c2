"""Named hook points: read or replace any activation by name, at (near) zero cost when unused.

A model places `HookPoint`s on the tensors that matter (names in CONTRIBUTING.md) and calls each with the
tensor and a `RunInfo` shared by one pass. A hook is `fn(x, ctx) -> Tensor | None`; returning a
tensor replaces the activation. `HookedMixin` gives a model `hook_names`, `add_hook` (fnmatch
globs), `remove_hooks` and the `hooks([...])` context manager.

Compiling hooks out: `model.hooks_enabled = False` swaps every HookPoint for a `NullHook` that
returns its input untouched (no list check, no context) and makes `add_hook` raise; set it back to
True to restore fresh, empty hook points. With hooks enabled and nothing attached the only cost per
point is one Python call and an empty-list test (see benchmarks/bench_models.py).
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from torch import Tensor, nn

from behaviorlab.errors import BadInput


@dataclass(frozen=True)
class HookContext:
    """What a hook sees besides the tensor: its name, decoding step and query positions."""

    name: str
    step: int | None  # decoding step; None when teacher-forced
    positions: Tensor  # [B, Tq] absolute positions of the query dim of the tensor


@dataclass(slots=True)
class RunInfo:
    """Shared by every hook point of one stack in one pass; a HookContext is built only on use."""

    step: int | None
    positions: Tensor  # [B, Tq]


HookFn = Callable[[Tensor, HookContext], "Tensor | None"]


class HookPoint(nn.Module):
    """An identity on a named activation that runs the attached hook functions in order."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self._fns: list[HookFn] = []

    @property
    def active(self) -> bool:
        """True when at least one hook function is attached."""
        return bool(self._fns)

    def forward(self, x: Tensor, run: RunInfo) -> Tensor:
        """Run attached hooks on `x`; a hook's non-None return replaces the activation."""
        if not self._fns:  # the fast path: nothing attached
            return x
        ctx = HookContext(self.name, run.step, run.positions)
        for fn in self._fns:
            out = fn(x, ctx)
            if out is not None:
                x = out
        return x

    # Skip nn.Module's call machinery (its own hooks, tracing): a hook point is on the hot path.
    __call__ = forward

    def extra_repr(self) -> str:
        return f"{self.name!r}"


class NullHook(nn.Module):
    """A compiled-out hook point: returns its input and never runs anything."""

    active = False

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def forward(self, x: Tensor, run: RunInfo) -> Tensor:
        """Identity."""
        return x

    __call__ = forward


@dataclass
class HookHandle:
    """Removes one `add_hook` registration from every point it matched."""

    points: list[HookPoint]
    fn: HookFn

    def remove(self) -> None:
        """Detach the hook function (idempotent)."""
        for p in self.points:
            if self.fn in p._fns:
                p._fns.remove(self.fn)
        self.points = []


class HookedMixin(nn.Module):
    """Hook registry over the HookPoints found in the module tree."""

    def _hook_points(self) -> list[HookPoint | NullHook]:
        return [m for m in self.modules() if isinstance(m, HookPoint | NullHook)]

    def hook_names(self) -> list[str]:
        """Every hook point name, in module order."""
        return [p.name for p in self._hook_points()]

    @property
    def hooks_enabled(self) -> bool:
        """False when hook points are compiled out (NullHook everywhere)."""
        return not any(isinstance(m, NullHook) for m in self.modules())

    @hooks_enabled.setter
    def hooks_enabled(self, on: bool) -> None:
        new = HookPoint if on else NullHook
        for parent in list(self.modules()):
            for key, child in list(parent._modules.items()):
                if isinstance(child, HookPoint | NullHook) and not isinstance(child, new):
                    parent._modules[key] = new(child.name)

    def add_hook(self, name_or_glob: str, fn: HookFn) -> HookHandle:
        """Attach `fn` to every hook point whose name matches (exact or fnmatch glob)."""
        points = self._hook_points()
        if any(isinstance(p, NullHook) for p in points):
            raise BadInput("hooks are compiled out on this model; set model.hooks_enabled = True")
        matched = [p for p in points if fnmatch.fnmatchcase(p.name, name_or_glob)]
        if not matched:
            names = [p.name for p in points]
            near = difflib.get_close_matches(name_or_glob, names, n=5, cutoff=0.4)
            hint = ", ".join(near) if near else ", ".join(names[:8]) + ", ..."
            raise BadInput(f"no hook point matches {name_or_glob!r}; near names: {hint}")
        for p in matched:
            assert isinstance(p, HookPoint)
            p._fns.append(fn)
        return HookHandle([p for p in matched if isinstance(p, HookPoint)], fn)

    def remove_hooks(self) -> None:
        """Detach every hook function from every point."""
        for p in self._hook_points():
            if isinstance(p, HookPoint):
                p._fns.clear()

    @contextmanager
    def hooks(self, pairs: Iterable[tuple[str, HookFn]]) -> Iterator[None]:
        """Attach (name_or_glob, fn) pairs for the duration of a `with` block."""
        handles: list[HookHandle] = []
        try:
            for name, fn in pairs:
                handles.append(self.add_hook(name, fn))
            yield
        finally:
            for h in handles:
                h.remove()
