"""SophiaG / SophiaH update rules: hand-computed steps, invariants, reference parity, resume."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from behaviorlab.optim import SophiaG, SophiaH

LR, WD = 0.1, 0.2


def _param(values: list[float]) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.tensor(values))


def test_zero_hessian_step_is_signed_lr_after_decay() -> None:
    p = _param([1.0, -2.0, 3.0, 0.5])
    opt = SophiaG([p], lr=LR, weight_decay=WD)
    p.grad = torch.tensor([0.3, -1e-6, 0.0, -4.0])
    opt.step(bs=7)
    decayed = torch.tensor([1.0, -2.0, 3.0, 0.5]) * (1 - LR * WD)
    expected = decayed - LR * torch.tensor([1.0, -1.0, 0.0, -1.0])
    torch.testing.assert_close(p.detach(), expected, rtol=0, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    rho=st.floats(1e-4, 10.0),
    bs=st.integers(1, 10_000),
    scale=st.floats(1e-6, 1e3),
)
def test_update_never_exceeds_lr(seed: int, rho: float, bs: int, scale: float) -> None:
    g = torch.Generator().manual_seed(seed)
    p = torch.nn.Parameter(torch.randn(16, generator=g))
    opt = SophiaG([p], lr=LR, rho=rho, weight_decay=0.0)
    for i in range(4):
        p.grad = torch.randn(16, generator=g) * scale
        if i % 2 == 0:
            opt.update_hessian()
        before = p.detach().clone()
        opt.step(bs=bs)
        assert float((p.detach() - before).abs().max()) <= LR * (1 + 1e-6)


@pytest.mark.parametrize("cls", [SophiaG, SophiaH])
def test_weight_decay_is_decoupled(cls: type) -> None:
    p = _param([1.0, -3.0, 0.25])
    opt = cls([p], lr=LR, weight_decay=WD)
    p.grad = torch.zeros(3)
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([1.0, -3.0, 0.25]) * (1 - LR * WD))


def test_hessian_is_beta2_average_of_squared_grads() -> None:
    p = _param([0.0, 0.0, 0.0])
    beta2 = 0.7
    opt = SophiaG([p], betas=(0.9, beta2))
    expected = torch.zeros(3)
    for g in ([1.0, -2.0, 0.5], [3.0, 0.0, -1.0], [-0.5, 4.0, 2.0]):
        p.grad = torch.tensor(g)
        assert opt.update_hessian()
        expected = beta2 * expected + (1 - beta2) * p.grad**2
    torch.testing.assert_close(opt.state[p]["hessian"], expected)
    assert torch.equal(p.detach(), torch.zeros(3))  # update_hessian never moves parameters
    assert opt.stats()["hessian_updates"] == 3


def test_bs_scaling_equals_folding_bs_into_h() -> None:
    b = 64
    grad, hess = torch.tensor([0.02, -0.5, 1e-4, 0.3]), torch.tensor([0.5, 0.01, 2.0, 1e-3])
    results = []
    for bs, h in ((b, hess), (1, hess * b)):
        p = _param([1.0, 1.0, 1.0, 1.0])
        opt = SophiaG([p], lr=LR, betas=(0.0, 0.0), rho=0.04)
        opt.update_hessian([h])  # β2 = 0 → h = ĥ
        p.grad = grad.clone()
        opt.step(bs=bs)
        results.append(p.detach().clone())
    torch.testing.assert_close(results[0], results[1], rtol=1e-6, atol=1e-8)
    moved = (torch.ones(4) * (1 - LR * 0.1) - results[0]).abs()
    assert moved[0] < LR / 10 and moved[1] == pytest.approx(LR)  # one unclipped, one clipped


@pytest.mark.parametrize("cls", [SophiaG, SophiaH])
def test_maximize_flips_direction(cls: type) -> None:
    p_max, p_min = _param([0.0, 0.0]), _param([0.0, 0.0])
    opt_max, opt_min = cls([p_max], lr=LR, maximize=True), cls([p_min], lr=LR)
    p_max.grad, p_min.grad = torch.tensor([1.0, -2.0]), torch.tensor([-1.0, 2.0])
    opt_max.step()
    opt_min.step()
    assert torch.equal(p_max.detach(), p_min.detach())
    assert p_max[0] > 0 and p_max[1] < 0  # ascends along the gradient


def test_sophiah_clip_form_by_hand() -> None:
    p = _param([0.0, 0.0, 0.0, 0.0])
    opt = SophiaH([p], lr=LR, betas=(0.0, 0.0), gamma=0.01, eps=1e-12, weight_decay=0.0, track_win_rate=True)
    opt.update_hessian([torch.tensor([100.0, 0.1, -5.0, 0.0])])  # β2 = 0 → h = ĥ
    p.grad = torch.tensor([0.5, -2e-3, 1e-3, 0.0])
    opt.step()
    # γh = [1, 1e-3, -0.05, 0] → max(·, ε) → m/d = [0.5, -2, 1e9, 0] → clip → [0.5, -1, 1, 0]
    torch.testing.assert_close(p.detach(), -LR * torch.tensor([0.5, -1.0, 1.0, 0.0]))
    stats = opt.stats()
    assert stats["win_rate"] == 0.5
    assert stats["hessian_min"] == -5.0 and stats["hessian_max"] == 100.0
    assert stats["hessian_mean"] == pytest.approx((100.0 + 0.1 - 5.0) / 4)


def test_win_rate_only_when_tracked() -> None:
    p = _param([1.0, 2.0])
    opt = SophiaG([p])
    p.grad = torch.ones(2)
    opt.step()
    assert "win_rate" not in opt.stats()
    opt.track_win_rate = True
    opt.step()
    assert opt.stats()["win_rate"] == 0.0  # h = 0: every coordinate is clipped


# ---- reference parity and resume ------------------------------------------------------------
def _reference_sophiag(params, grads_seq, hess_every, groups, bs):  # type: ignore[no-untyped-def]
    """Straightforward per-parameter SophiaG written from sophia.md."""
    state = [{"m": torch.zeros_like(p), "h": torch.zeros_like(p)} for p in params]
    for t, grads in enumerate(grads_seq):
        for p, g, s, hp in zip(params, grads, state, groups, strict=True):
            lr, (b1, _), rho, wd = hp
            p.mul_(1 - lr * wd)
            s["m"].mul_(b1).add_(g, alpha=1 - b1)
            ratio = (s["m"].abs() / (rho * bs * s["h"] + 1e-15)).clamp(None, 1)
            p.addcmul_(s["m"].sign(), ratio, value=-lr)
        if t % hess_every == hess_every - 1:
            for g, s, hp in zip(grads, state, groups, strict=True):
                b2 = hp[1][1]
                s["h"].mul_(b2).addcmul_(g, g, value=1 - b2)
    return params


def test_matches_per_parameter_reference_over_20_steps() -> None:
    gen = torch.Generator().manual_seed(0)
    shapes = [(5, 3), (7,), (2, 2, 2)]
    init = [torch.randn(s, generator=gen) for s in shapes]
    grads_seq = [[torch.randn(s, generator=gen) * 0.1 for s in shapes] for _ in range(20)]
    hp_a, hp_b = (1e-2, (0.9, 0.95), 0.05, 0.1), (3e-3, (0.8, 0.99), 0.02, 0.0)
    ours = [torch.nn.Parameter(x.clone()) for x in init]
    keys = ("lr", "betas", "rho", "weight_decay")
    opt = SophiaG(
        [
            {"params": ours[:2], **dict(zip(keys, hp_a, strict=True))},
            {"params": ours[2:], **dict(zip(keys, hp_b, strict=True))},
        ]
    )
    for t, grads in enumerate(grads_seq):
        for p, g in zip(ours, grads, strict=True):
            p.grad = g.clone()
        opt.step(bs=3)
        if t % 3 == 2:
            opt.update_hessian()
    ref = _reference_sophiag([x.clone() for x in init], grads_seq, 3, [hp_a, hp_a, hp_b], 3)
    for a, b in zip(ours, ref, strict=True):
        assert torch.equal(a.detach(), b)  # same arithmetic, same order: bit-identical
    assert all(float(s["step"]) == 20 for s in opt.state.values())


def _run(opt: torch.optim.Optimizer, params: list[torch.nn.Parameter], seed: int, n: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for t in range(n):
        for p in params:
            p.grad = torch.randn(p.shape, generator=gen)
        if isinstance(opt, SophiaH):
            opt.update_hessian([torch.randn(p.shape, generator=gen) for p in params])
        elif t % 2 == 0:
            opt.update_hessian()
        opt.step()


@pytest.mark.parametrize("cls", [SophiaG, SophiaH])
def test_state_dict_resume_is_bit_identical(cls: type) -> None:
    def fresh() -> tuple[list[torch.nn.Parameter], torch.optim.Optimizer]:
        params = [torch.nn.Parameter(torch.ones(4, 3)), torch.nn.Parameter(torch.zeros(5))]
        return params, cls(params, lr=1e-2)

    params, opt = fresh()
    _run(opt, params, seed=1, n=5)
    saved_params = [p.detach().clone() for p in params]
    saved_state = copy.deepcopy(opt.state_dict())
    _run(opt, params, seed=2, n=5)

    params2, opt2 = fresh()
    with torch.no_grad():
        for p, s in zip(params2, saved_params, strict=True):
            p.copy_(s)
    opt2.load_state_dict(saved_state)
    _run(opt2, params2, seed=2, n=5)
    for a, b in zip(params, params2, strict=True):
        assert torch.equal(a, b)
    for a, b in zip(opt.state.values(), opt2.state.values(), strict=True):
        assert set(a) == {"step", "exp_avg", "hessian"}
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_cached_denominators_follow_h_and_hyperparameters() -> None:
    """Writes to h (any in-place op) and changes of rho or bs must reach the next step."""
    p = _param([0.0])
    opt = SophiaG([p], lr=LR, betas=(0.0, 0.99), rho=1.0, weight_decay=0.0)

    def step_size(bs: int = 1) -> float:
        before = float(p.detach())
        p.grad = torch.tensor([0.5])
        opt.step(bs=bs)
        return abs(float(p.detach()) - before)

    assert step_size() == pytest.approx(LR)  # h = 0: full step
    opt.state[p]["hessian"].fill_(5.0)  # edited in place, not via update_hessian
    assert step_size() == pytest.approx(LR * 0.5 / 5.0)
    opt.param_groups[0]["rho"] = 2.0
    assert step_size() == pytest.approx(LR * 0.5 / 10.0)
    assert step_size(bs=4) == pytest.approx(LR * 0.5 / 40.0)
    opt.state[p]["hessian"] = torch.tensor([0.5])  # replaced tensor
    assert step_size(bs=1) == pytest.approx(LR * 0.5 / 1.0)


def test_deepcopy_keeps_counters_and_runs() -> None:
    p = _param([1.0, 2.0])
    opt = SophiaH([p], track_win_rate=True)
    opt.update_hessian([torch.ones(2)])
    clone = copy.deepcopy(opt)
    p.grad = torch.ones(2)
    clone.step()
    assert clone.track_win_rate and clone.stats()["hessian_updates"] == 1
