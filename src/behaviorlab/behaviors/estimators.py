"""Entropy, conditional entropy and mutual information of discrete samples, in bits.

Plug-in estimates are biased low on small samples, so every estimator offers a Miller–Madow
correction and a jackknife, and `bootstrap` gives seeded percentile confidence intervals. A
corrected MI or conditional entropy can dip below 0 on small samples (the correction overshoots
when the joint has many cells); neither quantity can be negative, so both are clipped at 0.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Literal

import numpy as np

# The statistics module holds the estimate type, intervals and the bootstrap; imported from here too.
from behaviorlab.stats import Estimate, bootstrap, clipped_at_zero, mean_ci, proportion_ci, t95

__all__ = [
    "METHODS",
    "Estimate",
    "Method",
    "bootstrap",
    "codes",
    "conditional_entropy",
    "entropy",
    "mdl_score",
    "mean_ci",
    "mutual_information",
    "proportion_ci",
    "t95",
]

Method = Literal["plugin", "miller-madow", "jackknife"]
METHODS: tuple[Method, ...] = ("plugin", "miller-madow", "jackknife")
_LN2 = float(np.log(2.0))


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


def entropy(
    xs: Sequence[Hashable], *, method: Method = "miller-madow", n_boot: int = 200, seed: int = 0
) -> Estimate:
    """H(X) in bits with a bootstrap CI."""
    c = codes(xs)
    est = _entropy_codes(c, method)
    lo, hi = bootstrap(lambda idx: _entropy_codes(c[idx], method), len(c), n_boot=n_boot, seed=seed)
    return Estimate(est, min(lo, est), max(hi, est), len(c), method)


def _paired(
    fn: Callable[[np.ndarray, np.ndarray, Method], float],
    first: Sequence[Hashable],
    second: Sequence[Hashable],
    method: Method,
    n_boot: int,
    seed: int,
) -> Estimate:
    """A statistic of two paired samples (as codes) with a bootstrap CI over the pairs."""
    if len(first) != len(second):
        raise ValueError(f"xs and ys differ in length ({len(first)} vs {len(second)})")
    a, b = codes(first), codes(second)
    est = fn(a, b, method)
    lo, hi = bootstrap(lambda idx: fn(a[idx], b[idx], method), len(a), n_boot=n_boot, seed=seed)
    return Estimate(est, min(lo, est), max(hi, est), len(a), method)


def mutual_information(
    xs: Sequence[Hashable],
    ys: Sequence[Hashable],
    *,
    method: Method = "miller-madow",
    n_boot: int = 200,
    seed: int = 0,
) -> Estimate:
    """I(X; Y) in bits (bias-corrected by default, clipped at 0) with a bootstrap CI."""
    return clipped_at_zero(_paired(_mi_codes, xs, ys, method, n_boot, seed))


def conditional_entropy(
    ys: Sequence[Hashable],
    xs: Sequence[Hashable],
    *,
    method: Method = "miller-madow",
    n_boot: int = 200,
    seed: int = 0,
) -> Estimate:
    """H(Y | X) = H(Y, X) − H(X) in bits (clipped at 0) with a bootstrap CI."""
    return clipped_at_zero(_paired(_cond_codes, ys, xs, method, n_boot, seed))


def mdl_score(size_bits: float, cond_entropy_bits: float, alpha: float = 1.0) -> float:
    """The behavior-selection objective |C(B)| + α·H(M(X) | B(X))."""
    return float(size_bits + alpha * cond_entropy_bits)
