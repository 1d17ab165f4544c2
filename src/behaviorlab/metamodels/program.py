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
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

from behaviorlab.behaviors.tokens import detokenize, tokenize
from behaviorlab.metamodels.context import Context, View

# Numeric features. `i` = output position, `n` = input length, `depth` = bracket depth of x[:i];
# the rest take a token argument: count/first/last occurrence in x, trailing (`run`) and leading
# (`lead`) run length of the token in x, and `ocount` = its count in the output so far;
# `is(T@k)` is 1 when x@k (absolute position, negative from the end) is T, else 0: weighted sums
# of these are threshold units, the vote of input positions a network computes.
FEATURES = ("i", "n", "depth", "count", "first", "last", "run", "lead", "ocount", "is")
TOKEN_FEATURES = frozenset({"count", "first", "last", "run", "lead", "ocount", "is"})
OPS = ("==", "!=", "<=", ">=", "<", ">")
ACTIONS = ("copy", "flip", "emit", "stop", "reference")
FLIP = {"0": "1", "1": "0", "XO": "X1", "X1": "XO"}
TOKEN_BITS = 6.0  # a token reference costs log2(64) bits: vocabularies here are < 64 tokens
REFERENCE_BITS = 512.0  # declared size of an opaque reference solver (a ~64-byte definition)


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
        if self.feat == "is" and self.arg is not None:
            extra += _signed(int(self.arg.rsplit("@", 1)[1]))
        return math.log2(len(FEATURES)) + extra + _signed(self.coef)


@dataclass(frozen=True)
class Cmp:
    """Σ terms  op  const (integer arithmetic over features)."""

    terms: tuple[Term, ...]
    op: str
    const: int

    def bits(self) -> float:
        """Description length of the comparison."""
        return (
            1.0
            + _gamma(len(self.terms) + 1)
            + sum(t.bits() for t in self.terms)
            + math.log2(len(OPS))
            + _signed(self.const)
        )


@dataclass(frozen=True)
class TokEq:
    """A token test: x[i + offset] == token (source "x", relative to the output position),
    x@offset == token (source "at": absolute input position, negative counts from the end), or
    previous output token == token (source "prev")."""

    source: Literal["x", "at", "prev"]
    token: str
    offset: int = 0
    negate: bool = False

    def bits(self) -> float:
        """Description length of the token test."""
        return 3.0 + TOKEN_BITS + (_signed(self.offset) if self.source != "prev" else 0.0)

    def read(self, ctx: Context, i: int, out: Sequence[str]) -> str | None:
        """The token this test looks at (None past either end)."""
        if self.source == "prev":
            return out[-1] if out else None
        if self.source == "at":
            return ctx.token_at_place(self.offset)
        return ctx.token_at(i + self.offset)


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
        return 1.0 + _gamma(len(self.guard) + 1) + sum(a.bits() for a in self.guard) + self.action.bits()


def holds(atom: Atom, ctx: Context, i: int, out: Sequence[str]) -> bool:
    """Whether an atom is true at position i."""
    if isinstance(atom, TokEq):
        return (atom.read(ctx, i, out) == atom.token) != atom.negate
    v = sum(t.coef * ctx.value(t, i, out) for t in atom.terms)
    c = atom.const
    op = atom.op
    return (
        v == c
        if op == "=="
        else v != c
        if op == "!="
        else v <= c
        if op == "<="
        else v >= c
        if op == ">="
        else v < c
        if op == "<"
        else v > c
    )


