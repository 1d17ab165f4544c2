"""Content and style of a model's outputs against the references and the teacher's, with 95%
intervals: Wilson for shares, a seeded percentile bootstrap for means and correlations.

Style follows Gudibande et al.'s Table 2: when the teacher's output is a list, is ours; when it
closes with a summary, does ours; the share of the teacher's distinct words ours uses; the Pearson
correlation of output lengths (words); plus template adherence (same skeleton) and abstention."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from behaviorlab.behaviors.estimators import bootstrap, proportion_ci
from behaviorlab.imitation import style
from behaviorlab.imitation.queries import Query

Stat = dict[str, Any]  # {"rate" | "mean" | "r": value, "ci": [lo, hi], "n": ...}


def share(hits: Sequence[bool]) -> Stat:
    """A share with its Wilson interval (rate None when there is nothing to count)."""
    k, n = int(sum(hits)), len(hits)
    return {"rate": k / n if n else None, "ci": list(proportion_ci(k, n)), "k": k, "n": n}


def mean(values: Sequence[float], seed: int) -> Stat:
    """A mean with a bootstrap interval."""
    v = np.asarray(values, dtype=float)
    if not len(v):
        return {"mean": None, "ci": [None, None], "n": 0}
    lo, hi = bootstrap(lambda idx: float(v[idx].mean()), len(v), seed=seed)
    return {"mean": float(v.mean()), "ci": [lo, hi], "n": len(v)}


def _r(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return None  # a constant length has no correlation
    return float(np.corrcoef(a, b)[0, 1])


def pearson(a: Sequence[float], b: Sequence[float], seed: int) -> Stat:
    """Pearson r with a bootstrap interval (resamples with a constant side are skipped)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    r = _r(x, y)
    if r is None:
        return {"r": None, "ci": [None, None], "n": len(x)}

    def stat(idx: np.ndarray) -> float:
        got = _r(x[idx], y[idx])
        return r if got is None else got

    lo, hi = bootstrap(stat, len(x), seed=seed)
    return {"r": r, "ci": [lo, hi], "n": len(x)}


def content_table(family: str, queries: Sequence[Query], outputs: Sequence[str]) -> dict[str, Stat]:
    """Exact match of the parsed content against the reference, per skill and over all skills."""
    hits: dict[str, list[bool]] = {}
    for q, o in zip(queries, outputs, strict=True):
        if q.valid:
            hits.setdefault(q.skill, []).append(style.content(family, o) == q.reference)
    table = {skill: share(h) for skill, h in sorted(hits.items())}
    table["all"] = share([x for h in hits.values() for x in h])
    return table


def _given(
    queries: Sequence[Query], outs: Sequence[str], ref: Sequence[str], marker: Callable[[str], bool]
) -> Stat:
    """Among valid queries whose teacher output has the marker, the share of ours that has it."""
    return share([marker(o) for q, o, t in zip(queries, outs, ref, strict=True) if q.valid and marker(t)])


def _overlap(ours: str, theirs: str) -> float:
    want = set(style.words(theirs))
    return len(set(style.words(ours)) & want) / len(want)


def style_table(
    queries: Sequence[Query], outputs: Sequence[str], teacher: Sequence[str], seed: int
) -> dict[str, Stat]:
    """Style against the teacher's outputs on the same queries (valid ones; abstention on invalid)."""
    valid = [(o, t, q) for q, o, t in zip(queries, outputs, teacher, strict=True) if q.valid]
    return {
        "list": _given(queries, outputs, teacher, style.is_list),
        "summary": _given(queries, outputs, teacher, style.has_summary),
        "unigram_overlap": mean([_overlap(o, t) for o, t, _ in valid if style.words(t)], seed),
        "length_r": pearson(
            [len(o.split()) for o, _, _ in valid], [len(t.split()) for _, t, _ in valid], seed
        ),
        "template": share([style.skeleton(o) == style.skeleton(t) for o, t, _ in valid]),
        "abstain_invalid": share(
            [style.abstains(o) for q, o in zip(queries, outputs, strict=True) if not q.valid]
        ),
        "abstain_valid": share([style.abstains(o) for o, _, _ in valid]),
    }


def template_by_skill(
    queries: Sequence[Query], outputs: Sequence[str], teacher: Sequence[str]
) -> dict[str, Stat]:
    """Template adherence per skill (does the style reach skills outside the imitation data?)."""
    hits: dict[str, list[bool]] = {}
    for q, o, t in zip(queries, outputs, teacher, strict=True):
        if q.valid:
            hits.setdefault(q.skill, []).append(style.skeleton(o) == style.skeleton(t))
    return {skill: share(h) for skill, h in sorted(hits.items())}


def value(stat: Stat) -> float | None:
    """The point estimate of a table cell, whatever its kind."""
    for key in ("rate", "mean", "r"):
        if key in stat:
            return stat[key]
    return None
