"""Truth tables of the search: every teacher-forced row, which guard atoms hold and which actions
are consistent with the model there; and packed bit sets to count over them.

Every output position of every fitting example (teacher-forced on the MODEL's output, not the
reference) is a row. Induction and the exceptions search both choose guards from these tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from behaviorlab.metamodels.batch import Batch
from behaviorlab.metamodels.context import absolute_places
from behaviorlab.metamodels.features import Term
from behaviorlab.metamodels.machine import performed, target_at, teacher_forced, truth, values
from behaviorlab.metamodels.rules import FLIP, Action, Atom, Cmp, TokEq

Sum = tuple[Term, ...]  # a weighted sum of features, compared against thresholds
_OFFSETS = (0, -1, 1, -2, 2)


def feature_pool(tokens: Sequence[str]) -> list[Sum]:
    """Numeric features the guards may compare, simplest first (ties go to earlier ones)."""
    i, n = Term("i"), Term("n")
    pool: list[Sum] = [(i,), (n,), (i, Term("n", coef=-1)), (Term("depth"),)]
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


class Tables:
    """Teacher-forced positions of the fitting set with atom and action truth tables."""

    def __init__(self, batch: Batch, model_outs: Sequence[str], max_tokens: int) -> None:
        self.batch = batch
        self.targets = batch.targets(model_outs)
        self.at = teacher_forced(batch, self.targets)
        self.seq, self.size = self.at.b, len(self.at)  # input of each row; number of rows
        self.target = target_at(self.targets, self.at)
        freq = batch.token_counts()
        self.tokens = [t for t, _ in freq[:max_tokens]]
        seen = {t for t, _ in freq}
        out_ids = np.unique(self.targets.ids[self.targets.ids >= 0])
        out_tokens = sorted(batch.vocab.tokens[k] for k in out_ids.tolist())
        self.atoms, self.A = self._atom_table(self.tokens + [t for t in out_tokens if t not in seen][:4])
        self.actions = self._action_list(out_tokens)
        self.C = np.array([self.consistent(a) for a in self.actions], dtype=bool).reshape(
            len(self.actions), self.size
        )

    def consistent(self, a: Action) -> np.ndarray:
        """[rows] whether the action writes the model's token (or stops where it stops)."""
        return performed(a, self.batch, self.at) == self.target

    def _action_list(self, out_tokens: list[str]) -> list[Action]:
        acts = [Action("stop"), Action("copy", 0)]
        acts += [Action("emit", token=t) for t in out_tokens]
        flips = self.batch.has_token(list(FLIP))
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

        def add(atom: Atom, holds: np.ndarray) -> None:
            key = np.packbits(holds).tobytes()
            if holds.any() and not holds.all() and key not in seen:
                seen.add(key)  # identical truth tables: keep the first (simplest) atom
                atoms.append(atom)
                rows.append(holds)

        for feat in feature_pool(tokens):
            vals = values(feat, self.batch, self.at)
            for c in _thresholds(vals):
                add(Cmp(feat, "==", c), vals == c)
                add(Cmp(feat, "<=", c), vals <= c)
                add(Cmp(feat, ">=", c), vals >= c)
        probes: list[TokEq] = [TokEq("x", t, o) for o in (0, -1, 1) for t in tokens]
        # Absolute positions, from the start and from the end: off-distribution slips of models
        # with learned positions hinge on what sits at particular places of the input.
        places = absolute_places(int(self.batch.n.max(initial=0)))
        probes += [TokEq("at", t, j) for j in places for t in tokens]
        probes += [TokEq("prev", t) for t in tokens]
        for probe in probes:
            add(probe, truth(probe, self.batch, self.at))
        return atoms, np.array(rows, dtype=bool).reshape(len(rows), self.size)


def pack(m: np.ndarray) -> np.ndarray:
    """Bool [k, rows] → uint64 [k, words]: set algebra and counts without BLAS, whose threads
    thrash on a shared, busy CPU."""
    pad = (-m.shape[1]) % 64
    bytes_ = np.packbits(np.pad(m, ((0, 0), (0, pad))), axis=1, bitorder="little")
    return np.ascontiguousarray(bytes_).view(np.uint64)


def counts(a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """|a_i ∧ c_j| for every pair of packed rows: [len(a), len(c)]."""
    if len(c) > len(a):
        return counts(c, a).T
    if a.size < 16384:  # small: one broadcast beats a loop of small calls
        return np.bitwise_count(a[:, None, :] & c[None, :, :]).sum(-1, dtype=np.int64)
    # One row of c at a time into reused buffers: no [len(a), len(c), words] temporaries.
    out = np.empty((len(a), len(c)), dtype=np.int64)
    both, bits = np.empty_like(a), np.empty(a.shape, dtype=np.uint8)
    for j in range(len(c)):
        np.bitwise_and(a, c[j], out=both)
        np.bitwise_count(both, out=bits)
        out[:, j] = np.add.reduce(bits, axis=1, dtype=np.uint32)  # < 2**32 rows
    return out
