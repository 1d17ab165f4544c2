"""Exact match overall and by metadata field, ID vs OOD, and the failure catalog's distances."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from behaviorlab.evaluate.predict import Prediction

# Metadata fields worth a breakdown when a task provides them.
BREAKDOWN_FIELDS = ("length", "size", "depth", "carry", "recursion_depth", "t", "output_length")


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Token-level Levenshtein distance."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def first_wrong(pred: Sequence[str], target: Sequence[str]) -> int | None:
    """0-based index of the first token where prediction and target differ (None if equal)."""
    for i, (p, t) in enumerate(zip(pred, target, strict=False)):
        if p != t:
            return i
    return None if len(pred) == len(target) else min(len(pred), len(target))


def is_ood(split: str) -> bool:
    """Splits named test_ood* are out of distribution."""
    return split.startswith("test_ood") or split.startswith("ood")


def is_id(split: str) -> bool:
    """Splits named test_id* (or test) are the in-distribution test sets."""
    return split.startswith("test_id") or split == "test"


def accuracy(preds: Sequence[Prediction]) -> float | None:
    """Exact-match rate, None for an empty split."""
    return sum(p.correct for p in preds) / len(preds) if preds else None


def by_field(preds: Sequence[Prediction], name: str) -> dict[int, dict[str, float]]:
    """Accuracy and count per value of one metadata field."""
    groups: dict[int, list[bool]] = defaultdict(list)
    for p in preds:
        if name in p.meta:
            groups[int(p.meta[name])].append(p.correct)
    return {k: {"n": len(v), "accuracy": sum(v) / len(v)} for k, v in sorted(groups.items())}


def summarize(preds_by_split: Mapping[str, Sequence[Prediction]]) -> dict[str, Any]:
    """Headline and breakdown numbers for every split."""
    splits: dict[str, Any] = {}
    for name, preds in preds_by_split.items():
        fields = {f: by_field(preds, f) for f in BREAKDOWN_FIELDS if preds and f in preds[0].meta}
        splits[name] = {"n": len(preds), "accuracy": accuracy(preds), "by": fields}
    pooled_id = [p for s, ps in preds_by_split.items() if is_id(s) for p in ps]
    pooled_ood = [p for s, ps in preds_by_split.items() if is_ood(s) for p in ps]
    return {
        "accuracy_id": accuracy(pooled_id),
        "accuracy_ood": accuracy(pooled_ood),
        "splits": splits,
    }
