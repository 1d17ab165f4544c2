"""Decoding context of a program: one input, its cached static features, and windowed views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from behaviorlab.metamodels.program import Term

_OPEN, _CLOSE = frozenset({"(", "["}), frozenset({")", "]"})
View = tuple[int, int]  # keep the first `head` and the last `tail` input tokens
FIRST_PLACES, LAST_PLACES = 16, 4  # absolute positions searched: the first 16 and the last 4


def absolute_places(longest: int, first: int = FIRST_PLACES, last: int = LAST_PLACES) -> list[int]:
    """Absolute input positions a search may test: 0, 1, … and -1, -2, … (from the end)."""
    return [*range(min(longest, first)), *range(-1, -min(longest, last) - 1, -1)]


class Context:
    """One input, with static features cached so each decoding step is cheap."""

    def __init__(self, x: Sequence[str], reference: Sequence[str] = ()) -> None:
        self.x = list(x)
        self.n = len(self.x)
        self.reference = list(reference)
        self._cache: dict[tuple[str, str | None], int] = {}
        self._sums: dict[int, tuple[tuple[Term, ...], int]] = {}
        self._views: dict[View, Context] = {}
        self._depth = [0]
        for tok in self.x:
            self._depth.append(self._depth[-1] + (tok in _OPEN) - (tok in _CLOSE))

    def viewed(self, view: View | None) -> Context:
        """The context of `x[:head] + x[-tail:]` (itself when the input is that short already).

        Models with learned absolute positions often see only the positions they were trained
        on (plus the end of the input): a view is that shortcut, cached per input.
        """
        if view is None or self.n <= view[0] + view[1]:
            return self
        got = self._views.get(view)
        if got is None:
            head, tail = view
            x = self.x[:head] + (self.x[self.n - tail :] if tail else [])
            got = self._views[view] = Context(x, self.reference)
        return got

    def static(self, feat: str, arg: str | None) -> int:
        """Value of an input-only feature."""
        key = (feat, arg)
        if key not in self._cache:
            self._cache[key] = _static_value(self.x, feat, arg)
        return self._cache[key]

    def static_sum(self, terms: tuple[Term, ...]) -> int:
        """Σ coef·feature over input-only terms, cached per context."""
        # Keyed by identity: hashing nested dataclasses on every step would dominate decoding
        # time. The entry holds the tuple itself, so its id cannot be reused by another tuple
        # while cached (contexts outlive the many trial programs a search builds).
        got = self._sums.get(id(terms))
        if got is None or got[0] is not terms:
            got = self._sums[id(terms)] = (terms, sum(t.coef * self.value(t, 0, ()) for t in terms))
        return got[1]

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

    def token_at_place(self, j: int) -> str | None:
        """x@j: position j from the start, or from the end when negative; None outside."""
        return self.token_at(j if j >= 0 else self.n + j)


def _static_value(x: list[str], feat: str, arg: str | None) -> int:
    if feat == "count":
        return x.count(arg) if arg is not None else 0
    if feat == "first":
        return x.index(arg) if arg in x else -1
    if feat == "last":
        return len(x) - 1 - x[::-1].index(arg) if arg in x else -1
    if feat == "is" and arg is not None:
        tok, at = arg.rsplit("@", 1)
        j = int(at)
        j = j if j >= 0 else len(x) + j
        return int(0 <= j < len(x) and x[j] == tok)
    if feat in ("run", "lead"):
        seq = x[::-1] if feat == "run" else x
        k = 0
        while k < len(seq) and seq[k] == arg:
            k += 1
        return k
    raise ValueError(f"unknown feature {feat!r}")