_Test = Callable[[Context, int, Sequence[str]], bool]
_OPFN: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
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
    """A named decision list; `oracle` (not serialised) backs the opaque `reference` action.

    With a `view`, rules from index `view_at` on read `x[:head] + x[-tail:]` instead of x; the
    rules before it (exceptions to a windowed shortcut) still read the whole input. The first
    `exceptions` rules are exceptions patched onto the shortcut below them (see `shortcut`).
    """

    name: str
    rules: tuple[Rule, ...]
    oracle: Callable[[str], str] | None = field(default=None, compare=False, repr=False)
    view: View | None = None
    view_at: int = 0
    exceptions: int = 0

    @property
    def size_bits(self) -> float:
        """Description length |C(B)| in bits."""
        # One flag bit says whether a view line follows; a view costs its two small numbers
        # and the line it sits on.
        view = (
            0.0
            if self.view is None
            else (_gamma(self.view[0]) + _gamma(self.view[1] + 1) + _gamma(self.view_at + 1))
        )
        marker = _gamma(self.exceptions + 1) if self.exceptions else 0.0
        return 1.0 + view + marker + sum(r.bits() for r in self.rules)

    def uses_reference(self) -> bool:
        """Whether running needs the oracle."""
        return any(r.action.kind == "reference" for r in self.rules)

    @cached_property
    def _compiled(self) -> list[tuple[list[_Test], Action, bool]]:
        return [
            ([_compile(a) for a in r.guard], r.action, self.view is not None and k >= self.view_at)
            for k, r in enumerate(self.rules)
        ]

    def fire(self, ctx: Context, i: int, out: Sequence[str]) -> tuple[Action, Context] | None:
        """The first rule whose guard holds, with the (possibly windowed) context it read."""
        viewed = ctx.viewed(self.view)
        for tests, action, windowed in self._compiled:
            c = viewed if windowed else ctx
            for t in tests:  # an explicit loop: `all(genexpr)` dominated decoding time
                if not t(c, i, out):
                    break
            else:
                return action, c
        return None

    def step(self, ctx: Context, i: int, out: Sequence[str]) -> Action | None:
        """The first rule whose guard holds; None means stop."""
        got = self.fire(ctx, i, out)
        return None if got is None else got[0]

    def token(self, ctx: Context, i: int, out: Sequence[str]) -> str | None:
        """The token written at position i after `out`; None means stop."""
        got = self.fire(ctx, i, out)
        return None if got is None else perform(got[0], got[1], i)

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
            tok = self.token(ctx, i, out)
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
        return replace(self, oracle=oracle)

    def renamed(self, name: str) -> Program:
        """The same rules under another name."""
        return replace(self, name=name)

    def with_view(self, view: View | None, name: str | None = None) -> Program:
        """The same rules, all reading a windowed input."""
        return replace(self, name=name or self.name, view=view, view_at=0)

    def without(self, k: int) -> Program:
        """Rule k dropped (the view and the exceptions marker keep their places)."""
        return replace(
            self,
            rules=self.rules[:k] + self.rules[k + 1 :],
            view_at=self.view_at - (k < self.view_at),
            exceptions=self.exceptions - (k < self.exceptions),
        )

    def replacing(self, k: int, rule: Rule) -> Program:
        """Rule k replaced."""
        return replace(self, rules=self.rules[:k] + (rule,) + self.rules[k + 1 :])

    def prepending(self, rules: Sequence[Rule], name: str) -> Program:
        """Exceptions in front; they read the whole input even when the rest is windowed."""
        return replace(
            self,
            name=name,
            rules=tuple(rules) + self.rules,
            view_at=self.view_at + len(rules) if self.view is not None else 0,
            exceptions=self.exceptions + len(rules),
        )

    @property
    def label(self) -> str:
        """Name for tables: the shortcut's name, and how many exceptions sit on top of it."""
        k = self.exceptions
        return self.name if not k else f"{self.shortcut().name} + {k} exception{'s' * (k > 1)}"

    def shortcut(self) -> Program:
        """The program without its exceptions: the shortcut they were patched onto."""
        k = self.exceptions
        return replace(
            self,
            name=self.name.removesuffix("+patch"),
            rules=self.rules[k:],
            view_at=max(self.view_at - k, 0),
            exceptions=0,
        )
