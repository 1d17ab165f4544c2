"""Vocabularies for recorded text (a teacher's outputs, a corpus): lossless by construction.

Task vocabularies (`tasks.tokenize.Vocab`) know a grammar and reject anything else. Recorded
text can be any string, so these tokenizers split every string and join it back exactly:

- `words`: GPT-2-style pieces — a word, a punctuation run or a whitespace run, a single leading
  space attached to the piece after it (`"1 0 1"` -> `1`, ` 0`, ` 1`); the vocabulary is the set of
  pieces seen in the data, anything else becomes `<unk>`.
- `bytes`: the 256 UTF-8 byte values; nothing is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal

from behaviorlab.errors import BadInput
from behaviorlab.tasks.tokenize import SPECIALS, Vocab

UNK = "<unk>"
Tokenizer = Literal["words", "bytes"]
# Every character is a word character, whitespace or neither, so the pieces cover the text.
_PIECE = re.compile(r" ?\w+| ?[^\w\s]+|\s+(?!\S)|\s+")


def split_words(text: str) -> list[str]:
    """The `words` pieces of a string; `"".join(split_words(t)) == t`."""
    return _PIECE.findall(text)


def byte_token(b: int) -> str:
    """The token string of one byte: printable ASCII as itself, others as `<0xNN>`."""
    return chr(b) if 32 <= b < 127 else f"<0x{b:02X}>"


BYTE_TOKENS: tuple[str, ...] = tuple(byte_token(b) for b in range(256))


def word_vocabulary(texts: Iterable[str]) -> list[str]:
    """The sorted set of word pieces in some texts (a deterministic vocabulary)."""
    seen: set[str] = set()
    for t in texts:
        seen.update(split_words(t))
    return sorted(seen)


class TextVocab(Vocab):
    """Ids 0 pad, 1 bos, 2 eos, 3 unk, then the pieces; tokenize/detokenize round-trip exactly."""

    def __init__(self, tokenizer: Tokenizer, pieces: Sequence[str] = (), label: str = "text") -> None:
        if tokenizer == "bytes":
            pieces = BYTE_TOKENS
        elif tokenizer != "words":
            raise BadInput(f"unknown tokenizer {tokenizer!r}; expected words or bytes")
        if UNK in pieces:
            raise BadInput(f"{label}: the vocabulary must not contain {UNK}")
        super().__init__((UNK, *pieces), label)
        self.tokenizer: Tokenizer = tokenizer
        self.unk_id = self.id(UNK)
        self._byte_of = {t: b for b, t in enumerate(BYTE_TOKENS)}

    @classmethod
    def from_tokens(cls, tokens: Sequence[str], label: str = "text") -> Vocab:
        """Not used for text vocabularies: they are rebuilt from (tokenizer, pieces)."""
        raise BadInput(f"{label}: a text vocabulary is rebuilt from its tokenizer and pieces")

    @property
    def pieces(self) -> tuple[str, ...]:
        """The data pieces (no specials, no unk)."""
        return self.tokens[len(SPECIALS) + 1 :]

    def tokenize(self, text: str) -> list[str]:
        """Pieces of `text`; a piece outside the vocabulary becomes `<unk>` (words only)."""
        if self.tokenizer == "bytes":
            return [BYTE_TOKENS[b] for b in text.encode("utf-8")]
        known = self._ids
        return [p if p in known else UNK for p in split_words(text)]

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Pieces back to text (`<unk>` becomes U+FFFD; bytes are decoded as UTF-8)."""
        body = [t for t in tokens if t not in SPECIALS]
        if self.tokenizer == "bytes":
            raw = bytes(self._byte_of[t] for t in body if t in self._byte_of)
            return raw.decode("utf-8", errors="replace")
        return "".join("\ufffd" if t == UNK else t for t in body)

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids: stops at eos, skips pad and bos."""
        out: list[str] = []
        for raw in ids:
            i = int(raw)
            if i == self.eos_id:
                break
            if 0 <= i < len(self.tokens) and i not in (self.pad_id, self.bos_id):
                out.append(self.tokens[i])
        return self.detokenize(out)
