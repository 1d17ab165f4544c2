"""Entropy, conditional entropy and mutual information of discrete samples, in bits.

Plug-in estimates are biased low on small samples, so every estimator offers a Miller–Madow
correction and a jackknife, and `bootstrap` gives seeded percentile confidence intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Method = Literal["plugin", "miller-madow", "jackknife"]
METHODS: tuple[Method, ...] = ("plugin", "miller-madow", "jackknife")
_LN2 = float(np.log(2.0))


@dataclass(frozen=True)
class Estimate:
    """A point estimate in bits with a bootstrap percentile interval."""

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    method: str

    def to_json(self) -> dict[str, float | int | str]:
        """Plain-dict form for summaries."""
        return {
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
            "method": self.method,
        }


def codes(values: Sequence[Hashable]) -> np.ndarray:
    """Map arbitrary hashable values to dense integer codes 0..K-1 (first-seen order)."""
    table: dict[Hashable, int] = {}
    return np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int64, count=len(values))


def _plugin_from_counts(counts: np.ndarray) -> float:
    counts = counts[counts > 0]
    n = counts.sum()
    if n == 0:
        return 0.0
    p = counts / n
    return float(-(p * np.log2(p)).sum())


def _entropy_codes(c: np.ndarray, method: Method) -> float:
    n = len(c)
    if n == 0:
        return 0.0
    counts = np.bincount(c)
    h = _plugin_from_counts(counts)
    if method == "plugin":
        return h
    if method == "miller-madow":
        k = int((counts > 0).sum())
        return h + (k - 1) / (2.0 * n * _LN2)
    if method == "jackknife":
        return float(n * h - (n - 1) * _loo_entropies(counts)[c].mean())
    raise ValueError(f"unknown entropy method {method!r}; expected one of {METHODS}")


def _loo_entropies(counts: np.ndarray) -> np.ndarray:
    """Plug-in entropy with one sample removed from cell j, for every cell j (vectorised)."""
    n = counts.sum()
    if n <= 1:
        return np.zeros_like(counts, dtype=float)
    nz = counts[counts > 0].astype(float)
    # Total sum of c·log2 c; removing one from cell j changes only that cell's term.
    s = float((nz * np.log2(nz)).sum())
    c = counts.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        old = np.where(c > 0, c * np.log2(np.maximum(c, 1)), 0.0)
        new = np.where(c > 1, (c - 1) * np.log2(np.maximum(c - 1, 1)), 0.0)
    s_j = s - old + new
    m = n - 1
    return np.log2(m) - s_j / m


def _joint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense codes of the pairs (a, b); both are already dense non-negative codes."""
    if len(a) == 0:
        return a
    pair = a * (int(b.max()) + 1) + b
    return np.unique(pair, return_inverse=True)[1].reshape(-1)


def _mi_codes(a: np.ndarray, b: np.ndarray, method: Method) -> float:
    ab = _joint(a, b)
    if method == "jackknife":
        # Leave-one-out MI decomposes into three per-cell entropy tables.
        n = len(a)
        if n <= 1:
            return 0.0
        ca, cb, cab = np.bincount(a), np.bincount(b), np.bincount(ab)
        full = _plugin_from_counts(ca) + _plugin_from_counts(cb) - _plugin_from_counts(cab)
        loo = _loo_entropies(ca)[a] + _loo_entropies(cb)[b] - _loo_entropies(cab)[ab]
        return float(n * full - (n - 1) * loo.mean())
    return _entropy_codes(a, method) + _entropy_codes(b, method) - _entropy_codes(ab, method)


def _cond_codes(y: np.ndarray, x: np.ndarray, method: Method) -> float:
    return _entropy_codes(_joint(y, x), method) - _entropy_codes(x, method)


