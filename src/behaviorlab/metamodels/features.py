"""Numeric features a guard can read, the term `coef · feature(arg)`, and description lengths.

`i` = output position, `n` = input length, `depth` = bracket depth of x[:i]; the rest take a token
argument: count/first/last occurrence in x, trailing (`run`) and leading (`lead`) run length of the
token in x, and `ocount` = its count in the output so far; `is(T@k)` is 1 when x@k (absolute
position, negative from the end) is T, else 0: weighted sums of these are threshold units, the
vote of input positions a network computes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeGuard, get_args

Feature = Literal["i", "n", "depth", "count", "first", "last", "run", "lead", "ocount", "is"]
FEATURES: tuple[Feature, ...] = get_args(Feature)
TOKEN_FEATURES = frozenset({"count", "first", "last", "run", "lead", "ocount", "is"})
DYNAMIC = frozenset({"i", "depth", "ocount"})  # features that change along the output
TOKEN_BITS = 6.0  # a token reference costs log2(64) bits: vocabularies here are < 64 tokens


def is_feature(name: str) -> TypeGuard[Feature]:
    """Whether `name` is one of FEATURES."""
    return name in FEATURES


def gamma(k: int) -> float:
    """Elias-gamma length of a positive integer: a universal code for small numbers."""
    return 2.0 * math.floor(math.log2(k)) + 1.0


def signed(c: int) -> float:
    """Code length of a signed integer (zig-zag, then Elias gamma)."""
    return gamma(2 * abs(c) + (1 if c < 0 else 0) + 1)


def place_of(arg: str) -> tuple[str, int]:
    """`T@k` -> (T, k): the token and absolute place an `is` term tests."""
    tok, at = arg.rsplit("@", 1)
    return tok, int(at)


@dataclass(frozen=True)
class Term:
    """coef · feature(arg)."""

    feat: Feature
    arg: str | None = None
    coef: int = 1

    def bits(self) -> float:
        """Description length of the term."""
        extra = TOKEN_BITS if self.arg is not None else 0.0
        if self.feat == "is" and self.arg is not None:
            extra += signed(place_of(self.arg)[1])
        return math.log2(len(FEATURES)) + extra + signed(self.coef)
