"""SophiaG (drop-in for the authors' official class) and SophiaH (the later paper's clip form).

Both keep per-parameter state `step`, `exp_avg` (m) and `hessian` (h), all zero at start, and
share `update_hessian`, `stats` and the non-finite-estimate policy (see `SophiaBase`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from behaviorlab.optim._base import SophiaBase, check_betas, check_non_negative, check_positive

_EPS_G = 1e-15  # the official class's fixed epsilon


class SophiaG(SophiaBase):
    """Official Sophia-G: θ ← θ(1−lr·wd) − lr·sign(m)·min(|m|/(ρ·bs·h + 1e-15), 1).

    No bias correction. `update_hessian()` folds g⊙g of the current `.grad` into h (GNB), or an
    explicit estimate list; negative explicit entries (e.g. Hutchinson) are clamped to 0 because
    this update divides by h directly. Non-finite estimates are skipped with a RuntimeWarning and
    counted in `stats()["hessian_skipped"]`; h keeps its previous value.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.965, 0.99),
        rho: float = 0.04,
        weight_decay: float = 1e-1,
        *,
        maximize: bool = False,
        capturable: bool = False,
        track_win_rate: bool = False,
    ):
        check_positive("lr", lr)
        check_positive("rho", rho)
        check_betas(betas)
        check_non_negative("weight_decay", weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            rho=rho,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
        )
        super().__init__(params, defaults, track_win_rate)

    _clamp_estimates = True

    def _momentum(self, exp_avgs: list[Tensor], grads: list[Tensor], beta1: float) -> None:
        # mul_ then add_, exactly as the official class, so results match it bit for bit.
        torch._foreach_mul_(exp_avgs, beta1)
        torch._foreach_add_(exp_avgs, grads, alpha=1 - beta1)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None, bs: int = 5120) -> Any:
        """One update; `bs` is the batch's token count (the GNB estimate is scaled by it)."""
        return self._closure_then_step(closure, bs=bs)

    def _update_group(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        exp_avgs: list[Tensor],
        hessians: list[Tensor],
        **kwargs: Any,
    ) -> list[Tensor]:
        scale = group["rho"] * kwargs["bs"]

        def fill(denom: list[Tensor], hess: list[Tensor]) -> None:
            torch._foreach_copy_(denom, hess)
            torch._foreach_mul_(denom, scale)
            torch._foreach_add_(denom, _EPS_G)

        denom, ratio = self._denominators(params, hessians, (scale,), fill)
        # m/d clamped to [-1, 1] equals sign(m)·min(|m|/d, 1) bit for bit when d > 0 (h ≥ 0).
        torch._foreach_copy_(ratio, exp_avgs)
        torch._foreach_div_(ratio, denom)
        torch._foreach_clamp_min_(ratio, -1.0)
        torch._foreach_clamp_max_(ratio, 1.0)
        torch._foreach_add_(params, ratio, alpha=-group["lr"])
        return list(ratio)


class SophiaH(SophiaBase):
    """Sophia-H, later-paper form: θ ← θ(1−lr·wd) − lr·clip(m / max(γ·h, ε), 1); no bias correction.

    Defaults: lr=1e-4, betas=(0.965, 0.99), gamma=0.01, eps=1e-12, weight_decay=1e-1. Feed
    Hutchinson estimates with `update_hessian(h_hats)` (h ← β2·h + (1−β2)·ĥ, applied at once);
    h may go negative, where max(γ·h, ε) makes the step a full lr·sign(m). Non-finite estimates
    are skipped with a RuntimeWarning and counted in `stats()["hessian_skipped"]`.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.965, 0.99),
        gamma: float = 0.01,
        eps: float = 1e-12,
        weight_decay: float = 1e-1,
        *,
        maximize: bool = False,
        capturable: bool = False,
        track_win_rate: bool = False,
    ):
        check_positive("lr", lr)
        check_positive("gamma", gamma)
        check_positive("eps", eps)
        check_betas(betas)
        check_non_negative("weight_decay", weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            gamma=gamma,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
        )
        super().__init__(params, defaults, track_win_rate)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update with the current gradients and Hessian EMA."""
        return self._closure_then_step(closure)

    def _update_group(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        exp_avgs: list[Tensor],
        hessians: list[Tensor],
        **kwargs: Any,
    ) -> list[Tensor]:
        gamma, eps = group["gamma"], group["eps"]

        def fill(denom: list[Tensor], hess: list[Tensor]) -> None:
            torch._foreach_copy_(denom, hess)
            torch._foreach_mul_(denom, gamma)
            torch._foreach_clamp_min_(denom, eps)

        denom, ratio = self._denominators(params, hessians, (gamma, eps), fill)
        torch._foreach_copy_(ratio, exp_avgs)
        torch._foreach_div_(ratio, denom)
        torch._foreach_clamp_min_(ratio, -1.0)
        torch._foreach_clamp_max_(ratio, 1.0)
        torch._foreach_add_(params, ratio, alpha=-group["lr"])
        return list(ratio)
