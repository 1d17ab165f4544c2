"""binary-successor: positive binary numbers (`O1`, `XO b`, `X1 b`) → their successor."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from behaviorlab.errors import BadInput
from behaviorlab.tasks._stream import TokenStream
from behaviorlab.tasks.base import Example, Option, SampleParams, Task
from behaviorlab.tasks.tokenize import lex

# The successor recurses once per trailing one; this bound keeps that well inside Python's limit.
MAX_BITS = 512


@dataclass(frozen=True)
class O1:
    """The number one."""


@dataclass(frozen=True)
class XO:
    """2·b."""

    rest: Binary


@dataclass(frozen=True)
class X1:
    """2·b + 1."""

    rest: Binary


Binary = O1 | XO | X1


def succ(b: Binary) -> Binary:
    """s O1 = XO O1;  s (XO b) = X1 b;  s (X1 b) = XO (s b)."""
    match b:
        case O1():
            return XO(O1())
        case XO(rest):
            return X1(rest)
        case X1(rest):
            return XO(succ(rest))
    raise TypeError(f"not a binary number: {b!r}")


def constructors(b: Binary) -> list[str]:
    """Constructor names from the outside in (least significant bit first), ending with O1."""
    out = []
    while not isinstance(b, O1):
        out.append("XO" if isinstance(b, XO) else "X1")
        b = b.rest
    return [*out, "O1"]


def from_constructors(names: list[str]) -> Binary:
    """Inverse of `constructors` (the list must end with O1 and hold it only there)."""
    out: Binary = O1()
    for name in reversed(names[:-1]):
        out = XO(out) if name == "XO" else X1(out)
    return out


def from_int(value: int) -> Binary:
    """The binary numeral of a positive int."""
    if value < 1:
        raise ValueError(f"binary numbers here are positive; got {value}")
    bits = bin(value)[2:]  # most significant first; the leading 1 is O1
    return from_constructors(["X1" if c == "1" else "XO" for c in reversed(bits[1:])] + ["O1"])


def to_int(b: Binary) -> int:
    """The int value of a binary numeral."""
    return int("".join("1" if n != "XO" else "0" for n in reversed(constructors(b))), 2)


class BinarySuccessor(Task):
    """Binary successor in reverse (constructor) or natural (paper) order."""

    name = "binary-successor"
    description = "binary number -> its successor; order reverse (XO X1 O1) or natural (1 0)"
    option_specs = (Option("order", ("natural", "reverse"), "reverse", "reverse: XO/X1/O1; natural: 1/0"),)
    meta_keys = ("length", "output_length", "size", "carry", "all_ones")
    default_sizes = (1, 8)
    size_limit = MAX_BITS

    @property
    def reverse(self) -> bool:
        return self.options["order"] == "reverse"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.options['order']})"

    def make_key(self) -> str:
        return f"{self.name}/{self.options['order']}"

    def grammar_tokens(self) -> tuple[str, ...]:
        return ("O1", "XO", "X1") if self.reverse else ("0", "1")

    def parse(self, text: str) -> Binary:
        return _parse(text, self.reverse, self.label)

    def print(self, obj: object) -> str:
        if not isinstance(obj, O1 | XO | X1):
            raise TypeError(f"binary-successor cannot print {obj!r}")
        return _print(obj, self.reverse)

    def solve(self, text: str) -> str:
        return _solve(text, self.reverse, self.label)

    def meta(self, text: str) -> dict[str, int]:
        names = constructors(self.parse(text))
        carry = next((i for i, n in enumerate(names) if n != "X1"), len(names))
        all_ones = int(all(n != "XO" for n in names))
        if all_ones:
            carry = len(names)  # O1 is a one too: the carry runs off the top
        return {
            "length": len(lex(text)),
            "output_length": len(names) + all_ones,
            "size": len(names),
            "carry": carry,
            "all_ones": all_ones,
        }

    def answer_bound(self, text: str) -> int:
        """One bit more than the input: the successor of all ones (also for strings that are no
        number, so a model's answer to gibberish is read as far as a number's could go)."""
        return len(lex(text)) + 1

    def size_of(self, text: str) -> int:
        return len(constructors(self.parse(text)))

    def draw(self, rng: random.Random, params: SampleParams) -> Example:
        bits = rng.randint(params.min_size, params.max_size)
        if rng.random() < params.edge_fraction:
            value = (1 << bits) - 1  # all ones: the longest carry chain, and the output grows
        else:
            value = (1 << (bits - 1)) | rng.getrandbits(bits - 1)
        # Straight from the int (explain draws thousands): the same text, answer and meta as
        # printing, solving and measuring the numeral (tests check it).
        text = _spell(value, self.reverse)
        return Example(text, _spell(value + 1, self.reverse), _int_meta(value))


def _spell(value: int, reverse: bool) -> str:
    """The text of a positive int: `print(from_int(value))`."""
    bits = bin(value)[2:]
    if not reverse:
        return " ".join(bits)
    return " ".join([*("X1" if c == "1" else "XO" for c in reversed(bits[1:])), "O1"])


def _int_meta(value: int) -> dict[str, int]:
    """`BinarySuccessor.meta` of a positive int's text."""
    size = value.bit_length()
    all_ones = int(value & (value + 1) == 0)
    trailing_ones = ((value + 1) & -(value + 1)).bit_length() - 1
    return {
        "length": size,
        "output_length": size + all_ones,
        "size": size,
        "carry": size if all_ones else trailing_ones,
        "all_ones": all_ones,
    }


# Explain and the samplers read the same few thousand numbers many times over; both functions are
# pure (numbers are immutable), so they are kept by text. Errors are not kept: they raise anew.
@functools.lru_cache(maxsize=1 << 16)
def _parse(text: str, reverse: bool, label: str) -> Binary:
    stream = TokenStream(text, label)
    if reverse:
        names = []
        while stream.peek() in ("XO", "X1"):
            names.append(stream.take())
        names.append(stream.expect({"O1"}, "XO, X1 or O1"))
        stream.expect_end("end of input (O1 is the last constructor)")
    else:
        bits = [stream.expect({"1"}, "1 (a number starts with 1; no leading zeros)")]
        while stream.peek() in ("0", "1"):
            bits.append(stream.take())
        stream.expect_end("0, 1 or end of input")
        names = ["X1" if c == "1" else "XO" for c in reversed(bits[1:])] + ["O1"]
    if len(names) > MAX_BITS:
        raise BadInput(f"{label}: {len(names)} bits is above the limit {MAX_BITS}")
    return from_constructors(names)


@functools.lru_cache(maxsize=1 << 16)
def _solve(text: str, reverse: bool, label: str) -> str:
    return _print(succ(_parse(text, reverse, label)), reverse)


def _print(b: Binary, reverse: bool) -> str:
    names = constructors(b)
    if reverse:
        return " ".join(names)
    return " ".join("0" if n == "XO" else "1" for n in reversed(names))
