"""Generic search: induce a decision list that reproduces a model's outputs, then simplify it.

Every output position of every fitting example (teacher-forced on the MODEL's output, not the
reference) becomes a row: feature values, and the set of actions consistent with the model's
token there. Sequential covering then picks, again and again, the guard (one atom, or a pair
from a beam) that covers the most remaining rows with one consistent action — a decision list in
firing order. Rules that do not change the fit are pruned afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from behaviorlab.behaviors.tokens import detokenize, tokenize
from behaviorlab.metamodels.context import absolute_places
from behaviorlab.metamodels.program import (
    FLIP,
    Action,
    Atom,
    Cmp,
    Context,
    Program,
    Rule,
    Term,
    TokEq,
    holds,
    perform,
)

Feature = tuple[Term, ...]
_OFFSETS = (0, -1, 1, -2, 2)


def feature_pool(tokens: Sequence[str]) -> list[Feature]:
    """Numeric features the guards may compare, simplest first (ties go to earlier ones)."""
    i, n = Term("i"), Term("n")
    pool: list[Feature] = [(i,), (n,), (i, Term("n", coef=-1)), (Term("depth"),)]
    for t in tokens:
        run, lead = Term("run", t), Term("lead", t)
        pool += [
            (run,),
            (lead,),
            (Term("count", t),),
            (Term("first", t),),
            (Term("last", t),),
            (i, Term("n", coef=-1), run),
            (i, Term("lead", t, -1)),
            (n, Term("run", t, -1)),
            (n, Term("lead", t, -1)),
            (i, Term("count", t, -1)),
            (i, Term("first", t, -1)),
            (i, Term("last", t, -1)),
            (Term("ocount", t),),
            (i, Term("ocount", t, -1)),
        ]
    return pool


def _thresholds(values: np.ndarray) -> list[int]:
    uniq = np.unique(values)
    if len(uniq) <= 16:
        return [int(v) for v in uniq]
    near = [int(v) for v in uniq if abs(v) <= 6]
    qs = np.unique(np.quantile(values, np.linspace(0, 1, 11)).round().astype(int))
    return sorted(set(near) | {int(v) for v in qs})


class _Rows:
    """Teacher-forced positions of the fitting set with atom and action truth tables."""

    def __init__(self, contexts: Sequence[Context], outs: Sequence[list[str]], max_tokens: int) -> None:
        self.contexts, self.outs = contexts, outs
        self.rows = [
            (k, i) for k, o in enumerate(outs) for i in range(min(len(o), 2 * contexts[k].n + 7) + 1)
        ]
        freq = Counter(t for c in contexts for t in c.x)
        self.tokens = [t for t, _ in freq.most_common(max_tokens)]
        out_tokens = sorted({t for o in outs for t in o})
        self.atoms, self.A = self._atom_table(self.tokens + [t for t in out_tokens if t not in freq][:4])
        self.actions = self._action_list(out_tokens)
        self.C = np.array(
            [[self._consistent(a, k, i) for k, i in self.rows] for a in self.actions], dtype=bool
        )

    def _target(self, k: int, i: int) -> str | None:
        o = self.outs[k]
        return o[i] if i < len(o) else None

    def _consistent(self, a: Action, k: int, i: int) -> bool:
        return perform(a, self.contexts[k], i) == self._target(k, i)

    def _action_list(self, out_tokens: list[str]) -> list[Action]:
        acts = [Action("stop"), Action("copy", 0)]
        acts += [Action("emit", token=t) for t in out_tokens]
        flips = any(t in FLIP for c in self.contexts for t in c.x)
        for o in _OFFSETS:
            if o:
                acts.append(Action("copy", o))
            if flips:
                acts.append(Action("flip", o))
        return acts

    def _atom_table(self, tokens: list[str]) -> tuple[list[Atom], np.ndarray]:
        atoms: list[Atom] = []
        rows: list[np.ndarray] = []
        seen: set[bytes] = set()

        def add(atom: Atom, truth: np.ndarray) -> None:
            key = np.packbits(truth).tobytes()
            if truth.any() and not truth.all() and key not in seen:
                seen.add(key)  # identical truth tables: keep the first (simplest) atom
                atoms.append(atom)
                rows.append(truth)

        for feat in feature_pool(tokens):
            vals = np.array(
                [
                    sum(t.coef * self.contexts[k].value(t, i, self.outs[k][:i]) for t in feat)
                    for k, i in self.rows
                ]
            )
            for c in _thresholds(vals):
                add(Cmp(feat, "==", c), vals == c)
                add(Cmp(feat, "<=", c), vals <= c)
                add(Cmp(feat, ">=", c), vals >= c)
        probes: list[TokEq] = [TokEq("x", t, o) for o in (0, -1, 1) for t in tokens]
        # Absolute positions, from the start and from the end: off-distribution slips of models
        # with learned positions hinge on what sits at particular places of the input.
        places = absolute_places(max((c.n for c in self.contexts), default=0))
        probes += [TokEq("at", t, j) for j in places for t in tokens]
        probes += [TokEq("prev", t) for t in tokens]
        for probe in probes:
            add(probe, np.array([holds(probe, self.contexts[k], i, self.outs[k][:i]) for k, i in self.rows]))
        return atoms, np.array(rows, dtype=bool).reshape(len(rows), len(self.rows))


def _best(
    cover: np.ndarray, good: np.ndarray, global_bad: Callable[[np.ndarray], np.ndarray], bits: np.ndarray
) -> tuple[int, int, float]:
    """(row, action, score) of the best guard pure on the remaining rows; score 0 if none.

    Score = coverage of remaining rows, halved unless the rule is also right on every row where
    it holds (globally pure): such rules stay correct whatever fires before them, so they
    generalise better than rules that are only right after earlier rules took their share.
    `global_bad(rows)` counts, for those atom rows, all rows where each action would be wrong.
    """
    pure = (good == cover[:, None]) & (cover[:, None] > 0)
    cand = np.flatnonzero(pure.any(1))
    if not len(cand):
        return -1, -1, 0.0
    # A guard covering under half the widest pure one cannot win even if globally pure.
    cand = cand[cover[cand] >= 0.5 * cover[cand].max()]
    p = pure[cand]
    weight = np.where(p & (global_bad(cand) == 0), 1.0, 0.5)
    value = np.where(p, weight * cover[cand, None] - 1e-4 * bits[cand, None], -np.inf)
    k, act = np.unravel_index(int(np.argmax(value)), value.shape)
    return int(cand[k]), int(act), float(value[k, act])


def _pack(m: np.ndarray) -> np.ndarray:
    """Bool [k, rows] → uint64 [k, words]: set algebra and counts without BLAS, whose threads
    thrash on a shared, busy CPU."""
    pad = (-m.shape[1]) % 64
    bytes_ = np.packbits(np.pad(m, ((0, 0), (0, pad))), axis=1, bitorder="little")
    return np.ascontiguousarray(bytes_).view(np.uint64)


def _counts(a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """|a_i ∧ c_j| for every pair of packed rows: [len(a), len(c)]."""
    return np.bitwise_count(a[:, None, :] & c[None, :, :]).sum(-1, dtype=np.int64)


def _subset_counts(a: np.ndarray, c: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return _counts(a[rows], c)


def induce(
    contexts: Sequence[Context],
    model_outs: Sequence[str],
    *,
    name: str = "induced",
    max_rules: int = 32,
    beam: int = 24,
    max_tokens: int = 8,
) -> Program:
    """Sequential covering over teacher-forced rows of the model's outputs."""
    t = _Rows(contexts, [tokenize(m) for m in model_outs], max_tokens)
    A, C = _pack(t.A), _pack(t.C)
    notC = _pack(~t.C)
    notC &= _pack(np.ones((1, len(t.rows)), dtype=bool))  # padding rows are never wrong
    bits = np.array([a.bits() for a in t.atoms])
    remaining = np.ones(len(t.rows), dtype=bool)
    rules: list[Rule] = []
    while remaining.any() and len(rules) < max_rules:
        rem = _pack(remaining[None, :])
        Ar = A & rem
        n_rem = int(remaining.sum())
        pure_all = np.flatnonzero(_counts(rem, C)[0] == n_rem)
        if len(pure_all):  # one action explains everything left: close with `else`
            rules.append(Rule((), t.actions[int(pure_all[0])]))
            break
        cover = np.bitwise_count(Ar).sum(-1, dtype=np.int64)
        good = _counts(Ar, C)
        row, act, cov = _best(cover, good, partial(_subset_counts, A, notC), bits)
        guard: tuple[Atom, ...] = (t.atoms[row],) if cov > 0 else ()
        # Pairs: refine the atoms that explain the most rows but are not yet pure.
        for b in np.argsort(-(good.max(1) - 1e-3 * bits))[:beam]:
            if cover[b] <= cov:
                continue  # a pair covers no more than its first atom: it cannot win
            both = Ar & Ar[b]
            c2 = np.bitwise_count(both).sum(-1, dtype=np.int64)
            keep = np.flatnonzero(c2 > cov)
            keep = keep[keep != b]
            if not len(keep):
                continue
            pair_rows = A[keep] & A[b]  # the pairs' truth over ALL rows, for global purity
            k2, a2, cov2 = _best(
                c2[keep],
                _counts(both[keep], C),
                partial(_subset_counts, pair_rows, notC),
                bits[keep] + bits[b],
            )
            if cov2 > cov:
                row, act, cov = int(keep[k2]), a2, cov2
                guard = (t.atoms[int(b)], t.atoms[row])
        if cov <= 0:  # nothing pure: fall back to the majority action for what is left
            rules.append(Rule((), t.actions[int(_counts(rem, C)[0].argmax())]))
            break
        covered = np.ones(len(t.rows), dtype=bool)
        for atom in guard:
            covered &= t.A[t.atoms.index(atom)]
        remaining &= ~covered
        rules.append(Rule(guard, t.actions[act]))
    return simplify(Program(name, tuple(rules)), contexts, model_outs)


