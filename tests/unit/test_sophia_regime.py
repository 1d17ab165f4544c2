"""Sophia in its regime: the official rho / batch-size convention on a hand-computed case, and the
win-rate warning that fires only when the rate stays out of the 0.1-0.5 band, naming the knob."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch

from behaviorlab.optim import OptimConfig, SophiaG, SophiaH, step_kwargs
from behaviorlab.train.phases import WIN_RATE_PATIENCE, LoopState, warn_win_rate


def test_rho_times_tokens_in_batch_matches_the_official_formula() -> None:
    # Official step: p ← p(1 − lr·wd); ratio = min(|m| / (rho·bs·h + 1e-15), 1); p ← p − lr·sign(m)·ratio,
    # with bs = batch_size × block_size (tokens per batch). By hand, rho = 0.05 and a 4 × 6 batch:
    # rho·bs = 1.2; h = g_h² = [0.01, 1, 4] (beta2 = 0) → thresholds [0.012, 1.2, 4.8];
    # m = g = [0.006, −0.6, 12] (beta1 = 0) → ratios [0.5, 0.5, 1 (clipped from 2.5)];
    # lr 0.1, wd 0.5: p = [1, −1, 0.5]·0.95 − 0.1·[0.5, −0.5, 1] = [0.9, −0.9, 0.375].
    p = torch.nn.Parameter(torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64))
    opt = SophiaG([p], lr=0.1, betas=(0.0, 0.0), rho=0.05, weight_decay=0.5, track_win_rate=True)
    p.grad = torch.tensor([0.1, 1.0, 2.0], dtype=torch.float64)
    opt.update_hessian()
    p.grad = torch.tensor([0.006, -0.6, 12.0], dtype=torch.float64)
    opt.step(bs=4 * 6)
    torch.testing.assert_close(p.detach(), torch.tensor([0.9, -0.9, 0.375], dtype=torch.float64))
    assert opt.stats()["win_rate"] == pytest.approx(2 / 3)  # two coordinates not clipped


def test_the_loop_passes_tokens_per_batch_as_bs() -> None:
    cfg = OptimConfig(name="sophia-g", rho=0.05)
    assert step_kwargs(cfg, n_tokens=16 * 129) == {"bs": 16 * 129}
    assert step_kwargs(OptimConfig(name="sophia-g", bs=480 * 1024), n_tokens=7) == {"bs": 480 * 1024}
    assert step_kwargs(OptimConfig(name="sophia-h"), n_tokens=7) == {}
    assert step_kwargs(OptimConfig(name="adamw"), n_tokens=7) == {}


class _Fake(torch.optim.Optimizer):
    """An optimizer whose win rate is set by hand."""

    def __init__(self, knob: str) -> None:
        super().__init__([torch.nn.Parameter(torch.zeros(1))], {knob: 0.05})
        self.win = 0.3

    def stats(self) -> dict[str, float]:
        return {"win_rate": self.win}


def _feed(opt: _Fake, st: LoopState, rates: list[float]) -> list[str]:
    out: list[Any] = []
    for r in rates:
        opt.win = r
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warn_win_rate(opt, st)
        out += [str(w.message) for w in caught]
    return out


@pytest.mark.parametrize("knob", ["rho", "gamma"])
def test_warning_waits_for_a_long_excursion_and_names_the_knob(knob: str) -> None:
    st, opt = LoopState(), _Fake(knob)
    assert _feed(opt, st, [0.05] * (WIN_RATE_PATIENCE - 1) + [0.3]) == []  # short: no warning
    low = _feed(opt, st, [0.05] * (WIN_RATE_PATIENCE + 3))  # long: one warning, not one per step
    assert len(low) == 1 and f"raise {knob} (now 0.05)" in low[0]
    high = _feed(opt, st, [0.3, *[0.8] * WIN_RATE_PATIENCE])
    assert len(high) == 1 and f"lower {knob}" in high[0]


def test_raising_either_knob_raises_the_win_rate() -> None:
    # The hint's direction, checked on the optimizers: a larger rho/gamma clips fewer coordinates.
    g = torch.Generator().manual_seed(0)
    grads, hess = torch.randn(1000, generator=g), torch.randn(1000, generator=g)

    def win(cls: type, **kw: float) -> float:
        p = torch.nn.Parameter(torch.zeros(1000))
        opt = cls([p], betas=(0.0, 0.0), track_win_rate=True, **kw)
        p.grad = hess.clone()
        opt.update_hessian() if cls is SophiaG else opt.update_hessian([hess.abs()])
        p.grad = grads.clone()
        opt.step(bs=10) if cls is SophiaG else opt.step()
        return float(opt.stats()["win_rate"])

    assert win(SophiaG, rho=0.01) < win(SophiaG, rho=0.1) < win(SophiaG, rho=1.0)
    assert win(SophiaH, gamma=0.1) < win(SophiaH, gamma=1.0) < win(SophiaH, gamma=10.0)
