"""Shortcut programs: an ordered list of guarded rules applied at every output position.

A program is an abstract state machine in the RASP spirit: at output position i it reads features
of the input x (length n) and of the output so far, fires the first rule whose guard holds, and
performs its action (copy/flip an input token at i+offset, emit a token, stop). Programs are
immutable, hashable, printable (see text.py) and have a size in bits = description length.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from behaviorlab.behaviors.tokens import detokenize, tokenize

# Numeric features. `i` = output position, `n` = input length, `depth` = bracket depth of x[:i];
# the rest take a token argument: count/first/last occurrence in x, trailing (`run`) and leading
# (`lead`) run length of the token in x, and `ocount` = its count in the output so far.
FEATURES = ("i", "n", "depth", "count", "first", "last", "run", "lead", "ocount")
TOKEN_FEATURES = frozenset({"count", "first", "last", "run", "lead", "ocount"})
OPS = ("==", "!=", "<=", ">=", "<", ">")
ACTIONS = ("copy", "flip", "emit", "stop", "reference")
FLIP = {"0": "1", "1": "0", "XO": "X1", "X1": "XO"}
TOKEN_BITS = 6.0  # a token reference costs log2(64) bits: vocabularies here are < 64 tokens
REFERENCE_BITS = 512.0  # declared size of an opaque reference solver (a ~64-byte definition)
_OPEN, _CLOSE = frozenset({"(", "["}), frozenset({")", "]"})


def _gamma(k: int) -> float:
    """Elias-gamma length of a positive integer: a universal code for small numbers."""
    return 2.0 * math.floor(math.log2(k)) + 1.0


def _signed(c: int) -> float:
    return _gamma(2 * abs(c) + (1 if c < 0 else 0) + 1)


@dataclass(frozen=True)
class Term:
    """coef · feature(arg)."""

    feat: str
    arg: str | None = None
    coef: int = 1

    def bits(self) -> float:
        """Description length of the term."""
        extra = TOKEN_BITS if self.arg is not None else 0.0
        return math.log2(len(FEATURES)) + extra + _signed(self.coef)


@dataclass(frozen=True)
class Cmp:
    """Σ terms  op  const (integer arithmetic over features)."""

    terms: tuple[Term, ...]
    op: str
    const: int

    def bits(self) -> float:
        """Description length of the comparison."""
        return (1.0 + _gamma(len(self.terms) + 1) + sum(t.bits() for t in self.terms)
                + math.log2(len(OPS)) + _signed(self.const))


@dataclass(frozen=True)
class TokEq:
    """x[i + offset] == token (source "x"), or previous output token == token (source "prev")."""

    source: Literal["x", "prev"]
    token: str
    offset: int = 0
    negate: bool = False

    def bits(self) -> float:
        """Description length of the token test."""
        return 3.0 + TOKEN_BITS + (_signed(self.offset) if self.source == "x" else 0.0)


Atom = Cmp | TokEq


@dataclass(frozen=True)
class Action:
    """What a rule does at the current output position."""

    kind: str
    offset: int = 0
    token: str = ""

    def bits(self) -> float:
        """Description length of the action."""
        base = math.log2(len(ACTIONS))
        if self.kind in ("copy", "flip"):
            return base + _signed(self.offset)
        if self.kind == "emit":
            return base + TOKEN_BITS
        return base + (REFERENCE_BITS if self.kind == "reference" else 0.0)


@dataclass(frozen=True)
class Rule:
    """if all(guard) then action; an empty guard is `else`."""

    guard: tuple[Atom, ...]
    action: Action

    def bits(self) -> float:
        """Description length of the rule."""
        return 1.0 + _gamma(len(self.guard) + 1) + sum(a.bits() for a in self.guard) \
            + self.action.bits()


class Context:
    """One input, with static features cached so each decoding step is cheap."""

    def __init__(self, x: Sequence[str], reference: Sequence[str] = ()) -> None:
        self.x = list(x)
        self.n = len(self.x)
        self.reference = list(reference)
        self._cache: dict[tuple[str, str | None], int] = {}
        self._sums: dict[int, int] = {}
        self._depth = [0]
        for tok in self.x:
            self._depth.append(self._depth[-1] + (tok in _OPEN) - (tok in _CLOSE))

    def static(self, feat: str, arg: str | None) -> int:
        """Value of an input-only feature."""
        key = (feat, arg)
        if key not in self._cache:
            self._cache[key] = _static_value(self.x, feat, arg)
        return self._cache[key]

    def static_sum(self, terms: tuple[Term, ...]) -> int:
        """Σ coef·feature over input-only terms, cached per context."""
        # Keyed by identity: compiled guards hold their term tuples for the program's lifetime,
        # and hashing nested dataclasses on every step would dominate decoding time.
        got = self._sums.get(id(terms))
        if got is None:
            got = self._sums[id(terms)] = sum(t.coef * self.value(t, 0, ()) for t in terms)
        return got

    def value(self, term: Term, i: int, out: Sequence[str]) -> int:
        """Value of a feature at output position i given the output so far."""
        if term.feat == "i":
            return i
        if term.feat == "n":
            return self.n
        if term.feat == "depth":
            return self._depth[min(i, self.n)]
        if term.feat == "ocount":
            return sum(1 for t in out if t == term.arg)
        return self.static(term.feat, term.arg)

    def token_at(self, j: int) -> str | None:
        """x[j], or None outside the input."""
        return self.x[j] if 0 <= j < self.n else None


def _static_value(x: list[str], feat: str, arg: str | None) -> int:
    if feat == "count":
        return x.count(arg) if arg is not None else 0
    if feat == "first":
        return x.index(arg) if arg in x else -1
    if feat == "last":
        return len(x) - 1 - x[::-1].index(arg) if arg in x else -1
    if feat in ("run", "lead"):
        seq = x[::-1] if feat == "run" else x
        k = 0
        while k < len(seq) and seq[k] == arg:
            k += 1
        return k
    raise ValueError(f"unknown feature {feat!r}; expected one of {FEATURES}")


def holds(atom: Atom, ctx: Context, i: int, out: Sequence[str]) -> bool:
    """Whether an atom is true at position i."""
    if isinstance(atom, TokEq):
        got = (out[-1] if out else None) if atom.source == "prev" else ctx.token_at(i + atom.offset)
        return (got == atom.token) != atom.negate
    v = sum(t.coef * ctx.value(t, i, out) for t in atom.terms)
    c = atom.const
    op = atom.op
    return (v == c if op == "==" else v != c if op == "!=" else v <= c if op == "<="
            else v >= c if op == ">=" else v < c if op == "<" else v > c)


_Test = Callable[[Context, int, Sequence[str]], bool]
_OPFN: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge,
    "<": operator.lt, ">": operator.gt}
_DYNAMIC = frozenset({"i", "depth", "ocount"})


def _compile(atom: Atom) -> _Test:
    """A closure equivalent to `holds(atom, …)`; input-only terms are summed once per context."""
    if isinstance(atom, TokEq):
        return lambda ctx, i, out: holds(atom, ctx, i, out)
    static = tuple(t for t in atom.terms if t.feat not in _DYNAMIC)
    ci = sum(t.coef for t in atom.terms if t.feat == "i")
    dyn = tuple(t for t in atom.terms if t.feat in ("depth", "ocount"))
    opf, const = _OPFN[atom.op], atom.const

    def test(ctx: Context, i: int, out: Sequence[str]) -> bool:
        v = ctx.static_sum(static) + ci * i
        for t in dyn:
            v += t.coef * ctx.value(t, i, out)
        return opf(v, const)

    return test


def perform(action: Action, ctx: Context, i: int) -> str | None:
    """The token an action emits at position i, or None for stop (also when reading past x)."""
    if action.kind == "emit":
        return action.token
    if action.kind in ("copy", "flip"):
        tok = ctx.token_at(i + action.offset)
        if tok is None:
            return None
        return FLIP.get(tok, tok) if action.kind == "flip" else tok
    if action.kind == "reference":
        return ctx.reference[i] if i < len(ctx.reference) else None
    return None


@dataclass(frozen=True)
class Program:
    """A named decision list; `oracle` (not serialised) backs the opaque `reference` action."""

    name: str
    rules: tuple[Rule, ...]
    oracle: Callable[[str], str] | None = field(default=None, compare=False, repr=False)

    @property
    def size_bits(self) -> float:
        """Description length |C(B)| in bits."""
        return 1.0 + sum(r.bits() for r in self.rules)

    def uses_reference(self) -> bool:
        """Whether running needs the oracle."""
        return any(r.action.kind == "reference" for r in self.rules)

    @cached_property
    def _compiled(self) -> list[tuple[list[_Test], Action]]:
        return [([_compile(a) for a in r.guard], r.action) for r in self.rules]

    def step(self, ctx: Context, i: int, out: Sequence[str]) -> Action | None:
        """The first rule whose guard holds; None means stop."""
        for tests, action in self._compiled:
            if all(t(ctx, i, out) for t in tests):
                return action
        return None

    def context(self, x: Sequence[str]) -> Context:
        """Build the decoding context, consulting the oracle only when a rule needs it."""
        ref: list[str] = []
        if self.uses_reference():
            if self.oracle is None:
                raise ValueError(f"program {self.name!r} uses `reference` but has no oracle bound")
            try:
                ref = tokenize(self.oracle(detokenize(x)))
            except ValueError:  # BadInput on gibberish: the reference has nothing to say
                ref = []
        return Context(x, ref)

    def run_tokens(self, x: Sequence[str]) -> list[str]:
        """Greedy decode, bounded at 2n + 8 tokens."""
        return self.run_context(self.context(x))

    def run_context(self, ctx: Context) -> list[str]:
        """Greedy decode from a prepared context (contexts cache features across programs)."""
        out: list[str] = []
        for i in range(2 * ctx.n + 8):
            action = self.step(ctx, i, out)
            tok = None if action is None else perform(action, ctx, i)
            if tok is None:
                break
            out.append(tok)
        return out

    def run(self, text: str) -> str:
        """Input string → output string."""
        return detokenize(self.run_tokens(tokenize(text)))

    def run_many(self, texts: Sequence[str]) -> list[str]:
        """Batch form, matching the `predict` signature."""
        return [self.run(t) for t in texts]

    def bind(self, oracle: Callable[[str], str] | None) -> Program:
        """The same program with an oracle attached."""
        return Program(self.name, self.rules, oracle)

    def renamed(self, name: str) -> Program:
        """The same rules under another name."""
        return Program(name, self.rules, self.oracle)
