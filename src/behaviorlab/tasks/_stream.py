"""A token cursor for the hand-written parsers: errors name the position and what was expected."""

from __future__ import annotations

from collections.abc import Collection
from typing import NoReturn

from behaviorlab.errors import BadInput
from behaviorlab.tasks.tokenize import lex

# Bounds keep every recursive reference function far below Python's recursion limit.
MAX_TOKENS = 4096


class TokenStream:
    """Tokens of one input with 1-based token indices and 1-based character offsets for errors."""

    def __init__(self, text: str, label: str) -> None:
        self.label = label
        self.items = lex(text)
        self.pos = 0
        if len(self.items) > MAX_TOKENS:
            raise BadInput(f"{label}: input too long: {len(self.items)} tokens (at most {MAX_TOKENS})")

    def peek(self) -> str | None:
        """The next token, or None at the end of input."""
        return self.items[self.pos][0] if self.pos < len(self.items) else None

    def take(self) -> str:
        """Consume and return the next token (the caller has checked there is one)."""
        tok = self.items[self.pos][0]
        self.pos += 1
        return tok

    def expect(self, allowed: Collection[str], what: str) -> str:
        """Consume the next token if it is one of `allowed`; otherwise fail saying `what`."""
        tok = self.peek()
        if tok is None or tok not in allowed:
            self.fail(what)
        return self.take()

    def expect_end(self, what: str = "end of input") -> None:
        """Fail unless every token has been consumed."""
        if self.peek() is not None:
            self.fail(what)

    def where(self, index: int | None = None) -> str:
        """Describe token `index` (0-based; default: the next one) for an error message."""
        i = self.pos if index is None else index
        if i < len(self.items):
            tok, offset = self.items[i]
            return f"at token {i + 1} ({tok!r}, char {offset + 1})"
        if not self.items:
            return "empty input"
        return f"at end of input (after token {len(self.items)})"

    def fail(self, what: str, index: int | None = None) -> NoReturn:
        """Raise BadInput: `<label>: at token N ('tok', char C): expected <what>`."""
        raise BadInput(f"{self.label}: {self.where(index)}: expected {what}")
