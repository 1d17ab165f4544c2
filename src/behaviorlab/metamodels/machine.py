"""The rule machine: a program's guards and actions evaluated on many (input, position) rows at once.

A row is output position i of input b. What the output held before it (`prev`, `ocount`) comes from
a model's output (teacher forcing: the search's rows) or from the program's own decoding. Programs
that never read their output decode all positions of all inputs in one pass; the others decode
position by position, every input at once.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Protocol

import numpy as np

from behaviorlab.metamodels.batch import NEVER, NONE, Batch, Targets
from behaviorlab.metamodels.context import View
from behaviorlab.metamodels.features import Term
from behaviorlab.metamodels.rules import Action, Atom, Cmp, Op, Rule, TokEq, atom_reads_output, reads_output

_OPFN: dict[Op, Callable[[np.ndarray, int], np.ndarray]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}


class History(Protocol):
    """The output written before each row."""

    def prev(self, b: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Id of the previous output token (NONE at position 0)."""
        ...

    def ocount(self, tok: int, b: np.ndarray, i: np.ndarray) -> np.ndarray:
        """How often the token occurs in the output before position i."""
        ...


class Written:
    """History held in an id matrix [B, T]: a model's outputs, or a decoding in progress."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = ids
        self._counts: dict[int, np.ndarray] = {}

    def prev(self, b: np.ndarray, i: np.ndarray) -> np.ndarray:
        return np.where(i > 0, self.ids[b, np.maximum(i - 1, 0)], NONE)

    def ocount(self, tok: int, b: np.ndarray, i: np.ndarray) -> np.ndarray:
        got = self._counts.get(tok)
        if got is None:  # [B, T + 1]: count of tok in ids[:, :i]
            hits = (self.ids == tok).cumsum(1)
            got = self._counts[tok] = np.concatenate([np.zeros((len(hits), 1), np.int64), hits], axis=1)
        return got[b, i]


class _Decoding(Written):
    """History of a decoding in progress; counts are kept up to date as tokens are written."""

    def __init__(self, ids: np.ndarray, n_tokens: int) -> None:
        super().__init__(ids)
        self.counts = np.zeros((len(ids), n_tokens + 1), dtype=np.int64)  # last column: NEVER

    def ocount(self, tok: int, b: np.ndarray, i: np.ndarray) -> np.ndarray:
        return self.counts[b, tok if 0 <= tok < self.counts.shape[1] - 1 else -1]

    def write(self, b: np.ndarray, i: int, tok: np.ndarray) -> None:
        self.ids[b, i] = tok
        self.counts[b, tok] += 1  # each input appears once in b


class Rows:
    """Rows (b, i) to evaluate at, with the output written before each.

    Rows that many programs run on (a batch's decoding grid, the search's teacher-forced rows)
    keep what guards and actions give on them (`memo`, for the batch `memo_of`): every program
    there is then a few ANDs of kept truth tables.
    """

    def __init__(
        self, b: np.ndarray, i: np.ndarray, history: History | None = None, memo_of: Batch | None = None
    ) -> None:
        self.b, self.i, self.history = b, i, history
        self.memo_of = memo_of
        self.memo: dict[object, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.b)

    def take(self, idx: np.ndarray) -> Rows:
        """The rows at these indices."""
        return Rows(self.b[idx], self.i[idx], self.history)

    def written(self) -> History:
        """The history, which a guard reading the output needs."""
        if self.history is None:
            raise ValueError("this guard reads the output so far, but the rows carry none")
        return self.history


def _positions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(b, i) for i in range(counts[b]) for every b, in that order."""
    b = np.repeat(np.arange(len(counts)), counts)
    return b, np.arange(len(b)) - np.repeat(np.cumsum(counts) - counts, counts)


def teacher_forced(batch: Batch, targets: Targets) -> Rows:
    """Every output position of every model output, and the stop after it (within 2n + 8)."""
    b, i = _positions(np.minimum(targets.lengths, 2 * batch.n + 7) + 1)
    return Rows(b, i, Written(targets.ids), memo_of=batch)


def _grid(batch: Batch) -> Rows:
    """Every position a decoding may write (2n + 8 per input), kept per batch."""
    got = batch.cache.get(_grid)
    if not isinstance(got, Rows):
        got = batch.cache[_grid] = Rows(*_positions(2 * batch.n + 8), memo_of=batch)
    return got


def target_at(targets: Targets, rows: Rows) -> np.ndarray:
    """The model's token at each row (NONE where it stopped)."""
    return targets.ids[rows.b, rows.i]


def values(terms: tuple[Term, ...], batch: Batch, rows: Rows) -> np.ndarray:
    """[rows] Σ coef·feature."""
    v = batch.static_sum(terms)[rows.b]
    for t in terms:
        if t.feat == "i":
            v = v + t.coef * rows.i
        elif t.feat == "depth":
            v = v + t.coef * batch.depth[rows.b, np.minimum(rows.i, batch.n[rows.b])]
        elif t.feat == "ocount":
            v = v + t.coef * rows.written().ocount(batch.vocab.id(t.arg), rows.b, rows.i)
    return v


def truth(atom: Atom, batch: Batch, rows: Rows) -> np.ndarray:
    """[rows] whether the atom holds."""
    if isinstance(atom, Cmp):
        return _OPFN[atom.op](values(atom.terms, batch, rows), atom.const)
    if atom.source == "prev":
        read = rows.written().prev(rows.b, rows.i)
    elif atom.source == "at":
        read = batch.place(atom.offset)[rows.b]
    else:
        read = batch.token_at(rows.b, rows.i + atom.offset)
    return (read == batch.vocab.id(atom.token)) != atom.negate


