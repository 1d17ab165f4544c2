"""Attention hypotheses: per query position, which key position(s) a head should attend to.

A hypothesis is a plain function of a `Sample` returning one target per query position of its
space: an int, a collection of ints, or None (no claim). Spaces: "encoder" (queries and keys are
input positions), "decoder" (target positions; position t holds `tgt[t]`, `tgt[0] == "<bos>"`,
and is where the output token tgt[t+1] is predicted), "cross" (target queries, input keys).
Your own takes a few lines:

    def first_key(s: Sample) -> list[Target]:
        return [0] * len(s.tgt)
    Hypothesis("attends to the first input token", "cross", first_key)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

Target = int | Collection[int] | None
OPEN_OF = {")": "(", "]": "["}


@dataclass(frozen=True)
class Sample:
    """What a hypothesis sees: input tokens, decoder-input tokens and the task metadata."""

    src: list[str]
    tgt: list[str]  # "<bos>" then the output tokens (generated, or the reference)
    meta: dict[str, int]


@dataclass(frozen=True)
class Hypothesis:
    """A named attention hypothesis in one space; `study` marks the recursion-head hypotheses."""

    name: str
    space: str  # "encoder" | "decoder" | "cross"
    fn: Callable[[Sample], Sequence[Target]]
    study: bool = False

    def queries(self, s: Sample) -> list[str]:
        """The tokens at this hypothesis's query positions."""
        return s.src if self.space == "encoder" else s.tgt


def last_zero_from_there_on(s: Sample) -> list[Target]:
    """Natural order: from the output position of the last input 0 on, attend to that 0."""
    if not s.src or not set(s.src) <= {"0", "1"} or "0" not in s.src:
        return []  # not natural-order binary, or all ones (no bit before the carry run)
    z = len(s.src) - 1 - s.src[::-1].index("0")
    return [None if t < z else z for t in range(len(s.tgt))]


def first_x1_generated(s: Sample) -> list[Target]:
    """Reverse order: after the first X1 is generated, attend to it."""
    if "X1" not in s.tgt:
        return []
    f = s.tgt.index("X1")
    return [f if t > f else None for t in range(len(s.tgt))]


def x1_generated(s: Sample) -> list[Target]:
    """Reverse order: attend to the X1 tokens generated so far."""
    out: list[Target] = []
    for t in range(len(s.tgt)):
        ones = [i for i in range(t) if s.tgt[i] == "X1"]
        out.append(ones or None)
    return out


def _matching_open(tokens: Sequence[str]) -> list[Target]:
    """For each closing bracket, the position of its opening bracket."""
    stack: list[int] = []
    out: list[Target] = []
    for i, tok in enumerate(tokens):
        target: Target = None
        if tok in ("(", "["):
            stack.append(i)
        elif tok in OPEN_OF and stack and tokens[stack[-1]] == OPEN_OF[tok]:
            target = stack.pop()
        out.append(target)
    return out


def previous(tokens: Sequence[str]) -> list[Target]:
    """Position i-1 for every i > 0."""
    return [i - 1 if i > 0 else None for i in range(len(tokens))]


def same_token(tokens: Sequence[str]) -> list[Target]:
    """Earlier-or-later positions holding the same token (self excluded)."""
    return [[j for j, u in enumerate(tokens) if u == t and j != i] or None for i, t in enumerate(tokens)]


def same_token_causal(tokens: Sequence[str]) -> list[Target]:
    """Earlier positions holding the same token."""
    return [[j for j in range(i) if tokens[j] == t] or None for i, t in enumerate(tokens)]


def same_position(s: Sample) -> list[Target]:
    """Diagonal copy: target position t attends to input position t."""
    return [t if t < len(s.src) else None for t in range(len(s.tgt))]


STUDY: tuple[Hypothesis, ...] = (
    Hypothesis("last 0 before the carry run, from there on", "cross", last_zero_from_there_on, True),
    Hypothesis("first X1 generated", "decoder", first_x1_generated, True),
    Hypothesis("X1 tokens generated", "decoder", x1_generated, True),
    Hypothesis("matching open bracket (decoder)", "decoder", lambda s: _matching_open(s.tgt), True),
)
GENERIC: tuple[Hypothesis, ...] = (
    Hypothesis("matching open bracket (encoder)", "encoder", lambda s: _matching_open(s.src)),
    Hypothesis("previous token (encoder)", "encoder", lambda s: previous(s.src)),
    Hypothesis("previous token (decoder)", "decoder", lambda s: previous(s.tgt)),
    Hypothesis("same token kind (encoder)", "encoder", lambda s: same_token(s.src)),
    Hypothesis("same token kind (decoder)", "decoder", lambda s: same_token_causal(s.tgt)),
    Hypothesis("same position (cross)", "cross", same_position),
)
BUILTIN: tuple[Hypothesis, ...] = STUDY + GENERIC


def by_name(names: Sequence[str] | None) -> list[Hypothesis]:
    """Built-in hypotheses by name (all when None)."""
    if names is None:
        return list(BUILTIN)
    known = {h.name: h for h in BUILTIN}
    missing = [n for n in names if n not in known]
    if missing:
        from behaviorlab.errors import BadInput

        raise BadInput(f"unknown hypothesis {missing[0]!r}; known: {', '.join(known)}")
    return [known[n] for n in names]
