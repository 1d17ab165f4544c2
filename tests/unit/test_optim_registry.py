"""Optimizer registry: config resolution, factories, step kwargs, stats, a tiny training loop."""

from __future__ import annotations

import pydantic
import pytest
import torch
import torch.nn.functional as F

from behaviorlab.optim import (
    GNBEstimator,
    HutchinsonEstimator,
    OptimConfig,
    SophiaG,
    SophiaH,
    build_estimator,
    build_optimizer,
    optimizer_stats,
    step_kwargs,
)
from behaviorlab.optim.registry import names


def test_names() -> None:
    assert names() == ["adamw", "sophia-g", "sophia-h"]


@pytest.mark.parametrize(
    ("name", "cls", "betas"),
    [
        ("adamw", torch.optim.AdamW, (0.9, 0.999)),
        ("sophia-g", SophiaG, (0.965, 0.99)),
        ("sophia-h", SophiaH, (0.965, 0.99)),
    ],
)
def test_build_each_with_default_betas(name: str, cls: type, betas: tuple[float, float]) -> None:
    opt = build_optimizer(OptimConfig(name=name, lr=3e-4), [torch.nn.Parameter(torch.ones(2))])
    assert type(opt) is cls
    assert opt.param_groups[0]["betas"] == betas and opt.param_groups[0]["lr"] == 3e-4


def test_explicit_hyperparameters_are_passed_through() -> None:
    p = [torch.nn.Parameter(torch.ones(2))]
    cfg = OptimConfig(name="sophia-g", betas=(0.5, 0.6), rho=0.1, weight_decay=0.2)
    g = build_optimizer(cfg, p)
    assert g.param_groups[0]["betas"] == (0.5, 0.6) and g.param_groups[0]["rho"] == 0.1
    assert g.param_groups[0]["weight_decay"] == 0.2
    h = build_optimizer(OptimConfig(name="sophia-h", gamma=0.05, eps=1e-12), p)
    assert h.param_groups[0]["gamma"] == 0.05 and h.param_groups[0]["eps"] == 1e-12


def test_estimator_resolution() -> None:
    assert build_estimator(OptimConfig()) is None
    gnb = build_estimator(OptimConfig(name="sophia-g", hessian_every=5))
    assert isinstance(gnb, GNBEstimator) and gnb.every == 5
    hut = build_estimator(OptimConfig(name="sophia-h", probe="gaussian"))
    assert isinstance(hut, HutchinsonEstimator) and hut.probe == "gaussian"
    assert isinstance(
        build_estimator(OptimConfig(name="sophia-g", estimator="hutchinson")), HutchinsonEstimator
    )


def test_step_kwargs() -> None:
    assert step_kwargs(OptimConfig(name="sophia-g"), 321) == {"bs": 321}
    assert step_kwargs(OptimConfig(name="sophia-g", bs=5120), 321) == {"bs": 5120}
    assert step_kwargs(OptimConfig(name="sophia-h"), 321) == {}
    assert step_kwargs(OptimConfig(), 321) == {}


@pytest.mark.parametrize(
    "bad",
    [{"name": "sgd"}, {"lr": 0.0}, {"momentum": 0.9}, {"hessian_every": 0}, {"bs": 0}],
)
def test_bad_config_is_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        OptimConfig(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["adamw", "sophia-g", "sophia-h"])
def test_tiny_training_loop_reduces_loss(name: str) -> None:
    """The loop the trainer runs: step with step_kwargs, estimator when due, stats after."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 6, generator=gen)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    model = torch.nn.Linear(6, 3)
    cfg = OptimConfig(name=name, lr=0.05, hessian_every=2, rho=0.05, weight_decay=0.0)
    opt, est = build_optimizer(cfg, model.parameters()), build_estimator(cfg)
    params = list(model.parameters())
    losses = []
    for step in range(30):
        loss = F.cross_entropy(model(x), y)
        losses.append(float(loss.detach()))
        loss.backward()
        opt.step(**step_kwargs(cfg, n_tokens=len(y)))
        opt.zero_grad(set_to_none=True)
        if est is not None and est.due(step):
            est.update(opt, params, lambda: (model(x), y), gen)
    assert losses[-1] < 0.7 * losses[0]
    stats = optimizer_stats(opt)
    if name == "adamw":
        assert stats == {}
    else:
        assert stats["hessian_updates"] == 15 and stats["hessian_mean"] > 0 and stats["step"] == 30


def test_adamw_is_fused_by_default_and_the_knob_falls_back() -> None:
    p = [torch.nn.Parameter(torch.ones(2))]
    assert build_optimizer(OptimConfig(), p).param_groups[0]["fused"] is True
    assert not build_optimizer(OptimConfig(fused=False), p).param_groups[0]["fused"]


def test_fused_and_looped_adamw_agree_to_rounding() -> None:
    """Same algorithm, different kernel: equal to float rounding, not bitwise."""
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 6, generator=gen), torch.randn(32, 3, generator=gen)
    weights = []
    for fused in (True, False):
        model = torch.nn.Linear(6, 3)
        torch.nn.init.constant_(model.weight, 0.1)
        torch.nn.init.zeros_(model.bias)
        opt = build_optimizer(OptimConfig(lr=0.01, fused=fused), model.parameters())
        for _ in range(20):
            F.mse_loss(model(x), y).backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        weights.append(model.weight.detach().clone())
    torch.testing.assert_close(weights[0], weights[1], rtol=1e-5, atol=1e-6)
