"""Bad input to the Sophia optimizers, and the non-finite Hessian-estimate policy."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from behaviorlab.optim import SophiaG, SophiaH


def _p() -> list[torch.nn.Parameter]:
    return [torch.nn.Parameter(torch.ones(3))]


@pytest.mark.parametrize(
    ("cls", "kwargs", "name"),
    [
        (SophiaG, {"lr": 0.0}, "lr"),
        (SophiaG, {"lr": -1e-3}, "lr"),
        (SophiaH, {"lr": float("nan")}, "lr"),
        (SophiaG, {"rho": 0.0}, "rho"),
        (SophiaH, {"gamma": -0.1}, "gamma"),
        (SophiaH, {"eps": 0.0}, "eps"),
        (SophiaG, {"betas": (1.0, 0.99)}, r"betas\[0\]"),
        (SophiaH, {"betas": (0.9, -0.1)}, r"betas\[1\]"),
        (SophiaG, {"weight_decay": -0.1}, "weight_decay"),
    ],
)
def test_bad_hyperparameters_raise_naming_the_argument(cls: type, kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        cls(_p(), **kwargs)


@pytest.mark.parametrize("cls", [SophiaG, SophiaH])
def test_sparse_gradient_raises_naming_the_optimizer(cls: type) -> None:
    emb = torch.nn.Embedding(5, 2, sparse=True)
    emb(torch.tensor([1, 3])).sum().backward()
    opt = cls(emb.parameters())
    with pytest.raises(RuntimeError, match=cls.__name__):
        opt.step()


def test_nonfinite_estimate_is_skipped_and_counted() -> None:
    params = _p()
    opt = SophiaH(params, betas=(0.9, 0.5))
    assert opt.update_hessian([torch.tensor([1.0, 2.0, 3.0])])
    kept = opt.state[params[0]]["hessian"].clone()
    with pytest.warns(RuntimeWarning, match="skipped"):
        assert not opt.update_hessian([torch.tensor([1.0, float("nan"), 3.0])])
    with pytest.warns(RuntimeWarning, match="skipped"):
        assert not opt.update_hessian([torch.tensor([float("inf"), 0.0, 0.0])])
    assert torch.equal(opt.state[params[0]]["hessian"], kept)
    stats = opt.stats()
    assert stats["hessian_skipped"] == 2 and stats["hessian_updates"] == 1


def test_squared_gradient_overflow_is_skipped() -> None:
    params = _p()
    opt = SophiaG(params)
    params[0].grad = torch.tensor([1e30, 0.0, 1.0])  # finite, but g⊙g overflows float32
    with pytest.warns(RuntimeWarning, match="SophiaG"):
        assert not opt.update_hessian()
    assert torch.equal(opt.state[params[0]].get("hessian", torch.zeros(3)), torch.zeros(3))
    assert opt.stats()["hessian_skipped"] == 1


def test_estimate_list_must_match_parameters() -> None:
    params = _p()
    opt = SophiaH(params)
    with pytest.raises(ValueError, match="2 estimates for 1"):
        opt.update_hessian([torch.ones(3), torch.ones(3)])
    with pytest.raises(ValueError, match="shape"):
        opt.update_hessian([torch.ones(4)])
    with pytest.raises(ValueError, match="not managed"):
        opt.update_hessian([torch.ones(3)], params=[torch.nn.Parameter(torch.ones(3))])


def test_sophiag_clamps_negative_explicit_estimates() -> None:
    params = _p()
    opt = SophiaG(params, betas=(0.9, 0.0))
    opt.update_hessian([torch.tensor([-1.0, 2.0, -0.0])])
    assert torch.equal(opt.state[params[0]]["hessian"], torch.tensor([0.0, 2.0, 0.0]))
