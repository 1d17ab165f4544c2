"""Shared machinery of the Sophia optimizers: argument checks, state, Hessian EMA, statistics.

Everything is vectorised with `torch._foreach_*` ops; Python loops run over parameters, never
over elements.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from behaviorlab.errors import BadInput


def check_positive(name: str, value: float) -> None:
    """Raise BadInput unless `value` is a finite number > 0."""
    if not (math.isfinite(value) and value > 0):
        raise BadInput(f"{name} must be a finite number > 0, got {value!r}")


def check_non_negative(name: str, value: float) -> None:
    """Raise BadInput unless `value` is a finite number >= 0."""
    if not (math.isfinite(value) and value >= 0):
        raise BadInput(f"{name} must be a finite number >= 0, got {value!r}")


def check_betas(betas: tuple[float, float]) -> None:
    """Raise BadInput unless both betas lie in [0, 1)."""
    if len(betas) != 2:
        raise BadInput(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise BadInput(f"betas[{i}] must be in [0, 1), got {b!r}")


@dataclass(slots=True)
class _Scratch:
    """Work buffers of one parameter and what its cached denominator was computed from."""

    denom: Tensor
    ratio: Tensor
    source: Tensor | None = None
    version: int = -1
    key: tuple[float, ...] = ()


class SophiaBase(torch.optim.Optimizer):
    """Common parts of SophiaG and SophiaH; subclasses implement `_update_group`."""

    # Whether negative per-coordinate Hessian estimates are clamped to 0 before the EMA.
    _clamp_estimates = False

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any], track_win_rate: bool):
        super().__init__(params, defaults)
        self.track_win_rate = track_win_rate
        self.hessian_updates = 0
        self.hessian_skipped = 0
        self._init_runtime()

    def _init_runtime(self) -> None:
        """Attributes outside state_dict: counters, last win rate, scratch buffers."""
        # Kept as tensors so the step never forces a device sync; converted only in stats().
        self._not_clipped: Tensor | None = None
        self._coords = 0
        # Per-parameter work buffers reused across steps (not saved): allocating temporaries
        # afresh each step cost more than all the arithmetic on CPU.
        self._scratch: dict[Tensor, _Scratch] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        # Counters and the win-rate flag survive copy/pickle; scratch buffers are rebuilt.
        state.update(
            track_win_rate=self.track_win_rate,
            hessian_updates=self.hessian_updates,
            hessian_skipped=self.hessian_skipped,
        )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("capturable", False)
        for name, default in (("track_win_rate", False), ("hessian_updates", 0), ("hessian_skipped", 0)):
            self.__dict__.setdefault(name, default)
        if "_scratch" not in self.__dict__:
            self._init_runtime()

    def _denominators(
        self,
        params: list[Tensor],
        hessians: list[Tensor],
        key: tuple[float, ...],
        fill: Callable[[list[Tensor], list[Tensor]], None],
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Cached per-parameter denominators f(h) and a ratio buffer for each parameter.

        `fill(denoms, hessians)` writes f(h) in place; it runs only for parameters whose h was
        modified (tracked by the tensor's version counter) or whose hyperparameter `key` changed, so
        between Hessian refreshes a step costs no pass over h.
        """
        denoms, ratios, stale_d, stale_h, stale_s = [], [], [], [], []
        for p, h in zip(params, hessians, strict=True):
            s = self._scratch.get(p)
            if s is None or s.denom.shape != p.shape or s.denom.dtype != p.dtype:
                s = _Scratch(torch.empty_like(p), torch.empty_like(p))
                self._scratch[p] = s
            if s.source is not h or s.version != h._version or s.key != key:
                stale_d.append(s.denom)
                stale_h.append(h)
                stale_s.append(s)
            denoms.append(s.denom)
            ratios.append(s.ratio)
        if stale_d:
            fill(stale_d, stale_h)
            for s, h in zip(stale_s, stale_h, strict=True):
                s.source, s.version, s.key = h, h._version, key
        return denoms, ratios

    # ---- state -------------------------------------------------------------------------------
    def _state(self, p: Tensor, capturable: bool) -> dict[str, Any]:
        """The per-parameter state, created on first use (names as in the official class)."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = (
                torch.zeros((1,), dtype=torch.float, device=p.device) if capturable else torch.tensor(0.0)
            )
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        if "hessian" not in state:
            state["hessian"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state

    def _collect(self, group: dict[str, Any]) -> tuple[list[Tensor], ...]:
        """Parameters with a gradient, and their grads, momenta, Hessians and step counters."""
        params, grads, exp_avgs, hessians, steps = [], [], [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
            state = self._state(p, group["capturable"])
            params.append(p)
            grads.append(p.grad)
            exp_avgs.append(state["exp_avg"])
            hessians.append(state["hessian"])
            steps.append(state["step"])
        return params, grads, exp_avgs, hessians, steps

    # ---- step --------------------------------------------------------------------------------
    def _closure_then_step(self, closure: Callable[[], Any] | None, **kwargs: Any) -> Any:
        """The torch.optim step protocol: re-evaluate the loss if asked, update, return the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._step_groups(**kwargs)
        return loss

    def _step_groups(self, **kwargs: Any) -> None:
        """Run the shared prologue (step count, decay, momentum) then the subclass's update."""
        not_clipped: list[Tensor] = []
        coords = 0
        for group in self.param_groups:
            params, grads, exp_avgs, hessians, steps = self._collect(group)
            if not params:
                continue
            beta1 = group["betas"][0]
            if group["maximize"]:
                grads = list(torch._foreach_neg(grads))
            torch._foreach_add_(steps, 1)
            # Decoupled weight decay happens before the momentum update, as in the official code.
            torch._foreach_mul_(params, 1 - group["lr"] * group["weight_decay"])
            self._momentum(exp_avgs, grads, beta1)
            updates = self._update_group(group, params, exp_avgs, hessians, **kwargs)
            if self.track_win_rate:
                # |u| < 1 means the clip was not active; `updates` is dead after the step.
                torch._foreach_abs_(updates)
                not_clipped.extend((u < 1).sum() for u in updates)
                coords += sum(u.numel() for u in updates)
        if self.track_win_rate and not_clipped:
            dev = not_clipped[0].device
            self._not_clipped = torch.stack([c.to(dev) for c in not_clipped]).sum()
            self._coords = coords

    def _momentum(self, exp_avgs: list[Tensor], grads: list[Tensor], beta1: float) -> None:
        """m ← β1·m + (1−β1)·g."""
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)

    def _update_group(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        exp_avgs: list[Tensor],
        hessians: list[Tensor],
        **kwargs: Any,
    ) -> list[Tensor]:
        """Apply the clipped preconditioned update in place; return the signed ratios in [-1, 1]."""
        raise NotImplementedError

    # ---- Hessian -----------------------------------------------------------------------------
    @torch.no_grad()
    def update_hessian(
        self,
        h_hats: Sequence[Tensor | None] | None = None,
        params: Sequence[Tensor] | None = None,
    ) -> bool:
        """Fold one Hessian-diagonal estimate into h ← β2·h + (1−β2)·ĥ; return False if skipped.

        With no `h_hats` the estimate is g⊙g of the gradients now in `.grad` (the official
        SophiaG behaviour, used by the GNB estimator). Otherwise `h_hats` pairs with `params`
        (default: every parameter, in param-group order); None entries are left alone.
        A non-finite estimate (NaN/inf anywhere, including g⊙g overflow) is skipped as a whole:
        h is kept, a RuntimeWarning is issued and `hessian_skipped` is incremented.
        """
        squared = h_hats is None
        group_of = {p: g for g in self.param_groups for p in g["params"]}
        if h_hats is None:
            pairs = [(p, p.grad) for p in group_of if p.grad is not None]
        else:
            targets = list(group_of) if params is None else list(params)
            if len(targets) != len(h_hats):
                raise BadInput(f"update_hessian got {len(h_hats)} estimates for {len(targets)} parameters")
            pairs = [(p, h) for p, h in zip(targets, h_hats, strict=True) if h is not None]
        if not pairs:
            return False
        for p, est in pairs:
            if p not in group_of:
                raise BadInput(f"{type(self).__name__}.update_hessian: a parameter is not managed")
            if est.shape != p.shape:
                raise BadInput(f"Hessian estimate shape {tuple(est.shape)} != parameter {tuple(p.shape)}")
        ests = [e for _, e in pairs]
        if not self._all_finite(ests, squared):
            self.hessian_skipped += 1
            warnings.warn(
                f"{type(self).__name__}: non-finite Hessian estimate; update skipped, h kept "
                f"({self.hessian_skipped} skipped so far)",
                RuntimeWarning,
                stacklevel=2,
            )
            return False
        by_group: dict[int, tuple[float, list[Tensor], list[Tensor]]] = {}
        for p, est in pairs:
            group = group_of[p]
            entry = by_group.setdefault(id(group), (group["betas"][1], [], []))
            entry[1].append(self._state(p, group["capturable"])["hessian"])
            entry[2].append(est)
        for beta2, hs, es in by_group.values():
            torch._foreach_mul_(hs, beta2)
            if squared:
                torch._foreach_addcmul_(hs, es, es, value=1 - beta2)
            else:
                if self._clamp_estimates:
                    es = list(torch._foreach_clamp_min(es, 0.0))
                torch._foreach_add_(hs, es, alpha=1 - beta2)
        self.hessian_updates += 1
        return True

    @staticmethod
    def _all_finite(ests: list[Tensor], squared: bool) -> bool:
        """One reduction and one sync: is every entry (or its square) finite?"""
        amax = torch._foreach_norm(ests, math.inf)
        if squared:
            # Square in the estimate's own dtype: that is where g⊙g would overflow.
            amax = torch._foreach_mul(amax, amax)
        return bool(torch.isfinite(torch.stack([a.float().cpu() for a in amax])).all())

    # ---- statistics --------------------------------------------------------------------------
    @torch.no_grad()
    def stats(self) -> dict[str, float]:
        """Scalar diagnostics: step, hessian mean/max/min, update and skip counts, win rate."""
        out: dict[str, float] = {
            "hessian_updates": float(self.hessian_updates),
            "hessian_skipped": float(self.hessian_skipped),
        }
        hs = [s["hessian"] for s in self.state.values() if "hessian" in s]
        steps = [s["step"] for s in self.state.values() if "step" in s]
        if steps:
            out["step"] = float(max(float(s.max()) for s in steps))
        if hs:
            n = sum(h.numel() for h in hs)
            out["hessian_mean"] = float(sum(float(h.double().sum()) for h in hs) / max(n, 1))
            out["hessian_max"] = max(float(h.max()) for h in hs if h.numel())
            out["hessian_min"] = min(float(h.min()) for h in hs if h.numel())
        if self.track_win_rate and self._not_clipped is not None and self._coords:
            out["win_rate"] = float(self._not_clipped) / self._coords
        return out
