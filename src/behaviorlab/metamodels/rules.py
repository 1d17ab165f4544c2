"""Guarded rules: comparisons and token tests as guard atoms, and the actions a rule performs.

These are plain immutable values with a size in bits; `machine.py` evaluates them and
`program.py` orders them into programs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeGuard, get_args

from behaviorlab.metamodels.features import TOKEN_BITS, Term, gamma, signed

Op = Literal["==", "!=", "<=", ">=", "<", ">"]
Source = Literal["x", "at", "prev"]
ActionKind = Literal["copy", "flip", "emit", "stop", "reference"]
OPS: tuple[Op, ...] = get_args(Op)
SOURCES: tuple[Source, ...] = get_args(Source)
ACTIONS: tuple[ActionKind, ...] = get_args(ActionKind)
FLIP = {"0": "1", "1": "0", "XO": "X1", "X1": "XO"}
REFERENCE_BITS = 512.0  # declared size of an opaque reference solver (a ~64-byte definition)


def is_op(s: str) -> TypeGuard[Op]:
    """Whether `s` is a comparison operator."""
    return s in OPS


def is_source(s: str) -> TypeGuard[Source]:
    """Whether `s` is a token-test source."""
    return s in SOURCES


def is_action(s: str) -> TypeGuard[ActionKind]:
    """Whether `s` is an action kind."""
    return s in ACTIONS


@dataclass(frozen=True)
class Cmp:
    """Σ terms  op  const (integer arithmetic over features)."""

    terms: tuple[Term, ...]
    op: Op
    const: int

    def bits(self) -> float:
        """Description length of the comparison."""
        return (
            1.0
            + gamma(len(self.terms) + 1)
            + sum(t.bits() for t in self.terms)
            + math.log2(len(OPS))
            + signed(self.const)
        )


@dataclass(frozen=True)
class TokEq:
    """A token test: x[i + offset] == token (source "x", relative to the output position),
    x@offset == token (source "at": absolute input position, negative counts from the end), or
    previous output token == token (source "prev")."""

    source: Source
    token: str
    offset: int = 0
    negate: bool = False

    def bits(self) -> float:
        """Description length of the token test."""
        return 3.0 + TOKEN_BITS + (signed(self.offset) if self.source != "prev" else 0.0)


Atom = Cmp | TokEq


@dataclass(frozen=True)
class Action:
    """What a rule does at the current output position."""

    kind: ActionKind
    offset: int = 0
    token: str = ""

    def bits(self) -> float:
        """Description length of the action."""
        base = math.log2(len(ACTIONS))
        if self.kind in ("copy", "flip"):
            return base + signed(self.offset)
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
        return 1.0 + gamma(len(self.guard) + 1) + sum(a.bits() for a in self.guard) + self.action.bits()


def atom_reads_output(a: Atom) -> bool:
    """Whether the atom reads the output so far (`prev`, `ocount`)."""
    return (isinstance(a, TokEq) and a.source == "prev") or (
        isinstance(a, Cmp) and any(t.feat == "ocount" for t in a.terms)
    )


def reads_output(rules: tuple[Rule, ...]) -> bool:
    """Whether any guard reads the output so far: decoding is then sequential."""
    return any(atom_reads_output(a) for r in rules for a in r.guard)
