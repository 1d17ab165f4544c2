"""Content and style of a model's outputs against the references and the teacher's, with 95%
intervals (stats.py): Wilson for shares, a seeded percentile bootstrap for means and correlations.

Style follows Gudibande et al.'s Table 2: when the teacher's output is a list, is ours; when it
closes with a summary, does ours; the share of the teacher's distinct words ours uses; the Pearson
correlation of output lengths (words); plus template adherence (same skeleton) and abstention."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from behaviorlab.imitation import style
from behaviorlab.imitation.queries import Query
from behaviorlab.stats import Estimate, bootstrap_mean, correlation, share_of


def share(hits: Sequence[bool]) -> Estimate:
    """A share with its Wilson interval (undefined when there is nothing to count)."""
    return share_of(hits)


def mean(values: Sequence[float], seed: int) -> Estimate:
    """A mean with a bootstrap interval."""
    return bootstrap_mean(values, seed)


def pearson(a: Sequence[float], b: Sequence[float], seed: int) -> Estimate:
    """Pearson r of paired values with a bootstrap interval."""
    return correlation(a, b, seed)


def as_json(table: dict[str, Estimate]) -> dict[str, dict[str, Any]]:
    """A table of estimates as results.json holds it."""
    return {k: e.to_json() for k, e in table.items()}


def content_table(family: str, queries: Sequence[Query], outputs: Sequence[str]) -> dict[str, Estimate]:
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
) -> Estimate:
    """Among valid queries whose teacher output has the marker, the share of ours that has it."""
    return share([marker(o) for q, o, t in zip(queries, outs, ref, strict=True) if q.valid and marker(t)])


def _overlap(ours: str, theirs: str) -> float:
    want = set(style.words(theirs))
    return len(set(style.words(ours)) & want) / len(want)


def style_table(
    queries: Sequence[Query], outputs: Sequence[str], teacher: Sequence[str], seed: int
) -> dict[str, Estimate]:
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
) -> dict[str, Estimate]:
    """Template adherence per skill (does the style reach skills outside the imitation data?)."""
    hits: dict[str, list[bool]] = {}
    for q, o, t in zip(queries, outputs, teacher, strict=True):
        if q.valid:
            hits.setdefault(q.skill, []).append(style.skeleton(o) == style.skeleton(t))
    return {skill: share(h) for skill, h in sorted(hits.items())}
