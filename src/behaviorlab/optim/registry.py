"""One config for every optimizer the lab trains with, and the factories that read it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, get_args

import pydantic
import torch
from pydantic import Field

from behaviorlab.optim.estimators import GNBEstimator, HessianEstimator, HutchinsonEstimator
from behaviorlab.optim.sophia import SophiaG, SophiaH
from behaviorlab.validate import Strict

OptimName = Literal["adamw", "sophia-g", "sophia-h"]
_SOPHIA_BETAS = (0.965, 0.99)
_ADAMW_BETAS = (0.9, 0.999)


class OptimConfig(Strict):
    """Optimizer choice and hyperparameters; `betas` and `estimator` default per optimizer."""

    name: OptimName = "adamw"
    lr: float = Field(1e-3, gt=0)
    # None → (0.9, 0.999) for AdamW, Sophia's (0.965, 0.99) otherwise; see resolved_betas().
    betas: tuple[float, float] | None = None
    weight_decay: float = Field(0.01, ge=0)
    eps: float = Field(1e-8, gt=0)  # AdamW's epsilon; SophiaH's floor on γ·h
    rho: float = Field(0.04, gt=0)  # SophiaG
    gamma: float = Field(0.01, gt=0)  # SophiaH
    hessian_every: int = Field(10, ge=1)
    # None → "gnb" for sophia-g, "hutchinson" for sophia-h; see resolved_estimator().
    estimator: Literal["gnb", "hutchinson"] | None = None
    probe: Literal["rademacher", "gaussian"] = "rademacher"
    # Tokens per batch for SophiaG's ρ·bs·h; None → the loop passes the batch's token count.
    bs: int | None = Field(None, ge=1)
    # AdamW only: torch's fused CPU kernel (one pass over all tensors, ~3x faster step than the
    # per-tensor loop), bit-identical run to run on one machine; false restores the loop.
    fused: bool = True

    @pydantic.field_validator("betas", mode="before")
    @classmethod
    def _betas_from_list(cls, v: object) -> object:
        return tuple(v) if isinstance(v, list) else v  # TOML writes a pair as an array

    def resolved_betas(self) -> tuple[float, float]:
        """The betas actually used."""
        if self.betas is not None:
            return self.betas
        return _ADAMW_BETAS if self.name == "adamw" else _SOPHIA_BETAS

    def resolved_estimator(self) -> Literal["gnb", "hutchinson"] | None:
        """The curvature estimator actually used (None for AdamW)."""
        if self.name == "adamw":
            return None
        if self.estimator is not None:
            return self.estimator
        return "gnb" if self.name == "sophia-g" else "hutchinson"


def names() -> list[str]:
    """Registered optimizer names."""
    return list(get_args(OptimName))


def build_optimizer(cfg: OptimConfig, params: Iterable[Any]) -> torch.optim.Optimizer:
    """Instantiate the configured optimizer over `params`."""
    betas = cfg.resolved_betas()
    if cfg.name == "sophia-g":
        return SophiaG(params, lr=cfg.lr, betas=betas, rho=cfg.rho, weight_decay=cfg.weight_decay)
    if cfg.name == "sophia-h":
        return SophiaH(
            params,
            lr=cfg.lr,
            betas=betas,
            gamma=cfg.gamma,
            eps=cfg.eps,
            weight_decay=cfg.weight_decay,
        )
    return torch.optim.AdamW(
        params, lr=cfg.lr, betas=betas, eps=cfg.eps, weight_decay=cfg.weight_decay, fused=cfg.fused
    )


def build_estimator(cfg: OptimConfig) -> HessianEstimator | None:
    """The curvature estimator for a Sophia config; None for AdamW."""
    kind = cfg.resolved_estimator()
    if kind == "gnb":
        return GNBEstimator(every=cfg.hessian_every)
    if kind == "hutchinson":
        return HutchinsonEstimator(every=cfg.hessian_every, probe=cfg.probe)
    return None


def step_kwargs(cfg: OptimConfig, n_tokens: int) -> dict[str, Any]:
    """Extra keyword arguments for `optimizer.step` ({"bs": …} for SophiaG, else {})."""
    if cfg.name == "sophia-g":
        return {"bs": cfg.bs if cfg.bs is not None else n_tokens}
    return {}


def optimizer_stats(opt: torch.optim.Optimizer) -> dict[str, float]:
    """The optimizer's scalar diagnostics ({} for optimizers without any)."""
    stats = getattr(opt, "stats", None)
    return dict(stats()) if callable(stats) else {}
