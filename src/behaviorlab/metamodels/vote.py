"""Threshold-unit guards: `w1·is(T@k1) + w2·is(T@k2) + … >= θ` over absolute input positions.

Off-distribution, a network's slips are often a soft vote of many input positions: no conjunction
of a few atoms separates the rows a rule should fix from the rows it would break, but a weighted
sum does. A logistic regression finds the direction; small integer weights keep it readable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from behaviorlab.metamodels.batch import NONE, Batch
from behaviorlab.metamodels.context import FIRST_PLACES, LAST_PLACES, absolute_places
from behaviorlab.metamodels.features import Term
from behaviorlab.metamodels.logistic import fit_logistic
from behaviorlab.metamodels.rules import Cmp


def _most_common(ids: np.ndarray) -> int | None:
    """The most frequent id (ties: the first to appear, as Counter.most_common), NONE ignored."""
    ids = ids[ids != NONE]
    if not len(ids):
        return None
    uniq, first, counts = np.unique(ids, return_index=True, return_counts=True)
    return int(uniq[np.lexsort((first, -counts))[0]])


def voters(
    batch: Batch, tokens: Sequence[str], first: int = FIRST_PLACES, last: int = LAST_PLACES
) -> list[Term]:
    """What may vote: at each absolute place, every token seen there but the most common one
    (its indicator would be redundant). (Token counts as voters fitted worse on the demo.)"""
    out: list[Term] = []
    for j in absolute_places(int(batch.n.max(initial=0)), first, last):
        col = batch.place(j)
        seen = set(np.unique(col[col != NONE]).tolist())
        common = _most_common(col)
        out += [
            Term("is", f"{t}@{j}")
            for t in tokens
            if batch.vocab.id(t) in seen and batch.vocab.id(t) != common
        ]
    return out


def _per_input(batch: Batch, terms: Sequence[Term]) -> np.ndarray:
    """[inputs, terms] integer feature values."""
    per_input = np.zeros((len(batch), len(terms)), dtype=np.int64)
    for k, t in enumerate(terms):
        per_input[:, k] = batch.static(t.feat, t.arg)
    return per_input


def voter_values(batch: Batch, terms: Sequence[Term], seq: np.ndarray) -> np.ndarray:
    """[rows, terms] integer feature values of each row's input."""
    return _per_input(batch, terms)[seq]


def voter_patterns(batch: Batch, terms: Sequence[Term], seq: np.ndarray) -> np.ndarray:
    """[rows] an id per distinct row of `voter_values`: rows with one id get one vote score."""
    if not len(terms):
        return np.zeros(len(seq), dtype=np.int64)
    _, inverse = np.unique(_per_input(batch, terms), axis=0, return_inverse=True)
    return inverse.reshape(-1)[seq]


def vote_bound(patterns: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> int:
    """The most any vote can gain (`fit_vote`'s third value) on these rows: a threshold takes
    every row of a pattern or none, so at best the patterns holding more pos rows than neg rows."""
    rows = np.flatnonzero(pos | neg)
    if not len(rows):
        return 0
    ids, side = np.unique(patterns[rows], return_inverse=True)
    net = np.bincount(side.reshape(-1), weights=np.where(pos[rows], 1, -1), minlength=len(ids))
    return int(np.maximum(net, 0).sum())


def fit_vote(
    F: np.ndarray, pos: np.ndarray, neg: np.ndarray, terms: Sequence[Term], max_weight: int = 4
) -> tuple[Cmp, np.ndarray, int] | None:
    """The integer-weighted vote over `terms` (values F) that best separates `pos` rows from
    `neg` rows: (guard atom, its truth over all rows, pos rows it holds on minus neg rows)."""
    if not pos.any() or not neg.any() or not F.shape[1]:
        return None
    X = np.concatenate([F[pos], F[neg]]).astype(np.float64)
    y = np.concatenate([np.ones(int(pos.sum())), np.zeros(int(neg.sum()))])
    # A little L2 keeps separable data from sending the weights to infinity.
    raw, _ = fit_logistic(X, y, 1e-3, max_iter=200)
    if not np.abs(raw).max() > 0:
        return None
    weights = np.round(raw / np.abs(raw).max() * max_weight).astype(np.int64)
    keep = np.flatnonzero(weights)
    score = F[:, keep] @ weights[keep]  # [rows]
    best: tuple[int, int] | None = None
    for theta in np.unique(score[pos]):
        gain = int((pos & (score >= theta)).sum()) - int((neg & (score >= theta)).sum())
        if best is None or gain > best[1]:
            best = (int(theta), gain)
    assert best is not None
    chosen = tuple(Term(terms[int(k)].feat, terms[int(k)].arg, int(weights[k])) for k in keep)
    return Cmp(chosen, ">=", best[0]), score >= best[0], best[1]
