"""Traversal terms: pending calls and list literals joined by `++`, and their parallel reduction."""

from __future__ import annotations

from dataclasses import dataclass

from behaviorlab.tasks._stream import TokenStream
from behaviorlab.tasks.tokenize import LETTERS
from behaviorlab.tasks.trees import (
    TRAVERSALS,
    Leaf,
    Tree,
    depth,
    parse_subtree,
    print_tree,
    size,
)


@dataclass(frozen=True)
class Call:
    """A pending call `inorder T` / `preorder T`."""

    fn: str
    tree: Tree


@dataclass(frozen=True)
class Lit:
    """A list literal of letters (unquoted); empty only transiently, inside a step."""

    letters: tuple[str, ...]


Item = Call | Lit


@dataclass(frozen=True)
class Term:
    """A normalised term: no empty literal, no two adjacent literals; `()` prints as `[]`."""

    items: tuple[Item, ...]


def start(fn: str, tree: Tree) -> Term:
    """The step-0 term `fn T`."""
    return Term((Call(fn, tree),))


def rewrite(call: Call) -> list[Item]:
    """One call rewritten once by its traversal equation."""
    if isinstance(call.tree, Leaf):
        return [Lit(())]
    c, left, right = call.tree.c, Call(call.fn, call.tree.left), Call(call.fn, call.tree.right)
    if call.fn == "inorder":
        return [left, Lit((c,)), right]
    return [Lit((c,)), left, right]


def normalise(items: list[Item]) -> Term:
    """Merge adjacent literals and drop empty ones."""
    out: list[Item] = []
    for item in items:
        if isinstance(item, Lit):
            if not item.letters:
                continue
            if out and isinstance(out[-1], Lit):
                out[-1] = Lit(out[-1].letters + item.letters)
                continue
        out.append(item)
    return Term(tuple(out))


def is_normal(term: Term) -> bool:
    """A term with no pending call."""
    return not any(isinstance(item, Call) for item in term.items)


def step(term: Term) -> Term:
    """One reduction step: every call rewritten once, in parallel, then normalised."""
    items: list[Item] = []
    for item in term.items:
        items.extend(rewrite(item) if isinstance(item, Call) else [item])
    return normalise(items)


def run(term: Term, k: int) -> Term:
    """The term after k steps, or its normal form if that comes sooner."""
    for _ in range(k):
        if is_normal(term):
            break
        term = step(term)
    return term


def normal_form(term: Term) -> Term:
    """The normal form via the structural-recursive traversals (no stepping)."""
    items: list[Item] = [
        Lit(tuple(TRAVERSALS[i.fn](i.tree))) if isinstance(i, Call) else i for i in term.items
    ]
    return normalise(items)


def steps_to_normal(term: Term) -> int:
    """Reductions needed to reach the normal form: calls reduce in parallel, one level per step."""
    return max((depth(i.tree) + 1 for i in term.items if isinstance(i, Call)), default=0)


def print_term(term: Term) -> str:
    """Canonical string: items joined by ` ++ `, `[]` for the empty term."""
    if not term.items:
        return "[]"
    return " ++ ".join(print_item(item) for item in term.items)


def print_item(item: Item) -> str:
    """`inorder (Branch ...)`, `inorder Leaf`, or `['c'; 'a']`."""
    if isinstance(item, Call):
        return f"{item.fn} {print_tree(item.tree, nested=True)}"
    return "[" + "; ".join(f"'{c}'" for c in item.letters) + "]"


def parse_term(stream: TokenStream, fn: str) -> Term:
    """A canonical term; literals may not be adjacent and `[]` only stands alone."""
    items: list[Item] = []
    while True:
        first = not items
        if not first and isinstance(items[-1], Lit):
            tok = stream.expect({fn}, f"{fn} (adjacent list literals are merged)")
        else:
            tok = stream.expect({fn, "["}, f"{fn} or [")
        if tok == fn:
            items.append(Call(fn, parse_subtree(stream, f"after {fn}")))
        elif stream.peek() == "]":
            if not first:
                stream.fail("a quoted letter 'a'..'z' ([] only stands alone)")
            stream.take()
            stream.expect_end("end of input after []")
            return Term(())
        else:
            items.append(_parse_literal(stream))
        if stream.peek() is None:
            return Term(tuple(items))
        stream.expect({"++"}, "++ or end of input")


def _parse_literal(stream: TokenStream) -> Lit:
    letters = [stream.expect(LETTERS, "a quoted letter 'a'..'z'")[1]]
    while stream.expect({";", "]"}, "; or ]") == ";":
        letters.append(stream.expect(LETTERS, "a quoted letter 'a'..'z'")[1])
    return Lit(tuple(letters))


# --- how far along is a term? -------------------------------------------------------------------


def infer_t(term: Term) -> int | None:
    """The smallest number of steps t such that `term` is the step-t term of some `fn T`.

    After t steps every pending call sits at depth t of the original tree and every letter is a
    node above it, in traversal order. Several t can fit one term (Leaves above depth t leave no
    trace), so the smallest is reported; None for a normal form or an unreachable term.
    """
    calls = [i for i in term.items if isinstance(i, Call)]
    if not calls:
        return None
    seq: list[bool] = []  # True for a call, False for a letter (each letter is one node)
    for item in term.items:
        seq.extend([True] if isinstance(item, Call) else [False] * len(item.letters))
    in_order, n = calls[0].fn == "inorder", len(seq)
    # ends[i]: where a subtree whose pending calls lie h levels down can end, starting at item i.
    # It depends only on h, so one table per h serves every candidate t.
    ends = [frozenset({i + 1}) if i < n and seq[i] else frozenset() for i in range(n + 1)]
    for h in range(seq.count(False) + 1):
        if h > 0:
            nxt = []
            for i in range(n + 1):
                out = {i}  # a Leaf above the call depth leaves nothing behind
                if in_order:
                    for j in ends[i]:
                        if j < n and not seq[j]:
                            out |= ends[j + 1]
                elif i < n and not seq[i]:
                    for j in ends[i + 1]:
                        out |= ends[j]
                nxt.append(frozenset(out))
            if nxt == ends:  # a fixpoint: no larger t can fit either
                return None
            ends = nxt
        if n in ends[0]:
            return h
    return None


def term_size(term: Term) -> int:
    """Branch nodes of the original tree: letters already emitted plus pending subtrees."""
    return sum(size(i.tree) if isinstance(i, Call) else len(i.letters) for i in term.items)


def pending_depth(term: Term) -> int:
    """Deepest pending subtree (0 when none is a Branch)."""
    return max((depth(i.tree) for i in term.items if isinstance(i, Call)), default=0)
