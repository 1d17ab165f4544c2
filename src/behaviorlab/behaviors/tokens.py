"""Strings ↔ tokens for behaviors and metamodels, independent of any task or model tokenizer.

Metamodels see only strings, so they carry their own splitter for the canonical syntax of
behaviorlab.tasks; anything unknown becomes a one-character token rather than an error, because
model outputs (and mechanistic-distribution inputs) may be gibberish.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_TOKEN = re.compile(r"\+\+|'[^' ]'|[()\[\];+]|[A-Za-z0-9<>]+|\S")
_NO_SPACE_AFTER = {"(", "["}
_NO_SPACE_BEFORE = {")", "]", ";"}


def tokenize(text: str) -> list[str]:
    """Split a string into grammar tokens (whitespace is never a token)."""
    return _TOKEN.findall(text)


def detokenize(tokens: Sequence[str]) -> str:
    """Join tokens into the canonical spacing: no space inside brackets or before `;`."""
    parts: list[str] = []
    for k, tok in enumerate(tokens):
        if k and tokens[k - 1] not in _NO_SPACE_AFTER and tok not in _NO_SPACE_BEFORE:
            parts.append(" ")
        parts.append(tok)
    return "".join(parts)
