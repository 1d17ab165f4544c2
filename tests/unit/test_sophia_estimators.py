"""Curvature estimators: probes, GNB vs the exact Gauss-Newton diagonal, Hutchinson vs exact H."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F

from behaviorlab.optim import (
    GNBEstimator,
    HutchinsonEstimator,
    SophiaG,
    SophiaH,
    hutchinson_diag,
    probe_like,
)

V, D, N = 4, 3, 3


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Thousands of tiny autograd calls: a thread pool only adds contention on shared cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _softmax_model(seed: int = 0) -> tuple[torch.nn.Parameter, torch.Tensor, torch.Tensor]:
    """A linear softmax model z = W x on N fixed inputs with fixed targets."""
    gen = torch.Generator().manual_seed(seed)
    w = torch.nn.Parameter(torch.randn(V, D, generator=gen))
    x = torch.randn(N, D, generator=gen)
    return w, x, torch.tensor([0, 2, 3])


def _exact_diag(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Diagonal of the mean-CE Gauss-Newton matrix (1/N) Σ J^T (diag p − pp^T) J, exactly.

    For z = W x, J maps W_ij to z_i with weight x_j, so the diagonal entry is p_i (1 − p_i) x_j².
    Since z is linear in W this is also the exact Hessian diagonal of the mean CE.
    """
    p = torch.softmax(x @ w.detach().T, dim=-1)  # [N, V]
    return torch.einsum("ni,nj->ij", p * (1 - p), x**2) / N


def _within(samples: torch.Tensor, expected: torch.Tensor, sigmas: float = 5.0) -> None:
    """Sample mean agrees with `expected` to `sigmas` standard errors in every entry."""
    mean, se = samples.mean(0), samples.std(0) / math.sqrt(samples.shape[0])
    assert bool(((mean - expected).abs() <= sigmas * se + 1e-9).all()), (mean, expected, se)


def test_rademacher_probe_is_fair_plus_minus_one() -> None:
    gen = torch.Generator().manual_seed(0)
    n = 20_000
    u = probe_like(torch.empty(n), "rademacher", gen)
    assert set(u.unique().tolist()) == {-1.0, 1.0}
    plus = int((u == 1).sum())
    # Binomial(n, 1/2): five standard deviations is sqrt(n)/2 * 5.
    assert abs(plus - n / 2) <= 5 * math.sqrt(n) / 2


def test_gaussian_probe_moments_and_determinism() -> None:
    u = probe_like(torch.empty(20_000), "gaussian", torch.Generator().manual_seed(1))
    assert abs(float(u.mean())) < 0.05 and abs(float(u.var()) - 1) < 0.05
    again = probe_like(torch.empty(20_000), "gaussian", torch.Generator().manual_seed(1))
    assert torch.equal(u, again)
    with pytest.raises(ValueError, match="probe"):
        probe_like(torch.empty(2), "uniform", torch.Generator())  # type: ignore[arg-type]


def test_due_matches_official_schedule() -> None:
    est = GNBEstimator(every=10)
    assert [s for s in range(35) if est.due(s)] == [9, 19, 29]
    assert [s for s in range(5) if HutchinsonEstimator(every=1).due(s)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="every"):
        GNBEstimator(every=0)


def test_gnb_matches_exact_gauss_newton_diagonal_in_expectation() -> None:
    w, x, y = _softmax_model()
    opt = SophiaG([w], betas=(0.9, 0.0))  # β2 = 0 → h is exactly the latest estimate g⊙g
    est = GNBEstimator(every=1, clip_grad_norm=None)
    gen = torch.Generator().manual_seed(2)
    draws = []
    for _ in range(4000):
        est.update(opt, [w], lambda: (x @ w.T, y), gen)
        draws.append(opt.state[w]["hessian"].clone())
    # Cross terms between positions vanish (E[p − e_ŷ] = 0), so N · E[g⊙g] is the GN diagonal.
    _within(torch.stack(draws) * N, _exact_diag(w, x))
    assert w.grad is None


