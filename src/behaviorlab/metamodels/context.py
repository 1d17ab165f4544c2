"""Decoding context of a program: one input, the reference output if a rule needs it, and views."""

from __future__ import annotations

from collections.abc import Sequence

View = tuple[int, int]  # keep the first `head` and the last `tail` input tokens
FIRST_PLACES, LAST_PLACES = 16, 4  # absolute positions searched: the first 16 and the last 4


def absolute_places(longest: int, first: int = FIRST_PLACES, last: int = LAST_PLACES) -> list[int]:
    """Absolute input positions a search may test: 0, 1, … and -1, -2, … (from the end)."""
    return [*range(min(longest, first)), *range(-1, -min(longest, last) - 1, -1)]


class Context:
    """One input as tokens, with the reference solver's output for the opaque `reference` action.

    Programs run on many contexts at once: see `batch.Batch`, their vectorised form.
    """

    def __init__(self, x: Sequence[str], reference: Sequence[str] = ()) -> None:
        self.x = list(x)
        self.n = len(self.x)
        self.reference = list(reference)

    def token_at_place(self, j: int) -> str | None:
        """x@j: position j from the start, or from the end when negative; None outside."""
        k = j if j >= 0 else self.n + j
        return self.x[k] if 0 <= k < self.n else None
