"""Entropy / MI estimators against closed forms, bias correction, bootstrap CIs, MDL."""

from __future__ import annotations

import math

import numpy as np
import pytest

from behaviorlab.behaviors import conditional_entropy, entropy, mdl_score, mutual_information, proportion_ci


def _noisy_channel(k: int, eps: float, n: int, seed: int) -> tuple[list[int], list[int]]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, k, size=n)
    noise = rng.random(n) < eps
    y = np.where(noise, rng.integers(0, k, size=n), x)
    return x.tolist(), y.tolist()


def _channel_mi(k: int, eps: float) -> float:
    """I(X;Y) for X uniform on k symbols, Y = X w.p. 1−ε else uniform: log2 k − H(row)."""
    same, other = 1 - eps + eps / k, eps / k
    return math.log2(k) + same * math.log2(same) + (k - 1) * other * math.log2(other)


@pytest.mark.parametrize("method", ["miller-madow", "jackknife"])
@pytest.mark.parametrize(("k", "eps"), [(4, 0.2), (8, 0.5)])
def test_mi_matches_closed_form_within_ci(method: str, k: int, eps: float) -> None:
    x, y = _noisy_channel(k, eps, 3000, seed=k)
    est = mutual_information(x, y, method=method, n_boot=150, seed=1)  # type: ignore[arg-type]
    truth = _channel_mi(k, eps)
    assert est.ci_low <= truth <= est.ci_high, (truth, est)
    assert abs(est.estimate - truth) < 0.05
    assert est.n == 3000 and est.method == method


def test_bias_correction_reduces_small_sample_bias() -> None:
    k, n, truth = 8, 24, 3.0  # uniform on 8 symbols, far fewer samples than needed
    errs: dict[str, list[float]] = {"plugin": [], "miller-madow": [], "jackknife": []}
    for seed in range(300):
        xs = np.random.default_rng(seed).integers(0, k, size=n).tolist()
        for method, acc in errs.items():
            acc.append(entropy(xs, method=method, n_boot=1).estimate - truth)  # type: ignore[arg-type]
    bias = {m: abs(float(np.mean(e))) for m, e in errs.items()}
    assert bias["miller-madow"] < 0.5 * bias["plugin"]
    assert bias["jackknife"] < 0.5 * bias["plugin"]


def test_mi_bias_correction_on_independent_variables() -> None:
    plug, mm = [], []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        x, y = rng.integers(0, 4, 40).tolist(), rng.integers(0, 4, 40).tolist()
        plug.append(mutual_information(x, y, method="plugin", n_boot=1).estimate)
        mm.append(mutual_information(x, y, method="miller-madow", n_boot=1).estimate)
    assert abs(np.mean(mm)) < 0.5 * abs(np.mean(plug))  # true MI is 0


def test_conditional_entropy_extremes() -> None:
    x, _ = _noisy_channel(4, 0.0, 2000, seed=3)
    assert conditional_entropy(x, x, method="plugin", n_boot=20).estimate == pytest.approx(0.0)
    rng = np.random.default_rng(5)
    y = rng.integers(0, 4, 2000).tolist()
    est = conditional_entropy(y, x, n_boot=50)
    assert est.ci_low <= 2.0 <= est.ci_high


def test_entropy_of_constant_and_seeded_bootstrap() -> None:
    assert entropy(["a"] * 50).estimate == 0.0
    xs = np.random.default_rng(0).integers(0, 5, 200).tolist()
    a, b = entropy(xs, seed=7), entropy(xs, seed=7)
    assert a == b
    assert a.ci_low <= a.estimate <= a.ci_high
    assert entropy(xs, seed=8).ci_low != a.ci_low or entropy(xs, seed=8).ci_high != a.ci_high


def test_mdl_score_and_validation() -> None:
    assert mdl_score(100.0, 3.0, alpha=2.0) == 106.0
    with pytest.raises(ValueError, match="differ in length"):
        mutual_information([1, 2], [1])
    with pytest.raises(ValueError, match="unknown entropy method"):
        entropy([1, 2], method="nope")  # type: ignore[arg-type]


def test_wilson_interval_known_values_and_edges() -> None:
    lo, hi = proportion_ci(0, 10)
    assert lo == 0.0 and hi == pytest.approx(3.8416 / 13.8416, abs=1e-4)
    lo, hi = proportion_ci(10, 10)
    assert hi == 1.0 and lo == pytest.approx(10 / 13.8416, abs=1e-4)
    lo, hi = proportion_ci(155, 157)
    assert lo < 155 / 157 < hi and hi - lo < 0.06
    assert proportion_ci(0, 0) == (0.0, 1.0)


def test_mi_is_clipped_at_zero_and_the_correction_is_stated() -> None:
    """Miller–Madow overshoots on small independent samples (here −0.047 bits before clipping):
    MI cannot be negative, so the estimate and its interval are clipped at 0, and the printed
    form names the correction."""
    from behaviorlab.behaviors.estimators import _mi_codes, _paired
    from behaviorlab.stats import MI_NOTE, bits

    rng = np.random.default_rng(4)
    x, y = rng.integers(0, 3, 30).tolist(), rng.integers(0, 3, 30).tolist()
    raw = _paired(_mi_codes, x, y, "miller-madow", 50, 0)
    assert raw.estimate is not None and raw.ci_low is not None and raw.estimate < 0 and raw.ci_low < 0
    mi = mutual_information(x, y, n_boot=50)
    assert mi.estimate == 0.0 and mi.ci_low == 0.0 and mi.ci_high == raw.ci_high
    assert bits(mi) == f"0.000 bits [0.000, {raw.ci_high:.3f}]" and "−" not in bits(mi)
    assert "Miller–Madow" in MI_NOTE and "clipped at 0" in MI_NOTE
    for seed in range(30):  # never negative, whatever the sample
        r = np.random.default_rng(seed)
        est = mutual_information(r.integers(0, 5, 20).tolist(), r.integers(0, 5, 20).tolist(), n_boot=20)
        assert est.value >= 0 and (est.ci_low or 0) >= 0
