"""Generic search: induce a decision list that reproduces a model's outputs, then simplify it.

Every output position of every fitting example (teacher-forced on the MODEL's output, not the
reference) becomes a row: feature values, and the set of actions consistent with the model's
token there. Sequential covering then picks, again and again, the guard (one atom, or a pair
from a beam) that covers the most remaining rows with one consistent action — a decision list in
firing order. Rules that do not change the fit are pruned afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from behaviorlab.metamodels.batch import Batch, Inputs, as_batch
from behaviorlab.metamodels.machine import matches
from behaviorlab.metamodels.program import Program
from behaviorlab.metamodels.rules import Atom, Rule
from behaviorlab.metamodels.tables import Tables, counts, pack


def _best(
    cover: np.ndarray, good: np.ndarray, global_bad: Callable[[np.ndarray, int], np.ndarray], bits: np.ndarray
) -> tuple[int, int, float]:
    """(row, action, score) of the best guard pure on the remaining rows; score 0 if none.

    Score = coverage of remaining rows, halved unless the rule is also right on every row where
    it holds (globally pure): such rules stay correct whatever fires before them, so they
    generalise better than rules that are only right after earlier rules took their share.
    `global_bad(rows, action)` counts, for those atom rows, all rows where the action is wrong.
    """
    pure = (good == cover[:, None]) & (cover[:, None] > 0)
    cand = np.flatnonzero(pure.any(1))
    if not len(cand):
        return -1, -1, 0.0
    # A guard covering under half the widest pure one cannot win even if globally pure.
    cand = cand[cover[cand] >= 0.5 * cover[cand].max()]
    p = pure[cand]
    bad = np.zeros(p.shape, dtype=np.int64)
    for a in np.flatnonzero(p.any(0)):  # only where the guard is pure: a few actions per atom
        at = np.flatnonzero(p[:, a])
        bad[at, a] = global_bad(cand[at], int(a))
    weight = np.where(p & (bad == 0), 1.0, 0.5)
    value = np.where(p, weight * cover[cand, None] - 1e-4 * bits[cand, None], -np.inf)
    k, act = np.unravel_index(int(np.argmax(value)), value.shape)
    return int(cand[k]), int(act), float(value[k, act])


def _good(rows: np.ndarray, C: np.ndarray, useful: np.ndarray) -> np.ndarray:
    """[guards, actions] rows where each action is right; 0 for actions right on no row left."""
    good = np.zeros((len(rows), len(C)), dtype=np.int64)
    good[:, useful] = counts(rows, C[useful])
    return good


def _subset_counts(a: np.ndarray, c: np.ndarray, rows: np.ndarray, action: int) -> np.ndarray:
    return np.bitwise_count(a[rows] & c[action]).sum(-1, dtype=np.int64)


def _pair_counts(
    A: np.ndarray, b: int, keep: np.ndarray, c: np.ndarray, rows: np.ndarray, action: int
) -> np.ndarray:
    """`_subset_counts` of the pairs (b, keep[rows]) over ALL rows, built only for those pairs."""
    return np.bitwise_count(A[keep[rows]] & A[b] & c[action]).sum(-1, dtype=np.int64)


def induce(
    contexts: Inputs,
    model_outs: Sequence[str],
    *,
    name: str = "induced",
    max_rules: int = 32,
    beam: int = 24,
    max_tokens: int = 8,
) -> Program:
    """Sequential covering over teacher-forced rows of the model's outputs."""
    batch = as_batch(contexts)
    t = Tables(batch, model_outs, max_tokens)
    A, C = pack(t.A), pack(t.C)
    notC = pack(~t.C)
    notC &= pack(np.ones((1, t.size), dtype=bool))  # padding rows are never wrong
    bits = np.array([a.bits() for a in t.atoms])
    remaining = np.ones(t.size, dtype=bool)
    rules: list[Rule] = []
    while remaining.any() and len(rules) < max_rules:
        rem = pack(remaining[None, :])
        # Counts over the remaining rows skip the words that hold none of them.
        live = np.flatnonzero(rem[0])
        Ar, Cr = A[:, live] & rem[:, live], C[:, live]
        useful = np.flatnonzero((Cr & rem[:, live]).any(1))  # actions right on some remaining row
        n_rem = int(remaining.sum())
        pure_all = np.flatnonzero(counts(rem, C)[0] == n_rem)
        if len(pure_all):  # one action explains everything left: close with `else`
            rules.append(Rule((), t.actions[int(pure_all[0])]))
            break
        cover = np.bitwise_count(Ar).sum(-1, dtype=np.int64)
        good = _good(Ar, Cr, useful)
        row, act, cov = _best(cover, good, partial(_subset_counts, A, notC), bits)
        guard: tuple[Atom, ...] = (t.atoms[row],) if cov > 0 else ()
        # Pairs: refine the atoms that explain the most rows but are not yet pure. Only pairs
        # covering more than `cov` rows can win, so only atoms that do so alone are paired.
        wide = np.flatnonzero(cover > cov)
        for b in np.argsort(-(good.max(1) - 1e-3 * bits))[:beam]:
            if cover[b] <= cov:
                continue  # a pair covers no more than its first atom: it cannot win
            words = np.flatnonzero(Ar[b])  # a pair holds only where its first atom does
            both = Ar[np.ix_(wide, words)] & Ar[b, words]
            c2 = np.bitwise_count(both).sum(-1, dtype=np.int64)
            at = np.flatnonzero((c2 > cov) & (wide != b))
            if not len(at):
                continue
            keep = wide[at]
            k2, a2, cov2 = _best(
                c2[at],
                _good(both[at], Cr[:, words], useful),
                partial(_pair_counts, A, int(b), keep, notC),
                bits[keep] + bits[b],
            )
            if cov2 > cov:
                row, act, cov = int(keep[k2]), a2, cov2
                guard = (t.atoms[int(b)], t.atoms[row])
        if cov <= 0:  # nothing pure: fall back to the majority action for what is left
            rules.append(Rule((), t.actions[int(counts(rem, C)[0].argmax())]))
            break
        covered = np.ones(t.size, dtype=bool)
        for atom in guard:
            covered &= t.A[t.atoms.index(atom)]
        remaining &= ~covered
        rules.append(Rule(guard, t.actions[act]))
    return simplify(Program(name, tuple(rules)), batch, model_outs)


