"""Text and token utilities the probes measure with: copied spans, loops, answers, noise, token spans.

Everything here is a pure function of strings (and a seeded `random.Random`), so a probe's numbers
can be recomputed from its recorded generations alone.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from behaviorlab.lm.fewshot import first_line

# How byte-level BPE (GPT-2, Llama 3, SmolLM) and SentencePiece spell a leading space or newline.
_MARKERS = {"Ġ": " ", "▁": " ", "Ċ": "\n", "ĉ": "\t"}
_SPACE_MARKERS = "Ġ▁ \t\n"
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def normalize_ws(text: str) -> str:
    """Single spaces, no leading or trailing whitespace."""
    return " ".join(text.split())


def answer_key(text: str) -> str:
    """An answer reduced for comparison: first line, case-folded, outer punctuation stripped."""
    return first_line(text).casefold().strip(" .,:;!?\"'`*")


def contains_word(text: str, word: str) -> bool:
    """`word` occurs in `text` as a whole word (case-insensitive)."""
    if not word:
        return False
    return re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", text.casefold()) is not None


def bare(token: str) -> str:
    """A token without its tokenizer's space marker (`Ġthe`, `▁the` and ` the` all become `the`)."""
    return token.lstrip(_SPACE_MARKERS)


def longest_common_span(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest contiguous run of tokens that `a` and `b` share (O(len a · len b))."""
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def contains_run(hay: Sequence[str], needle: Sequence[str]) -> bool:
    """`needle` occurs in `hay` as a contiguous run of tokens."""
    n = len(needle)
    return n > 0 and any(list(hay[i : i + n]) == list(needle) for i in range(len(hay) - n + 1))


def find_loop(tokens: Sequence[str], max_period: int = 16, min_repeats: int = 3) -> tuple[int, int] | None:
    """(start, period) of the longest tail that repeats a unit of ≤ `max_period` tokens to the end,
    at least `min_repeats` times; None when there is no such tail. Ties go to the shorter period."""
    best: tuple[int, int] | None = None
    n = len(tokens)
    for p in range(1, max_period + 1):
        if n < min_repeats * p:
            break
        s = n - p  # tokens[s:] is trivially periodic with period p; extend it backwards
        while s > 0 and tokens[s - 1] == tokens[s - 1 + p]:
            s -= 1
        if n - s >= min_repeats * p and (best is None or s < best[0]):
            best = (s, p)
    return best


def char_noise(text: str, op: str, rate: float, rng: random.Random) -> str:
    """Each character edited with probability `rate`: swap with the next one, drop, insert a
    random letter before it, or flip its case (letters only)."""
    chars, out, i = list(text), [], 0
    while i < len(chars):
        c = chars[i]
        hit = rng.random() < rate
        if not hit or (op == "case" and not c.isalpha()):
            out.append(c)
        elif op == "swap" and i + 1 < len(chars):
            out += [chars[i + 1], c]
            i += 1
        elif op == "drop":
            pass
        elif op == "insert":
            out += [rng.choice(LETTERS), c]
        elif op == "case":
            out.append(c.swapcase())
        else:
            out.append(c)
        i += 1
    return "".join(out)


def token_noise(
    tokens: Sequence[str], op: str, rate: float, alphabet: Sequence[str], rng: random.Random
) -> list[str]:
    """Each token edited with probability `rate`: swap with the next, drop, insert a random
    alphabet token before it, or replace it by a different alphabet token."""
    toks, out, i = list(tokens), [], 0
    while i < len(toks):
        t = toks[i]
        hit = rng.random() < rate
        if not hit:
            out.append(t)
        elif op == "swap" and i + 1 < len(toks):
            out += [toks[i + 1], t]
            i += 1
        elif op == "drop":
            pass
        elif op == "insert":
            out += [rng.choice(list(alphabet)), t]
        elif op == "replace":
            others = [a for a in alphabet if a != t]
            out.append(rng.choice(others) if others else t)
        else:
            out.append(t)
        i += 1
    return out


def token_spans(text: str, tokens: Sequence[str]) -> list[tuple[int, int, int]] | None:
    """(start, visible start, end) of each token in `text` — the visible part leaves out a leading
    space or newline — or None when the tokens do not spell the text (a normalising tokenizer)."""
    pos, spans = 0, []
    for tok in tokens:
        spelled = "".join(_MARKERS.get(c, c) for c in tok)
        if not spelled or not text.startswith(spelled, pos):
            return None
        lead = len(spelled) - len(spelled.lstrip(" \t\n"))
        spans.append((pos, pos + lead, pos + len(spelled)))
        pos += len(spelled)
    return spans if pos == len(text) else None


def single_edit(text: str, op: str, pos: int, rng: random.Random) -> str:
    """One edit at character `pos`: swap it with the next, drop it, insert a letter before it, flip case."""
    if op == "swap":
        return text[:pos] + text[pos + 1 : pos + 2] + text[pos] + text[pos + 2 :]
    if op == "drop":
        return text[:pos] + text[pos + 1 :]
    if op == "insert":
        return text[:pos] + rng.choice(LETTERS) + text[pos:]
    if op == "case":
        return text[:pos] + text[pos].swapcase() + text[pos + 1 :]
    raise ValueError(f"unknown edit {op!r}")


def edit_sites(spans: Sequence[tuple[int, int, int]], text: str, op: str) -> tuple[list[int], list[int]]:
    """Positions where one `op` edit sits at a token boundary, and where it sits strictly inside a
    token (the token's first and last visible characters untouched), from `token_spans`."""
    boundary, inside = [], []
    for k, (_, a, b) in enumerate(spans):
        if b - a < 1:
            continue
        if op == "swap":
            # Across a boundary: a token's last character with the next token's first (maybe a space).
            if k + 1 < len(spans):
                boundary.append(b - 1)
            inside += list(range(a + 1, b - 2))
        elif op == "insert":
            boundary.append(a)
            inside += list(range(a + 1, b))
        else:  # drop, case: the first visible character vs a middle one
            if op != "case" or text[a].isalpha():
                boundary.append(a)
            inside += [i for i in range(a + 1, b - 1) if op != "case" or text[i].isalpha()]
    return boundary, inside
