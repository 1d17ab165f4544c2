"""Behaviors: named functions from inputs to features, with a description length in bits."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from behaviorlab.behaviors.estimators import (
    Estimate,
    conditional_entropy,
    mdl_score,
    mutual_information,
)
from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.errors import BadInput

# Description lengths of the library behaviors: a fixed charge per primitive plus the bits of
# its parameter, on the same scale as metamodel program sizes (program.py).
_PRIMITIVE_BITS = 16.0


def _int_bits(k: int) -> float:
    return 2.0 * (abs(k) + 1).bit_length() + 1.0


@dataclass(frozen=True)
class Behavior:
    """B : X → F with its description length |C(B)|."""

    name: str
    fn: Callable[[str], Hashable]
    description_length: float
    description: str = ""

    def __call__(self, x: str) -> Hashable:
        return self.fn(x)

    def features(self, xs: Sequence[str]) -> list[Hashable]:
        """B(x) for every input."""
        return [self.fn(x) for x in xs]


class _Solver(Protocol):
    def solve(self, text: str) -> str: ...


class _Runnable(Protocol):
    name: str

    @property
    def size_bits(self) -> float: ...

    def run(self, text: str) -> str: ...


def reference_output(task: _Solver) -> Behavior:
    """ "Output equals reference": B(x) = the reference output (None on non-canonical x)."""

    def fn(x: str) -> Hashable:
        try:
            return task.solve(x)
        except BadInput:
            return None

    return Behavior(
        "output equals reference",
        fn,
        4 * _PRIMITIVE_BITS,
        "the model's output is predicted to be the task's reference output",
    )


def copies_prefix(length: int) -> Behavior:
    """B(x) = the first `length` tokens of x (the output is predicted to start with them)."""
    return Behavior(
        f"copies input prefix of length {length}",
        lambda x: tuple(tokenize(x)[:length]),
        _PRIMITIVE_BITS + _int_bits(length),
        "output starts with the input's first tokens",
    )


def length_delta(delta: int) -> Behavior:
    """B(x) = len(x) + delta, the predicted output length in tokens."""
    return Behavior(
        f"output length = input length {delta:+d}",
        lambda x: len(tokenize(x)) + delta,
        _PRIMITIVE_BITS + _int_bits(delta),
        "predicted output length",
    )


def first_difference(model: Callable[[str], str]) -> Behavior:
    """B(x) = first token position where model(x) differs from x (len if one is a prefix)."""

    def fn(x: str) -> Hashable:
        a, b = tokenize(x), tokenize(model(x))
        return next((k for k, (s, t) in enumerate(zip(a, b, strict=False)) if s != t), min(len(a), len(b)))

    return Behavior(
        "first differing position (model output vs input)",
        fn,
        _PRIMITIVE_BITS,
        "where the model starts rewriting its input",
    )


def program_behavior(program: _Runnable) -> Behavior:
    """Any metamodel program as a behavior: its predicted output, sized by its program size."""
    return Behavior(
        f"program {program.name}",
        program.run,
        program.size_bits,
        "the shortcut program's prediction of the output",
    )


@dataclass(frozen=True)
class BehaviorScore:
    """How much a behavior explains a model's outputs on a sample."""

    behavior: str
    mutual_information: Estimate
    cond_entropy: Estimate
    mdl: float


def evaluate_behavior(
    behavior: Behavior,
    inputs: Sequence[str],
    outputs: Sequence[Hashable],
    *,
    alpha: float = 1.0,
    seed: int = 0,
) -> BehaviorScore:
    """I(M(X); B(X)), H(M(X) | B(X)) and |C(B)| + α·n·H on one sample (n·H: total bits)."""
    feats = behavior.features(inputs)
    mi = mutual_information(outputs, feats, seed=seed)
    ch = conditional_entropy(outputs, feats, seed=seed)
    return BehaviorScore(
        behavior.name, mi, ch, mdl_score(behavior.description_length, len(inputs) * ch.value, alpha)
    )
