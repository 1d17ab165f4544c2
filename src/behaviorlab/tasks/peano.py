"""peano-add: `A + B` on positive Peano numbers (`I` is one, `S n` is n+1) → the sum."""

from __future__ import annotations

import random
from dataclasses import dataclass

from behaviorlab.errors import BadInput
from behaviorlab.tasks._stream import TokenStream
from behaviorlab.tasks.base import Example, SampleParams, Task
from behaviorlab.tasks.tokenize import lex

# Operands above this would make the recursive `add` dangerously deep for Python.
MAX_VALUE = 512


@dataclass(frozen=True)
class One:
    """`I`: the number one."""


@dataclass(frozen=True)
class Succ:
    """`S n`: n + 1."""

    pred: Peano


Peano = One | Succ


@dataclass(frozen=True)
class Addition:
    """The input `A + B`."""

    left: Peano
    right: Peano


def add(a: Peano, m: Peano) -> Peano:
    """add I m = S m;  add (S p) m = S (add p m)."""
    match a:
        case One():
            return Succ(m)
        case Succ(p):
            return Succ(add(p, m))
    raise TypeError(f"not a Peano number: {a!r}")


def from_int(value: int) -> Peano:
    """The Peano numeral for a positive int."""
    if value < 1:
        raise ValueError(f"Peano numbers are positive; got {value}")
    out: Peano = One()
    for _ in range(value - 1):
        out = Succ(out)
    return out


def to_int(p: Peano) -> int:
    """The int value of a Peano numeral (iterative: printing must not recurse)."""
    value = 1
    while isinstance(p, Succ):
        value, p = value + 1, p.pred
    return value


def print_peano(p: Peano) -> str:
    """`S S I` for three."""
    return " ".join(["S"] * (to_int(p) - 1) + ["I"])


def _parse_number(stream: TokenStream, which: str) -> Peano:
    count = 0
    while stream.peek() == "S":
        stream.take()
        count += 1
    stream.expect({"I"}, f"S or I ({which})")
    if count + 1 > MAX_VALUE:
        raise BadInput(f"{stream.label}: {which} is {count + 1}, above the limit {MAX_VALUE}")
    return from_int(count + 1)


class PeanoAdd(Task):
    """Peano addition by recursion on the first operand."""

    name = "peano-add"
    description = "A + B on Peano numerals (I, S n) -> the sum; recursion on A"
    meta_keys = ("length", "output_length", "size", "a", "b", "recursion_depth")
    default_sizes = (1, 5)
    size_limit = MAX_VALUE

    def grammar_tokens(self) -> tuple[str, ...]:
        return ("S", "I", "+")

    def parse(self, text: str) -> Addition:
        stream = TokenStream(text, self.label)
        left = _parse_number(stream, "first operand")
        stream.expect({"+"}, "+ after the first operand")
        right = _parse_number(stream, "second operand")
        stream.expect_end("end of input after the second operand")
        return Addition(left, right)

    def parse_output(self, text: str) -> Peano:
        """Outputs are a single Peano number."""
        stream = TokenStream(text, self.label)
        out = _parse_number(stream, "the sum")
        stream.expect_end()
        return out

    def print(self, obj: object) -> str:
        if isinstance(obj, Addition):
            return f"{print_peano(obj.left)} + {print_peano(obj.right)}"
        if isinstance(obj, One | Succ):
            return print_peano(obj)
        raise TypeError(f"peano-add cannot print {obj!r}")

    def solve(self, text: str) -> str:
        problem = self.parse(text)
        return print_peano(add(problem.left, problem.right))

    def meta(self, text: str) -> dict[str, int]:
        problem = self.parse(text)
        a, b = to_int(problem.left), to_int(problem.right)
        return {
            "length": len(lex(text)),
            "output_length": a + b,
            "size": max(a, b),
            "a": a,
            "b": b,
            "recursion_depth": a,
        }

    def answer_bound(self, text: str) -> int:
        """A sum `A + B` is one token shorter than its question; no string's answer is longer."""
        return len(lex(text))

    def size_of(self, text: str) -> int:
        problem = self.parse(text)
        return max(to_int(problem.left), to_int(problem.right))

    def draw(self, rng: random.Random, params: SampleParams) -> Example:
        size = rng.randint(params.min_size, params.max_size)
        # Edge cases put a one on either side: the shortest recursion or the trivial argument.
        other = 1 if rng.random() < params.edge_fraction else rng.randint(1, size)
        a, b = (size, other) if rng.random() < 0.5 else (other, size)
        text = f"{print_peano(from_int(a))} + {print_peano(from_int(b))}"
        return Example(text, self.solve(text), self.meta(text))