def _hits(p: Program, contexts: Sequence[Context], model_outs: Sequence[str], need: int = 0) -> int:
    """Exactly reproduced outputs; gives up (returns -1) once `need` hits are out of reach."""
    hits, left = 0, len(contexts)
    for c, m in zip(contexts, model_outs, strict=True):
        left -= 1
        hits += detokenize(p.run_context(c)) == m
        if hits + left < need:
            return -1
    return hits


def simplify(
    p: Program, contexts: Sequence[Context], model_outs: Sequence[str], *, exceptions_only: bool = False
) -> Program:
    """Drop rules, then guard atoms, whenever the number of exactly reproduced outputs holds.

    With `exceptions_only`, only the exception rules are edited: the shortcut under them stays
    whole, so it still means what its name says and runs can be compared by it.
    """
    best = _hits(p, contexts, model_outs)
    for k in reversed(range(p.exceptions if exceptions_only else len(p.rules))):
        trial = p.without(k)
        hits = _hits(trial, contexts, model_outs, best)
        if hits >= best:
            p, best = trial, hits
    for k in range(p.exceptions if exceptions_only else len(p.rules)):
        for atom in p.rules[k].guard:
            if atom not in p.rules[k].guard or (exceptions_only and len(p.rules[k].guard) == 1):
                continue  # (an exception emptied to `else` would hide the shortcut)
            smaller = Rule(tuple(a for a in p.rules[k].guard if a != atom), p.rules[k].action)
            trial = p.replacing(k, smaller)
            hits = _hits(trial, contexts, model_outs, best)
            if hits >= best:
                p, best = trial, hits
    while any(not r.guard for r in p.rules[:-1]):  # rules after an emptied guard are dead
        p = p.without(len(p.rules) - 1)
    return p