def performed(action: Action, batch: Batch, rows: Rows) -> np.ndarray:
    """[rows] the token id the action writes; NONE for stop (also when reading past an end)."""
    if action.kind == "emit":
        return np.full(len(rows), batch.vocab.id(action.token), dtype=np.int64)
    if action.kind in ("copy", "flip"):
        tok = batch.token_at(rows.b, rows.i + action.offset)
        return batch.vocab.flip(tok) if action.kind == "flip" else tok
    if action.kind == "reference":
        inside = rows.i < batch.ref_n[rows.b]
        return np.where(inside, batch.ref[rows.b, np.minimum(rows.i, batch.ref.shape[1] - 1)], NONE)
    return np.full(len(rows), NONE, dtype=np.int64)


class Runnable(Protocol):
    """What the machine reads of a program: its rules and their view."""

    @property
    def rules(self) -> tuple[Rule, ...]: ...

    @property
    def view(self) -> View | None: ...

    @property
    def view_at(self) -> int: ...


def _tokens_kept(p: Runnable, batch: Batch, kept: Rows, at: np.ndarray | None, rows: Rows) -> np.ndarray:
    """`tokens` on `rows` = the `kept` rows at indices `at` (all when None): each guard atom and
    action is computed on all kept rows once (per view) and reused by every program run there;
    atoms that read the output are computed on `rows`, which carry it."""
    out = np.full(len(rows), NONE, dtype=np.int64)
    todo = np.ones(len(rows), dtype=bool)

    def static(key: tuple[View | None, Atom | Action], make: Callable[[], np.ndarray]) -> np.ndarray:
        got = kept.memo.get(key)
        if got is None:
            got = kept.memo[key] = make()
        return got if at is None else got[at]

    for k, rule in enumerate(p.rules):
        view = p.view if p.view is not None and k >= p.view_at else None
        src = batch.viewed(view)
        hold = todo.copy()
        for atom in rule.guard:
            if at is not None and atom_reads_output(atom):
                hold &= truth(atom, src, rows)
            else:
                hold &= static((view, atom), lambda: truth(atom, src, kept))  # noqa: B023 (called at once)
        out[hold] = static((view, rule.action), lambda: performed(rule.action, src, kept))[hold]  # noqa: B023
        todo &= ~hold
        if not todo.any():
            break
    return out


def tokens(p: Runnable, batch: Batch, rows: Rows) -> np.ndarray:
    """[rows] the token the first rule whose guard holds writes; NONE means stop."""
    if rows.memo_of is batch:
        return _tokens_kept(p, batch, rows, None, rows)
    out = np.full(len(rows), NONE, dtype=np.int64)
    todo = np.arange(len(rows))
    viewed = batch.viewed(p.view)
    for k, rule in enumerate(p.rules):
        src = viewed if p.view is not None and k >= p.view_at else batch
        sub = rows.take(todo)
        hold = np.ones(len(todo), dtype=bool)
        for atom in rule.guard:
            hold &= truth(atom, src, sub)
        out[todo[hold]] = performed(rule.action, src, sub.take(np.flatnonzero(hold)))
        todo = todo[~hold]
        if not len(todo):
            break
    return out


def _intern(p: Runnable, batch: Batch) -> None:
    """Give every token a program names an id before decoding sizes its tables."""
    vocab = batch.vocab
    vocab.flip(np.zeros(0, dtype=np.int64))
    for r in p.rules:
        if r.action.kind == "emit":
            vocab.id(r.action.token)
        for a in r.guard:
            if isinstance(a, TokEq):
                vocab.id(a.token)
            else:
                for t in a.terms:
                    if t.feat == "ocount":  # the one token argument decoding counts
                        vocab.id(t.arg)


def decode(p: Runnable, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Greedy decode of every input, bounded at 2n + 8 tokens: ids [B, T] (NONE-padded), lengths."""
    _intern(p, batch)
    limit = 2 * batch.n + 8
    width = int(limit.max(initial=0)) + 1  # the last column stays NONE: every output stops
    ids = np.full((len(batch), width), NONE, dtype=np.int64)
    if not reads_output(p.rules):
        grid = _grid(batch)
        ids[grid.b, grid.i] = tokens(p, batch, grid)
        lengths = (ids == NONE).argmax(1)  # the first stop ends the output
        ids[np.arange(width) >= lengths[:, None]] = NONE
        return ids, lengths
    history = _Decoding(ids, len(batch.vocab.tokens))
    grid, start = _grid(batch), np.cumsum(limit) - limit  # input b's positions start at start[b]
    alive = np.arange(len(batch))
    for i in range(width - 1):
        alive = alive[limit[alive] > i]
        if not len(alive):
            break
        tok = _tokens_kept(p, batch, grid, start[alive] + i, Rows(alive, np.full(len(alive), i), history))
        alive, tok = alive[tok != NONE], tok[tok != NONE]
        history.write(alive, i, tok)
    return ids, (ids != NONE).sum(1)


def matches(p: Runnable, batch: Batch, targets: Targets) -> np.ndarray:
    """[B] whether the program's output string equals the model's."""
    ids, lengths = decode(p, batch)
    if not batch.vocab.all_atomic():  # token sequences might not compare as their strings do
        outs = batch.texts(ids, lengths)
        return np.array([a == m for a, m in zip(outs, targets.texts, strict=True)], dtype=bool)
    width = max(ids.shape[1], targets.ids.shape[1])
    mine = np.pad(ids, ((0, 0), (0, width - ids.shape[1])), constant_values=NONE)
    theirs = np.pad(targets.ids, ((0, 0), (0, width - targets.ids.shape[1])), constant_values=NONE)
    return targets.canonical & (lengths == targets.lengths) & (mine == theirs).all(1)


__all__ = ["NEVER", "NONE", "Rows", "decode", "matches", "teacher_forced", "tokens", "truth", "values"]