def bootstrap(
    stat: Callable[[np.ndarray], float], n: int, *, n_boot: int = 200, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Seeded percentile bootstrap: `stat` receives resampled row indices."""
    if n == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    vals = np.array([stat(rng.integers(0, n, size=n)) for _ in range(n_boot)])
    lo, hi = np.quantile(vals, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def entropy(
    xs: Sequence[Hashable], *, method: Method = "miller-madow", n_boot: int = 200, seed: int = 0
) -> Estimate:
    """H(X) in bits with a bootstrap CI."""
    c = codes(xs)
    est = _entropy_codes(c, method)
    lo, hi = bootstrap(lambda idx: _entropy_codes(c[idx], method), len(c), n_boot=n_boot, seed=seed)
    return Estimate(est, min(lo, est), max(hi, est), len(c), method)


def mutual_information(
    xs: Sequence[Hashable],
    ys: Sequence[Hashable],
    *,
    method: Method = "miller-madow",
    n_boot: int = 200,
    seed: int = 0,
) -> Estimate:
    """I(X; Y) in bits (bias-corrected by default) with a bootstrap CI."""
    if len(xs) != len(ys):
        raise ValueError(f"xs and ys differ in length ({len(xs)} vs {len(ys)})")
    a, b = codes(xs), codes(ys)
    est = _mi_codes(a, b, method)

    def stat(idx: np.ndarray) -> float:
        return _mi_codes(a[idx], b[idx], method)

    lo, hi = bootstrap(stat, len(a), n_boot=n_boot, seed=seed)
    return Estimate(est, min(lo, est), max(hi, est), len(a), method)


def conditional_entropy(
    ys: Sequence[Hashable],
    xs: Sequence[Hashable],
    *,
    method: Method = "miller-madow",
    n_boot: int = 200,
    seed: int = 0,
) -> Estimate:
    """H(Y | X) = H(Y, X) − H(X) in bits with a bootstrap CI."""
    if len(xs) != len(ys):
        raise ValueError(f"xs and ys differ in length ({len(xs)} vs {len(ys)})")
    y, x = codes(ys), codes(xs)
    est = _cond_codes(y, x, method)

    def stat(idx: np.ndarray) -> float:
        return _cond_codes(y[idx], x[idx], method)

    lo, hi = bootstrap(stat, len(y), n_boot=n_boot, seed=seed)
    return Estimate(est, min(lo, est), max(hi, est), len(y), method)


def mdl_score(size_bits: float, cond_entropy_bits: float, alpha: float = 1.0) -> float:
    """The behavior-selection objective |C(B)| + α·H(M(X) | B(X))."""
    return float(size_bits + alpha * cond_entropy_bits)


def proportion_ci(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a share k/n (95% by default); (0, 1) when n = 0.

    Unlike the normal approximation it stays inside [0, 1] and is honest near 0% and 100%,
    where failure-prediction rates live.
    """
    if n == 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Exactly 0 or 1 at the edges (rounding would otherwise leave k/n just outside).
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def proportion_diff_ci(k1: int, n1: int, k2: int, n2: int, z: float = 1.96) -> tuple[float, float]:
    """Newcombe's hybrid-score interval for k1/n1 − k2/n2 (95% by default), built from the two
    Wilson intervals; it stays inside [−1, 1] and is honest near 0% and 100%. (−1, 1) when a count is 0."""
    if n1 == 0 or n2 == 0:
        return -1.0, 1.0
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = proportion_ci(k1, n1, z), proportion_ci(k2, n2, z)
    d = p1 - p2
    return max(-1.0, d - math.hypot(p1 - l1, u2 - p2)), min(1.0, d + math.hypot(u1 - p1, p2 - l2))


def items_for_half_width(rate: float, half_width: float, z: float = 1.96) -> int:
    """The fewest items whose Wilson interval around `rate` is at most ±`half_width` wide."""
    k = 1
    while True:  # the width shrinks as 1/sqrt(n): double, then bisect
        lo, hi = proportion_ci(round(rate * k), k, z)
        if (hi - lo) / 2 <= half_width:
            break
        k *= 2
    low = k // 2
    while low + 1 < k:
        mid = (low + k) // 2
        lo, hi = proportion_ci(round(rate * mid), mid, z)
        low, k = (low, mid) if (hi - lo) / 2 <= half_width else (mid, k)
    return k


# Two-sided 95% quantiles of Student's t by degrees of freedom (standard table values).
_T95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    12: 2.179,
    15: 2.131,
    20: 2.086,
    30: 2.042,
    60: 2.000,
}


def t95(df: int) -> float:
    """The two-sided 95% t quantile for `df` degrees of freedom (the nearest smaller tabled df)."""
    if df < 1:
        raise ValueError("a t interval needs at least two values")
    return _T95[max(k for k in _T95 if k <= df)] if df <= 60 else 1.96


def mean_ci(values: Sequence[float], bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """(mean, low, high): a 95% t interval for the mean of a few values (e.g. over seeds),
    clipped to `bounds` when the quantity has them (a rate lives in [0, 1]).

    With one value the interval is that value (no spread is known, and none is claimed)."""
    xs = np.asarray(values, dtype=float)
    if xs.size == 0:
        raise ValueError("mean_ci of no values")
    mean = float(xs.mean())
    if xs.size == 1:
        return mean, mean, mean
    half = t95(xs.size - 1) * float(xs.std(ddof=1)) / math.sqrt(xs.size)
    lo, hi = mean - half, mean + half
    if bounds is not None:
        lo, hi = max(bounds[0], lo), min(bounds[1], hi)
    return mean, lo, hi
