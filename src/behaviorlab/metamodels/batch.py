"""Many inputs as integer arrays: the vectorised form of a list of Contexts.

Tokens become small integer ids, shared by every batch cut or viewed from this one; inputs are the
rows of a padded matrix (NONE past the end). Input-only features are computed once per batch for
all inputs at once and cached: a search tries hundreds of programs on the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from behaviorlab.behaviors.tokens import detokenize, tokenize
from behaviorlab.metamodels.context import Context, View
from behaviorlab.metamodels.features import DYNAMIC, Term, place_of
from behaviorlab.metamodels.rules import FLIP

NONE = -1  # no token: past either end of the input or of an output, or a stop
NEVER = -2  # the id of a missing token argument: equal to nothing, not even NONE


class Vocab:
    """Token strings ↔ ids, assigned in order of first use."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.tokens: list[str] = []
        self._flip = np.zeros(0, dtype=np.int64)
        self._atomic = 0  # tokens[:_atomic] are known to be single grammar tokens

    def id(self, tok: str | None) -> int:
        """The token's id (a new one for a token not seen before)."""
        if tok is None:
            return NEVER
        got = self.ids.get(tok)
        if got is None:
            got = self.ids[tok] = len(self.tokens)
            self.tokens.append(tok)
        return got

    def ids_of(self, toks: Sequence[str]) -> np.ndarray:
        """Ids of a token sequence (new tokens numbered in order of first appearance)."""
        known = self.ids
        for tok in dict.fromkeys(toks):  # C-speed dedup that keeps first-appearance order
            if tok not in known:
                self.id(tok)
        return np.fromiter(map(known.__getitem__, toks), dtype=np.int64, count=len(toks))

    def flip(self, ids: np.ndarray) -> np.ndarray:
        """`flip` on ids: 0 ↔ 1 and XO ↔ X1; other tokens and NONE unchanged."""
        pairs = [(self.id(a), self.id(b)) for a, b in FLIP.items()]
        if len(self._flip) != len(self.tokens):
            self._flip = np.arange(len(self.tokens), dtype=np.int64)
            for a, b in pairs:
                self._flip[a] = b
        return np.where(ids >= 0, self._flip[np.maximum(ids, 0)], ids)

    def all_atomic(self) -> bool:
        """Whether every token re-tokenizes as itself: then token sequences compare as strings do."""
        while self._atomic < len(self.tokens):
            tok = self.tokens[self._atomic]
            if tokenize(tok) != [tok]:
                return False
            self._atomic += 1
        return True


