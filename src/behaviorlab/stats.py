"""Statistics in one place: every number a finding reports is an `Estimate` — the value, its 95%
interval, how many cases it rests on and the method — made by one of the functions here.

Shares get Wilson score intervals (honest near 0% and 100%, where failure rates live); means over
a few values (seeds) a t interval; means and correlations of many values a seeded percentile
bootstrap; a difference of two shares Newcombe's hybrid score interval. A share of zero cases is
undefined (no estimate, no interval), never 0% or 100%. numpy, no torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A measured quantity: `estimate` with its interval [ci_low, ci_high], the `n` cases it
    rests on, the `method` that made it, and (for a share) the `k` cases counted."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    method: str
    k: int | None = None

    @property
    def defined(self) -> bool:
        """False when there was nothing to estimate from (e.g. a share of zero cases)."""
        return self.estimate is not None

    @property
    def value(self) -> float:
        """The estimate of a quantity that always has one (an entropy, an MI, a defined share)."""
        if self.estimate is None:
            raise ValueError(f"undefined {self.method} estimate (n={self.n})")
        return self.estimate

    def to_json(self) -> dict[str, Any]:
        """Plain-dict form for results files."""
        out: dict[str, Any] = {
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
            "method": self.method,
        }
        return out if self.k is None else out | {"k": self.k}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Estimate:
        """The inverse of `to_json`."""
        return cls(d["estimate"], d["ci_low"], d["ci_high"], int(d["n"]), str(d["method"]), d.get("k"))


def proportion_ci(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a share k/n (95% by default); (0, 1) when n = 0."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Exactly 0 or 1 at the edges (rounding would otherwise leave k/n just outside).
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def share(k: int, n: int) -> Estimate:
    """k of n cases, with its Wilson 95% interval; undefined when n = 0."""
    if n == 0:
        return Estimate(None, None, None, 0, "wilson", 0)
    lo, hi = proportion_ci(k, n)
    return Estimate(k / n, lo, hi, n, "wilson", k)


def share_of(flags: Iterable[bool]) -> Estimate:
    """The share of true flags."""
    hits = [bool(f) for f in flags]
    return share(sum(hits), len(hits))


def pooled(estimates: Iterable[Estimate]) -> Estimate:
    """Several shares' cases counted together."""
    parts = list(estimates)
    return share(sum(e.k or 0 for e in parts), sum(e.n for e in parts))


def difference(a: Estimate, b: Estimate) -> Estimate:
    """a − b for two shares, with Newcombe's hybrid-score 95% interval (from their Wilson
    intervals); undefined when either share is."""
    if a.estimate is None or b.estimate is None or a.ci_low is None or b.ci_low is None:
        return Estimate(None, None, None, a.n + b.n, "newcombe")
    assert a.ci_high is not None and b.ci_high is not None
    p1, l1, u1, p2, l2, u2 = a.estimate, a.ci_low, a.ci_high, b.estimate, b.ci_low, b.ci_high
    d = p1 - p2
    lo, hi = d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)
    return Estimate(d, lo, hi, a.n + b.n, "newcombe")


def quartiles(values: Sequence[float]) -> Estimate:
    """The median with the first and third quartiles as its spread (not a confidence interval:
    the method says so); undefined when there are no values."""
    if not values:
        return Estimate(None, None, None, 0, "quartiles")
    if len(values) == 1:
        v = float(values[0])
        return Estimate(v, v, v, 1, "quartiles")
    import statistics

    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Estimate(med, q1, q3, len(values), "quartiles")


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


def bootstrap_mean(values: Sequence[float], seed: int) -> Estimate:
    """A mean with a seeded percentile bootstrap interval; undefined with no values."""
    v = np.asarray(values, dtype=float)
    if not len(v):
        return Estimate(None, None, None, 0, "bootstrap")
    lo, hi = bootstrap(lambda idx: float(v[idx].mean()), len(v), seed=seed)
    return Estimate(float(v.mean()), lo, hi, len(v), "bootstrap")


def _r(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return None  # a constant side has no correlation
    return float(np.corrcoef(a, b)[0, 1])


def correlation(a: Sequence[float], b: Sequence[float], seed: int) -> Estimate:
    """Pearson r with a bootstrap interval (resamples with a constant side keep r); undefined when
    there are fewer than 3 pairs or a side is constant."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    r = _r(x, y)
    if r is None:
        return Estimate(None, None, None, len(x), "bootstrap")

    def stat(idx: np.ndarray) -> float:
        got = _r(x[idx], y[idx])
        return r if got is None else got

    lo, hi = bootstrap(stat, len(x), seed=seed)
    return Estimate(r, lo, hi, len(x), "bootstrap")


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


def mean(values: Sequence[float], bounds: tuple[float, float] | None = None) -> Estimate:
    """`mean_ci` as an Estimate; undefined with no values."""
    if not len(values):
        return Estimate(None, None, None, 0, "t")
    m, lo, hi = mean_ci(values, bounds)
    return Estimate(m, lo, hi, len(values), "t")


def percent(e: Estimate | None) -> str:
    """A share as "50% [31%–69%]" ("— (n=0)" when undefined), as verdicts spell it."""
    if e is None or e.estimate is None:
        return "— (n=0)"
    return f"{100 * e.estimate:.0f}% [{100 * (e.ci_low or 0):.0f}%–{100 * (e.ci_high or 0):.0f}%]"