def test_gnb_clips_the_gradient_norm() -> None:
    w, x, y = _softmax_model()
    opt = SophiaG([w], betas=(0.9, 0.0))
    out = GNBEstimator(clip_grad_norm=1e-3).update(
        opt, [w], lambda: (x @ w.T, y), torch.Generator().manual_seed(0)
    )
    assert out["hessian_grad_norm"] > 1e-3
    assert float(opt.state[w]["hessian"].sum()) == pytest.approx(1e-6, rel=1e-4)


def test_hutchinson_quadratic_diagonal_in_expectation() -> None:
    gen = torch.Generator().manual_seed(3)
    b = torch.randn(5, 5, generator=gen)
    a = b + b.T
    x = torch.nn.Parameter(torch.randn(5, generator=gen))
    off = (a**2).sum(1) - a.diag() ** 2
    n = 4000
    for probe, var in (("rademacher", off), ("gaussian", off + 2 * a.diag() ** 2)):
        loss = 0.5 * x @ a @ x
        grads = torch.autograd.grad(loss, [x], create_graph=True)
        (h,) = hutchinson_diag(grads, [x], gen, probe, n_probes=n)  # type: ignore[arg-type]
        se = (var / n).sqrt()
        assert bool(((h - a.diag()).abs() <= 5 * se).all()), (probe, h, a.diag())


def test_hutchinson_rademacher_exact_on_diagonal_quadratic() -> None:
    x = torch.nn.Parameter(torch.ones(6))
    a = torch.diag(torch.arange(1.0, 7.0))
    grads = torch.autograd.grad(0.5 * x @ a @ x, [x], create_graph=True)
    (h,) = hutchinson_diag(grads, [x], torch.Generator().manual_seed(0), "rademacher")
    assert torch.equal(h, a.diag())  # u_i² = 1 exactly for ±1 probes


def test_hutchinson_estimator_matches_exact_hessian_in_expectation() -> None:
    w, x, y = _softmax_model(seed=4)
    opt = SophiaH([w], betas=(0.9, 0.0))
    est = HutchinsonEstimator(every=1, probe="rademacher")
    gen = torch.Generator().manual_seed(5)
    draws = []
    for _ in range(2000):
        est.update(opt, [w], lambda: (x @ w.T, y), gen)
        draws.append(opt.state[w]["hessian"].clone())
    _within(torch.stack(draws), _exact_diag(w, x))
    assert w.grad is None


def test_hutchinson_fused_keeps_training_gradient() -> None:
    w, x, y = _softmax_model()
    loss = torch.nn.functional.cross_entropy(x @ w.T, y)
    (expected,) = torch.autograd.grad(loss, [w], retain_graph=True)
    opt = SophiaG([w])  # SophiaG accepts explicit estimates too (negatives clamped to 0)
    out = HutchinsonEstimator().update_from_loss(opt, [w], loss, torch.Generator().manual_seed(0))
    assert out["hessian_accepted"] == 1.0
    torch.testing.assert_close(w.grad, expected)
    assert float(opt.state[w]["hessian"].min()) >= 0 and float(opt.state[w]["hessian"].sum()) > 0


def test_hutchinson_works_through_scaled_dot_product_attention() -> None:
    """Fused SDPA kernels lack double backward; the estimator must still produce an HVP."""
    gen = torch.Generator().manual_seed(6)
    proj = torch.nn.Linear(8, 8)
    head = torch.nn.Linear(8, V)
    x = torch.randn(2, 5, 8, generator=gen)
    y = torch.randint(0, V, (10,), generator=gen)

    def logits_fn() -> tuple[torch.Tensor, torch.Tensor]:
        q = proj(x).view(2, 1, 5, 8)
        att = F.scaled_dot_product_attention(q, q, q, is_causal=True).view(2, 5, 8)
        return head(att).reshape(10, V), y

    params = [*proj.parameters(), *head.parameters()]
    opt = SophiaH(params, betas=(0.9, 0.0))
    out = HutchinsonEstimator(every=1).update(opt, params, logits_fn, gen)
    assert out["hessian_accepted"] == 1.0
    assert float(opt.state[proj.weight]["hessian"].abs().sum()) > 0
