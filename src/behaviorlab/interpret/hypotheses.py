"""Attention hypotheses: per query position, which key position(s) a head should attend to.

A hypothesis is a plain function of a `Sample` returning one target per query position of its
space: an int, a collection of ints, or None (no claim). Spaces: "encoder" (queries and keys are
input positions), "decoder" (target positions; position t holds `tgt[t]`, `tgt[0] == "<bos>"`,
and is where the output token tgt[t+1] is predicted), "cross" (target queries, input keys),
"sequence" (every token a causal language model reads, prompt then output: `Sample.seq`).
Your own takes a few lines:

    def first_key(s: Sample) -> list[Target]:
        return [0] * len(s.tgt)
    Hypothesis("attends to the first input token", "cross", first_key)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

Target = int | Collection[int] | None
OPEN_OF = {")": "(", "]": "["}


@dataclass(frozen=True)
class Sample:
    """What a hypothesis sees: input tokens, decoder-input tokens and the task metadata."""

    src: list[str]
    tgt: list[str]  # "<bos>" then the output tokens (generated, or the reference)
    meta: dict[str, int]
    seq: list[str] = field(default_factory=list)  # every token the stack reads, in order


@dataclass(frozen=True)
class Hypothesis:
    """A named attention hypothesis in one space; `study` marks the recursion-head hypotheses."""

    name: str
    space: str  # "encoder" | "decoder" | "cross" | "sequence"
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


# --- tree traversal terms ---------------------------------------------------------------------
# Output tokens are aligned to the input tokens they come from: a copied subtree token by token
# (found by its text among the input's subtrees), a letter by the one input position holding it.


def _spans(tokens: Sequence[str]) -> list[tuple[int, int, int | None]]:
    """Every parenthesised subtree `( Branch 'c' L R )`: (open, close, enclosing subtree's open)."""
    out: list[tuple[int, int, int | None]] = []
    stack: list[int] = []
    for i, tok in enumerate(tokens):
        if tok == "(":
            stack.append(i)
        elif tok == ")" and stack:
            j = stack.pop()
            out.append((j, i, stack[-1] if stack else None))
    return out


def tree_alignment(src: Sequence[str], tgt: Sequence[str]) -> list[int | None]:
    """For each target position, the input position its token was copied from (None if unsure)."""
    if "Branch" not in src and "Leaf" not in src:
        return []
    align: list[int | None] = [None] * len(tgt)
    by_text: dict[tuple[str, ...], list[int]] = {}
    for a, z, _ in _spans(src):
        by_text.setdefault(tuple(src[a : z + 1]), []).append(a)
    letters: dict[str, list[int]] = {}
    for i, tok in enumerate(src):
        if tok.startswith("'"):
            letters.setdefault(tok, []).append(i)
    for a, z, _ in _spans(tgt):
        found = by_text.get(tuple(tgt[a : z + 1]), [])
        if len(found) == 1 and all(align[k] is None for k in range(a, z + 1)):
            align[a : z + 1] = range(found[0], found[0] + z - a + 1)
    for i, tok in enumerate(tgt):
        if align[i] is None and tok.startswith("'") and len(letters.get(tok, [])) == 1:
            align[i] = letters[tok][0]
    return align


def _enclosing(src: Sequence[str], k: int) -> tuple[int, int, int | None] | None:
    """The innermost input subtree span holding position k."""
    inside = [s for s in _spans(src) if s[0] <= k <= s[1]]
    return min(inside, key=lambda s: s[1] - s[0]) if inside else None


def copy_source(s: Sample) -> list[Target]:
    """At each output position, the input token the next output token is copied from."""
    align = tree_alignment(s.src, s.tgt)
    return [align[t + 1] if t + 1 < len(align) else None for t in range(len(s.tgt))] if align else []


def closure_ahead(s: Sample) -> list[Target]:
    """Look-ahead: the `)` closing the input subtree the next output token is copied from."""
    out: list[Target] = []
    for k in copy_source(s):
        span = _enclosing(s.src, k) if isinstance(k, int) else None
        out.append(span[1] if span is not None and span[1] != k else None)
    return out


def parent_node(s: Sample) -> list[Target]:
    """The letter of the parent of the input subtree the next output token is copied from."""
    out: list[Target] = []
    for k in copy_source(s):
        span = _enclosing(s.src, k) if isinstance(k, int) else None
        parent = span[2] if span is not None else None
        out.append(parent + 2 if parent is not None and parent + 2 < len(s.src) else None)
    return out


def completed_phrases(tokens: Sequence[str]) -> list[Target]:
    """Positions ending a completed phrase so far: a `]`, or the `)`/`Leaf` that closes a call."""
    if "Branch" not in tokens and "Leaf" not in tokens and "[" not in tokens:
        return []
    ends: list[int] = []
    out: list[Target] = []
    depth = 0
    for i, tok in enumerate(tokens):
        depth += (tok == "(") - (tok == ")")
        if tok == "]" or (depth == 0 and tok in (")", "Leaf")):
            ends.append(i)
        out.append(list(ends) or None)
    return out


def open_brackets(tokens: Sequence[str]) -> list[Target]:
    """Depth tracking: the `(` and `[` still open at each position (itself included)."""
    if "(" not in tokens and "[" not in tokens:
        return []
    stack: list[int] = []
    out: list[Target] = []
    for i, tok in enumerate(tokens):
        if tok in ("(", "["):
            stack.append(i)
        elif tok in OPEN_OF and stack:
            stack.pop()
        out.append(list(stack) or None)
    return out


TREE: tuple[Hypothesis, ...] = (
    Hypothesis("copy source of the next token", "cross", copy_source, True),
    Hypothesis("closing bracket ahead (look-ahead to closure)", "cross", closure_ahead, True),
    Hypothesis("parent of the copied node", "cross", parent_node, True),
    Hypothesis("completed unrolled phrases", "decoder", lambda s: completed_phrases(s.tgt), True),
    Hypothesis("open brackets (decoder depth)", "decoder", lambda s: open_brackets(s.tgt), True),
    Hypothesis("open brackets (encoder depth)", "encoder", lambda s: open_brackets(s.src), True),
)
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
BUILTIN: tuple[Hypothesis, ...] = STUDY + TREE + GENERIC


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
