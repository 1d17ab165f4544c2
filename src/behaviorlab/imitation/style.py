"""Reading an output: its content (the answer inside any styling) and its style markers.

The synthetic teacher writes a header naming the task, the content on a `- ` bullet line and a
closing summary line with the content's token count; it abstains on queries that do not parse:

    task: successor          task: add
    - 1 1 0 0                - S S I
    (4 tokens)               (3 tokens)

A `next-number` answer is read from the last integer of its first sentence ("The next number
after 865 is 866." -> `8 6 6`).
"""

from __future__ import annotations

import re

ABSTAIN = "I cannot answer this."
GROW_PREFIX = "similar: "  # the synthetic teacher's tool: `similar: QUERY` -> a new query
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(?P<c>.*\S)\s*$", re.M)
_SUMMARY = re.compile(r"^\(\d+ tokens?\)$|^(?:so|therefore|thus|in summary|in conclusion|overall)\b", re.I)
_REFUSAL = re.compile(r"\b(?:cannot|can't|unable to|not a (?:valid )?number|sorry)\b", re.I)
_INT = re.compile(r"\d+")


def styled(skill: str, content: str) -> str:
    """The synthetic teacher's answer: header, bullet line, summary line."""
    return f"task: {skill}\n- {content}\n({len(content.split())} tokens)"


def content(family: str, text: str) -> str | None:
    """The answer an output gives in canonical form (None: no answer, e.g. an abstention)."""
    if abstains(text):
        return None
    if family == "next-number":
        first = re.split(r"\.(?:\s|$)|\n", text.strip(), maxsplit=1)[0]
        found = _INT.findall(first)
        return " ".join(found[-1].lstrip("0") or "0") if found else None
    bullet = _BULLET.search(text)
    answer = bullet.group("c") if bullet else text
    return " ".join(answer.split()) or None


def abstains(text: str) -> bool:
    """The output declines to answer: the synthetic phrase, or a refusal in plain words."""
    return text.strip() == ABSTAIN or bool(_REFUSAL.search(text))


def is_list(text: str) -> bool:
    """Some line is a list item (`- `, `* `, `• `, `1. `)."""
    return _BULLET.search(text) is not None


def has_summary(text: str) -> bool:
    """The last line closes with a summary: a `(N tokens)` count or a "so / in summary" line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return len(lines) > 1 and _SUMMARY.search(lines[-1]) is not None


def skeleton(text: str) -> str:
    """The output with its content masked: list items' text and every number become placeholders.
    Two outputs follow the same template when their skeletons are equal."""
    masked = _BULLET.sub(lambda m: m.group(0)[: m.start("c") - m.start(0)] + "<C>", text.strip())
    return _INT.sub("#", masked)


def words(text: str) -> list[str]:
    """Unigrams: lowercase words and single punctuation marks."""
    return re.findall(r"\w+|[^\w\s]", text.lower())
