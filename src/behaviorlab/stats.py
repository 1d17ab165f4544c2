"""Statistics in one place: every number a finding reports is an `Estimate` — the value, its 95%
interval, how many cases it rests on and the method — made by one of the functions here.

Shares get Wilson score intervals (honest near 0% and 100%, where failure rates live); means over
a few values (seeds) a t interval; means and correlations of many values a seeded percentile
bootstrap; a difference of two shares Newcombe's hybrid score interval. A share of zero cases is
undefined (no estimate, no interval) and prints as "n/a (no failures)", never 0% or 100%; a share
over usable cases carries the count of unusable ones beside it (`excluded`). A comparison against
random baselines reports their spread (median and range) and a rank p-value, never their mean.
Quantities that cannot be negative (mutual information) are clipped at 0. numpy, no torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
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
    excluded: int = 0  # cases left out as unusable (a share is over the usable ones only)

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
        if self.k is not None:
            out["k"] = self.k
        return out if not self.excluded else out | {"excluded": self.excluded}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Estimate:
        """The inverse of `to_json`."""
        return cls(
            d["estimate"],
            d["ci_low"],
            d["ci_high"],
            int(d["n"]),
            str(d["method"]),
            d.get("k"),
            int(d.get("excluded") or 0),
        )


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


def exact(value: float, n: int) -> Estimate:
    """A number computed exactly (a chance level from the task's alphabet), not estimated: no
    interval beyond the value itself."""
    return Estimate(value, value, value, n, "exact")


def share_of(flags: Iterable[bool]) -> Estimate:
    """The share of true flags."""
    hits = [bool(f) for f in flags]
    return share(sum(hits), len(hits))


def usable_share(flags: Iterable[bool | None]) -> Estimate:
    """The share of true flags among the usable cases (None marks an unusable one: no answer to
    score); the unusable count rides along as `excluded`."""
    seen = list(flags)
    kept = [bool(f) for f in seen if f is not None]
    return replace(share(sum(kept), len(kept)), excluded=len(seen) - len(kept))


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


def spread(values: Sequence[float]) -> Estimate:
    """The median of several values with their range [min, max] as its spread (e.g. random
    baselines: a mean would hide that some draws sit far from it); undefined with no values."""
    if not len(values):
        return Estimate(None, None, None, 0, "range")
    v = [float(x) for x in values]
    return Estimate(float(np.median(v)), min(v), max(v), len(v), "range")


def rank_p(observed: float, baseline: Sequence[float]) -> float | None:
    """One-sided rank (permutation) p-value that `observed` is no larger than a draw like the
    baselines: (1 + #{baseline >= observed}) / (1 + n). With n draws it is at least 1/(n+1)."""
    if not len(baseline):
        return None
    return (1 + sum(float(b) >= observed for b in baseline)) / (1 + len(baseline))


@dataclass(frozen=True)
class VersusRandom:
    """An observed value against random baselines of the same kind (found heads vs random heads):
    the baselines' median and range, how many reach the observed value, and the rank p-value."""

    observed: float
    random: Estimate  # method "range": median, [min, max]
    at_least: int  # random draws >= observed
    p_value: float | None

    @property
    def beats_all(self) -> bool:
        """The observed value exceeds every random draw (the smallest p-value n draws allow)."""
        return self.random.n > 0 and self.at_least == 0

    def to_json(self) -> dict[str, Any]:
        """Plain-dict form: observed, random median / low / high / n, at_least, p_value."""
        r = self.random
        return {
            "observed": self.observed,
            "random_median": r.estimate,
            "random_low": r.ci_low,
            "random_high": r.ci_high,
            "n_random": r.n,
            "at_least": self.at_least,
            "p_value": self.p_value,
        }


def versus_random(observed: float, baseline: Sequence[float]) -> VersusRandom:
    """`observed` against the random `baseline` draws (spread and rank p-value, no mean)."""
    at_least = sum(float(b) >= observed for b in baseline)
    return VersusRandom(float(observed), spread(baseline), at_least, rank_p(observed, baseline))


def versus_text(v: VersusRandom, what: str = "random draws") -> str:
    """ "median 45% (range 3%–98%) over 8 random draws; 3 of 8 reach it (p = 0.44)"."""
    r = v.random
    if r.estimate is None:
        return f"no {what}"
    p = "" if v.p_value is None else f" (rank p = {v.p_value:.2g})"
    return (
        f"median {100 * r.estimate:.1f}% (range {100 * (r.ci_low or 0):.1f}%–{100 * (r.ci_high or 0):.1f}%) "
        f"over {r.n} {what}; {v.at_least} of {r.n} reach it{p}"
    )


def chance_of_run(key: Sequence[str], alphabet_size: int, length: int) -> float:
    """The exact probability that `key` occurs as a contiguous run in a string of `length`
    symbols drawn uniformly from an alphabet of `alphabet_size` (a chance level that depends only
    on the task's alphabet and answer length, never on a model). A KMP automaton over the key's
    prefixes, stepped `length` times: O(length · |key| · |alphabet|)."""
    k = len(key)
    if k == 0 or length < k or alphabet_size < 1:
        return 0.0 if k else 1.0
    fail = [0] * k  # longest proper border of key[:i+1]
    for i in range(1, k):
        j = fail[i - 1]
        while j and key[i] != key[j]:
            j = fail[j - 1]
        fail[i] = j + (key[i] == key[j])

    def step(state: int, sym: str | None) -> int:  # sym None: a symbol outside the key
        while state and (sym is None or key[state] != sym):
            state = fail[state - 1]
        return state + (sym is not None and key[state] == sym)

    syms = list(dict.fromkeys(key))
    others = alphabet_size - len(syms)
    rest = [(None, others)] if others else []  # every symbol outside the key moves alike
    moves = [[(step(q, a), n) for a, n in [*((a, 1) for a in syms), *rest]] for q in range(k)]
    prob = np.zeros(k + 1)
    prob[0] = 1.0
    for _ in range(length):
        nxt = np.zeros(k + 1)
        nxt[k] = prob[k]  # found stays found
        for q in range(k):
            for to, count in moves[q]:
                nxt[to] += prob[q] * count / alphabet_size
        prob = nxt
    return float(prob[k])


def clipped_at_zero(e: Estimate) -> Estimate:
    """A quantity that cannot be negative (an MI) whose bias-corrected estimate or interval
    dipped below 0: every bound clipped at 0 (the method keeps its name)."""
    clip = lambda v: None if v is None else max(0.0, v)  # noqa: E731
    return replace(e, estimate=clip(e.estimate), ci_low=clip(e.ci_low), ci_high=clip(e.ci_high))


# An explanation whose program agrees with its model on at most this share of held-out inputs
# explains nothing (agreement ≈ 0): explain selects no program, comparisons of programs say n/a.
DEGENERATE_AGREEMENT = 0.05

# How a rate over zero cases is spelled, by what there were none of.
NO_CASES = "n/a (no cases)"


def undefined(what: str = "cases") -> str:
    """ "n/a (no failures)": the text of a share over zero cases of `what`."""
    return f"n/a (no {what})"


def rate_text(rate: float | None, none: str = NO_CASES) -> str:
    """A bare rate as "97.5%"; `none` (e.g. "n/a (no failures)") when it is undefined."""
    return none if rate is None else f"{rate:.1%}"


def percent(e: Estimate | None, none: str = NO_CASES, digits: int = 0) -> str:
    """A share as "50% [31%–69%]" (`none`, e.g. "n/a (no failures)", when undefined), as verdicts
    spell it; unusable cases left out are named beside it."""
    if e is None or e.estimate is None:
        return none if e is None or not e.excluded else f"n/a (none of {e.excluded} usable)"
    pc = lambda v: f"{100 * (v or 0):.{digits}f}%"  # noqa: E731
    if e.method == "exact":
        return f"{pc(e.estimate)} (exact)"
    text = f"{pc(e.estimate)} [{pc(e.ci_low)}–{pc(e.ci_high)}]"
    return text if not e.excluded else f"{text} ({e.excluded} unusable left out)"


def bits(e: Estimate | None) -> str:
    """An information estimate as "0.120 bits [0.000, 0.421]" ("n/a" when undefined)."""
    if e is None or e.estimate is None:
        return "n/a"
    return f"{e.estimate:.3f} bits [{e.ci_low or 0:.3f}, {e.ci_high or 0:.3f}]"


MI_NOTE = "Miller–Madow bias-corrected, clipped at 0; 95% bootstrap interval"