def _hits(p: Program, batch: Batch, model_outs: Sequence[str]) -> int:
    """Exactly reproduced outputs."""
    return int(matches(p, batch, batch.targets(model_outs)).sum())


def simplify(
    p: Program, contexts: Inputs, model_outs: Sequence[str], *, exceptions_only: bool = False
) -> Program:
    """Drop rules, then guard atoms, whenever the number of exactly reproduced outputs holds.

    With `exceptions_only`, only the exception rules are edited: the shortcut under them stays
    whole, so it still means what its name says and runs can be compared by it.
    """
    batch = as_batch(contexts)
    best = _hits(p, batch, model_outs)
    for k in reversed(range(p.exceptions if exceptions_only else len(p.rules))):
        trial = p.without(k)
        hits = _hits(trial, batch, model_outs)
        if hits >= best:
            p, best = trial, hits
    for k in range(p.exceptions if exceptions_only else len(p.rules)):
        for atom in p.rules[k].guard:
            if atom not in p.rules[k].guard or (exceptions_only and len(p.rules[k].guard) == 1):
                continue  # (an exception emptied to `else` would hide the shortcut)
            smaller = Rule(tuple(a for a in p.rules[k].guard if a != atom), p.rules[k].action)
            trial = p.replacing(k, smaller)
            hits = _hits(trial, batch, model_outs)
            if hits >= best:
                p, best = trial, hits
    while any(not r.guard for r in p.rules[:-1]):  # rules after an emptied guard are dead
        p = p.without(len(p.rules) - 1)
    return p
