"""Token vocabularies derived from a task's grammar; encode/decode with a guaranteed round trip.

Canonical strings glue some tokens to brackets (`['c'; 'a']`, `(Branch 'c' Leaf Leaf)`), so the
lexer splits on brackets as well as spaces, and `detokenize` re-glues with the same fixed rules.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from behaviorlab.errors import BadInput

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
SPECIALS: tuple[str, ...] = (PAD, BOS, EOS)

# A quoted thing (`'c'`, possibly malformed), a bracket or `;`, or a run of other characters.
# Every non-space character lands in some lexeme, so lexing itself never fails.
_LEXEME = re.compile(r"'[^'\s()\[\];]*'?|[()\[\];]|[^\s()\[\];']+")
_NO_SPACE_AFTER = frozenset({"(", "["})
_NO_SPACE_BEFORE = frozenset({")", "]", ";"})
LETTERS: tuple[str, ...] = tuple(f"'{chr(c)}'" for c in range(ord("a"), ord("z") + 1))


def lex(text: str) -> list[tuple[str, int]]:
    """Split text into (token, 0-based character offset) pairs; whitespace only separates."""
    return [(m.group(), m.start()) for m in _LEXEME.finditer(text)]


def glue(tokens: Sequence[str]) -> str:
    """Join tokens into the canonical spacing: single spaces, none inside brackets or before `;`."""
    out: list[str] = []
    prev = ""
    for i, tok in enumerate(tokens):
        if i > 0 and prev not in _NO_SPACE_AFTER and tok not in _NO_SPACE_BEFORE:
            out.append(" ")
        out.append(tok)
        prev = tok
    return "".join(out)


def describe_tokens(tokens: Sequence[str]) -> str:
    """A short human listing of tokens: the 26 quoted letters collapse to `'a'..'z'`."""
    names = list(tokens)
    if all(letter in names for letter in LETTERS):
        first = names.index(LETTERS[0])
        names = [t for t in names if t not in LETTERS]
        names.insert(first, "'a'..'z'")
    return ", ".join(names)


class Vocab:
    """Token ids: 0 pad, 1 bos, 2 eos, then the grammar's tokens in the task's fixed order."""

    def __init__(self, grammar_tokens: Sequence[str], label: str = "input") -> None:
        dupes = {t for t, n in Counter(grammar_tokens).items() if n > 1}
        if dupes or any(t in SPECIALS for t in grammar_tokens):
            raise ValueError(f"grammar tokens must be unique and not special: {sorted(dupes)}")
        self.tokens: tuple[str, ...] = SPECIALS + tuple(grammar_tokens)
        self.label = label
        self.pad_id, self.bos_id, self.eos_id = 0, 1, 2
        self._ids = {tok: i for i, tok in enumerate(self.tokens)}
        self._grammar = frozenset(grammar_tokens)

    @classmethod
    def from_tokens(cls, tokens: Sequence[str], label: str = "input") -> Vocab:
        """Rebuild a vocab from a saved full token list (specials first, as in `tokens`)."""
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise BadInput(f"vocab must start with {', '.join(SPECIALS)}; got {list(tokens[:3])}")
        return cls(tokens[len(SPECIALS) :], label)

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.tokens == other.tokens

    def __hash__(self) -> int:
        return hash(self.tokens)

    def __repr__(self) -> str:
        return f"Vocab({self.label!r}, {len(self)} tokens)"

    def tokenize(self, text: str) -> list[str]:
        """Split a string into grammar tokens; unknown tokens raise BadInput naming the position."""
        out = []
        for index, (tok, offset) in enumerate(lex(text), start=1):
            if tok not in self._grammar:
                raise BadInput(
                    f"{self.label}: at token {index} ({tok!r}, char {offset + 1}): unknown token;"
                    f" expected one of {describe_tokens(self.tokens[len(SPECIALS) :])}"
                )
            out.append(tok)
        return out

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Join grammar tokens back into the canonical string."""
        for index, tok in enumerate(tokens, start=1):
            if tok not in self._grammar:
                raise BadInput(f"{self.label}: token {index} ({tok!r}) is not in the vocabulary")
        return glue(tokens)

    def text_of(self, tokens: Sequence[str]) -> str:
        """The string of generated tokens, special tokens (pad, bos, eos) skipped."""
        return self.detokenize([t for t in tokens if t not in SPECIALS])

    def encode(self, text: str) -> list[int]:
        """Token ids of a string, without bos/eos."""
        return [self._ids[tok] for tok in self.tokenize(text)]

    def decode(self, ids: Sequence[int]) -> str:
        """String of token ids: stops at eos, skips pad and bos; unknown ids raise BadInput."""
        out: list[str] = []
        for position, raw in enumerate(ids, start=1):
            i = int(raw)
            if not 0 <= i < len(self.tokens):
                raise BadInput(
                    f"{self.label}: id {i} at position {position} is not in the vocabulary"
                    f" (ids 0..{len(self.tokens) - 1})"
                )
            if i == self.eos_id:
                break
            if i not in (self.pad_id, self.bos_id):
                out.append(self.tokens[i])
        return glue(out)

    def id(self, token: str) -> int:
        """The id of one token (specials included)."""
        try:
            return self._ids[token]
        except KeyError:
            raise BadInput(
                f"{self.label}: unknown token {token!r}; expected one of {describe_tokens(self.tokens)}"
            ) from None