def _padded(seqs: Sequence[Sequence[str]], vocab: Vocab, extra: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """[len(seqs), longest + extra] ids (at least one column), NONE-padded; and the lengths."""
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    width = max(1, int(lengths.max(initial=0)) + extra)
    out = np.full((len(seqs), width), NONE, dtype=np.int64)
    rows = np.repeat(np.arange(len(seqs)), lengths)
    cols = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    out[rows, cols] = vocab.ids_of([t for s in seqs for t in s])
    return out, lengths


@dataclass(frozen=True)
class Targets:
    """A model's outputs on a batch's inputs, as ids (NONE-padded, one spare column)."""

    texts: Sequence[str]
    ids: np.ndarray  # [B, longest + 1]
    lengths: np.ndarray  # [B] tokens per output
    canonical: np.ndarray  # [B] whether the text is its tokens in canonical spacing


class Batch:
    """Inputs as a NONE-padded id matrix `X` [B, L] with lengths `n` [B] (and reference outputs)."""

    def __init__(
        self, X: np.ndarray, n: np.ndarray, vocab: Vocab, ref: np.ndarray, ref_n: np.ndarray
    ) -> None:
        self.X, self.n, self.vocab = X, n, vocab
        self.ref, self.ref_n = ref, ref_n
        self._static: dict[tuple[str, str | None], np.ndarray] = {}
        self._sums: dict[tuple[Term, ...], np.ndarray] = {}
        self._views: dict[View, Batch] = {}
        self._depth: np.ndarray | None = None
        self._targets: dict[int, Targets] = {}
        self.cache: dict[object, object] = {}  # other views of the same inputs (e.g. node tables)

    @classmethod
    def of(cls, contexts: Sequence[Context], vocab: Vocab | None = None) -> Batch:
        """The batch of these contexts (token ids from `vocab`, or a new one)."""
        vocab = vocab if vocab is not None else Vocab()
        X, n = _padded([c.x for c in contexts], vocab)
        ref, ref_n = _padded([c.reference for c in contexts], vocab)
        return cls(X, n, vocab, ref, ref_n)

    @classmethod
    def of_texts(cls, texts: Sequence[str], vocab: Vocab | None = None) -> Batch:
        """The batch of these input strings."""
        return cls.of([Context(tokenize(x)) for x in texts], vocab)

    def __len__(self) -> int:
        return len(self.n)

    def head(self, m: int) -> Batch:
        """The first m inputs (same vocabulary)."""
        return Batch(self.X[:m], self.n[:m], self.vocab, self.ref[:m], self.ref_n[:m])

    def viewed(self, view: View | None) -> Batch:
        """Each input as `x[:head] + x[-tail:]` (unchanged when it is that short already).

        Models with learned absolute positions often see only the positions they were trained on
        (plus the end of the input): a view is that shortcut, cached per batch.
        """
        if view is None:
            return self
        got = self._views.get(view)
        if got is None:
            head, tail = view
            width = max(1, head + tail)
            X = np.full((len(self), width), NONE, dtype=np.int64)
            keep = min(width, self.X.shape[1])
            X[:, :keep] = self.X[:, :keep]
            cut = np.flatnonzero(self.n > head + tail)
            for k in range(tail):  # the last `tail` tokens of the inputs that are cut
                X[cut, head + k] = self.X[cut, self.n[cut] - tail + k]
            n = np.minimum(self.n, head + tail)
            got = self._views[view] = Batch(X, n, self.vocab, self.ref, self.ref_n)
        return got

    def token_at(self, b: np.ndarray, j: np.ndarray) -> np.ndarray:
        """x_b[j] for each pair, NONE outside the input."""
        inside = (j >= 0) & (j < self.n[b])
        return np.where(inside, self.X[b, np.clip(j, 0, self.X.shape[1] - 1)], NONE)

    def place(self, j: int) -> np.ndarray:
        """x@j of every input: position j from the start, or from the end when negative."""
        b = np.arange(len(self))
        return self.token_at(b, np.full(len(self), j) if j >= 0 else self.n + j)

    @property
    def depth(self) -> np.ndarray:
        """[B, L + 1] bracket depth of x[:i]."""
        if self._depth is None:
            opens = np.isin(self.X, [self.vocab.id("("), self.vocab.id("[")])
            closes = np.isin(self.X, [self.vocab.id(")"), self.vocab.id("]")])
            step = opens.astype(np.int64) - closes
            self._depth = np.concatenate([np.zeros((len(self), 1), np.int64), step.cumsum(1)], axis=1)
        return self._depth

    def static(self, feat: str, arg: str | None) -> np.ndarray:
        """[B] values of an input-only feature."""
        key = (feat, arg)
        got = self._static.get(key)
        if got is None:
            got = self._static[key] = self._static_value(feat, arg)
        return got

    def _static_value(self, feat: str, arg: str | None) -> np.ndarray:
        x, n, width = self.X, self.n, self.X.shape[1]
        tok_id = self.vocab.id(arg) if feat != "is" else NEVER
        if feat == "is" and arg is not None:
            tok, at = place_of(arg)
            return (self.place(at) == self.vocab.id(tok)).astype(np.int64)
        if feat in ("count", "first", "last"):
            hit = x == tok_id
            if feat == "count":
                return hit.sum(1, dtype=np.int64)
            if feat == "first":
                return np.where(hit.any(1), hit.argmax(1), -1)
            return np.where(hit.any(1), width - 1 - hit[:, ::-1].argmax(1), -1)
        if feat in ("run", "lead"):
            other = (x != tok_id) & (np.arange(width) < n[:, None])
            if feat == "lead":  # the first other token, or the whole input
                return np.where(other.any(1), other.argmax(1), n)
            last_other = np.where(other.any(1), width - 1 - other[:, ::-1].argmax(1), -1)
            return n - 1 - last_other
        raise ValueError(f"unknown feature {feat!r}")

    def static_sum(self, terms: tuple[Term, ...]) -> np.ndarray:
        """[B] Σ coef·feature over the input-only terms (the others are skipped), cached."""
        got = self._sums.get(terms)
        if got is None:
            got = np.zeros(len(self), dtype=np.int64)
            for t in terms:
                if t.feat not in DYNAMIC:
                    got = got + t.coef * (self.n if t.feat == "n" else self.static(t.feat, t.arg))
            self._sums[terms] = got
        return got

    def targets(self, outs: Sequence[str]) -> Targets:
        """A model's outputs on these inputs as ids; cached per list (pass the same list again)."""
        got = self._targets.get(id(outs))
        if got is None or got.texts is not outs:  # the entry holds the list, so its id stays unique
            toks = [tokenize(m) for m in outs]
            ids, lengths = _padded(toks, self.vocab, extra=1)
            canonical = np.fromiter((detokenize(t) == m for t, m in zip(toks, outs, strict=True)), bool)
            got = self._targets[id(outs)] = Targets(outs, ids, lengths, canonical)
        return got

    def texts(self, ids: np.ndarray, lengths: np.ndarray) -> list[str]:
        """Output strings from ids (as decoded by `machine.decode`)."""
        tokens = self.vocab.tokens
        rows = zip(ids.tolist(), lengths.tolist(), strict=True)
        return [detokenize([tokens[t] for t in row[:k]]) for row, k in rows]

    def token_counts(self) -> list[tuple[str, int]]:
        """Input tokens by frequency, ties in order of first appearance (as Counter.most_common)."""
        flat = self.X[np.arange(self.X.shape[1]) < self.n[:, None]]
        ids, first, counts = np.unique(flat, return_index=True, return_counts=True)
        order = np.lexsort((first, -counts))
        return [(self.vocab.tokens[int(ids[k])], int(counts[k])) for k in order]

    def has_token(self, toks: Sequence[str]) -> bool:
        """Whether any input holds one of these tokens."""
        return bool(np.isin(self.X, [self.vocab.id(t) for t in toks]).any())


Inputs = Sequence[Context] | Batch


def as_batch(contexts: Inputs, vocab: Vocab | None = None) -> Batch:
    """A batch as it is, or the batch of a list of contexts."""
    return contexts if isinstance(contexts, Batch) else Batch.of(contexts, vocab)
