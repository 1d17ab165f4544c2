"""Optimizers: AdamW and Sophia (G and H), their curvature estimators, and a config registry."""

from behaviorlab.optim.estimators import (
    GNBEstimator,
    HessianEstimator,
    HutchinsonEstimator,
    hutchinson_diag,
    hvp_safe_attention,
    probe_like,
)
from behaviorlab.optim.registry import (
    OptimConfig,
    build_estimator,
    build_optimizer,
    names,
    optimizer_stats,
    step_kwargs,
)
from behaviorlab.optim.sophia import SophiaG, SophiaH

__all__ = [
    "GNBEstimator",
    "HessianEstimator",
    "HutchinsonEstimator",
    "OptimConfig",
    "SophiaG",
    "SophiaH",
    "build_estimator",
    "build_optimizer",
    "hutchinson_diag",
    "hvp_safe_attention",
    "names",
    "optimizer_stats",
    "probe_like",
    "step_kwargs",
]
