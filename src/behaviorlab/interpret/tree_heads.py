"""Heads in tree models: score the study's tree hypotheses, then test the best heads causally.

As for binary recursion heads (interpret/findings.py), a head's attention matching a hypothesis is
only a correlation; mean-ablating the top heads must hurt more than ablating random heads of the
same count, and patching a head's output from a clean run into a corrupted one must move the
logits back more than patching random heads does.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from behaviorlab.interpret._layout import prepare
from behaviorlab.interpret.ablate import ablation_confirmation, head_component, head_components
from behaviorlab.interpret.hypotheses import TREE, Hypothesis
from behaviorlab.interpret.patching import make_pairs, patch
from behaviorlab.interpret.scores import head_scores
from behaviorlab.stats import spread

Head = tuple[str, int, int]


def top_candidates(
    rows: Sequence[dict[str, Any]], *, ratio: float = 2.0, per_hypothesis: int = 1, k: int = 3
) -> list[dict[str, Any]]:
    """The best heads by score over baseline, per hypothesis (at least `ratio` × baseline), then
    the k best overall, one row per head."""
    best: list[dict[str, Any]] = []
    for hyp in dict.fromkeys(r["hypothesis"] for r in rows):
        mine = sorted(
            (r for r in rows if r["hypothesis"] == hyp and r["score"] >= ratio * r["baseline"]),
            key=lambda r: -(r["score"] - r["baseline"]),
        )
        best += mine[:per_hypothesis]
    best.sort(key=lambda r: -(r["score"] - r["baseline"]))
    out, seen = [], set()
    for r in best:
        head = (r["kind"], r["layer"], r["head"])
        if head not in seen:
            seen.add(head)
            out.append(r)
    return out[:k]


def _recovered(rows: Sequence[dict[str, Any]]) -> float:
    """Mean recovered logit difference over all steps (step -1 rows), NaNs left out."""
    vals = [r["recovered"] for r in rows if r["step"] == -1 and r["recovered"] == r["recovered"]]
    return sum(vals) / len(vals) if vals else float("nan")


def confirm_tree_heads(
    run: Any,
    *,
    hypotheses: Sequence[Hypothesis] = TREE,
    split: str = "test_id",
    n: int = 200,
    k: int = 3,
    n_random: int = 8,
    seed: int = 0,
) -> dict[str, Any]:
    """Head scores on the tree hypotheses, the top `k` heads, and their causal checks: mean
    ablation against `n_random` draws of random heads, and teacher-forced patching of each top
    head against random heads (recovered logit difference, 1 = fully restored)."""
    model, task = run.model, run.task
    examples = list(run.splits.get(split, []))[:n]
    prep = prepare(model, task, examples)
    rows = head_scores(model, prep, hypotheses)
    top = top_candidates(rows, k=k)
    heads: list[Head] = [(r["kind"], r["layer"], r["head"]) for r in top]
    out: dict[str, Any] = {"scores": top, "heads": [list(h) for h in heads], "ablation": None, "patching": []}
    if not heads:
        return out
    out["ablation"] = ablation_confirmation(
        run, heads, n_random=n_random, seed=seed, method="mean", examples=examples
    )
    pairs = make_pairs(task, examples, seed)
    if not pairs:
        return out
    found = [head_component(kind, layer, h, model) for kind, layer, h in heads]
    pool = [c for c in head_components(model) if c not in found]
    rng = random.Random(seed)
    randoms = rng.sample(pool, min(n_random, len(pool)))
    by_head = {}
    for c in found + randoms:
        by_head[c.label] = _recovered(patch(model, task, pairs, [c]))
    for (kind, layer, h), c in zip(heads, found, strict=True):
        out["patching"].append({"head": [kind, layer, h], "recovered": by_head[c.label]})
    rand = [by_head[c.label] for c in randoms if by_head[c.label] == by_head[c.label]]  # NaN: no steps
    out["patching_random"] = spread(rand).to_json()
    out["patching_random_values"] = rand
    out["n_pairs"] = len(pairs)
    return out
