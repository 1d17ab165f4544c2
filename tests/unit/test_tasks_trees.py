"""Tree traversals and reduction terms: round trips, direct-traversal agreement, composition."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from behaviorlab import tasks
from behaviorlab.tasks import terms
from behaviorlab.tasks.trees import (
    Branch,
    Leaf,
    Tree,
    count_at_most,
    depth,
    parse_tree,
    print_tree,
    size,
    uniform_shape,
)

LETTER = st.sampled_from("abcdefghijklmnopqrstuvwxyz")
TREES: st.SearchStrategy[Tree] = st.recursive(
    st.just(Leaf()),
    lambda sub: st.builds(Branch, LETTER, sub, sub),
    max_leaves=20,
)
FNS = st.sampled_from(["inorder", "preorder"])


def direct(fn: str, tree: Tree) -> list[str]:
    """An independent traversal with an explicit stack (no recursion, no shared code)."""
    out: list[str] = []
    stack: list[tuple[Tree, bool]] = [(tree, False)]
    while stack:
        node, emit = stack.pop()
        if isinstance(node, Leaf):
            continue
        if emit:
            out.append(node.c)
        elif fn == "preorder":
            stack += [(node.right, False), (node.left, False), (node, True)]
        else:
            stack += [(node.right, False), (node, True), (node.left, False)]
    return out


@settings(max_examples=150, deadline=None)
@given(TREES, FNS)
def test_traversal_agrees_with_direct_and_with_stepping(tree: Tree, fn: str) -> None:
    expected = direct(fn, tree)
    task = tasks.get(f"tree-{fn}")
    text = terms.print_term(terms.start(fn, tree))
    out = task.parse_output(task.solve(text))
    assert isinstance(out, terms.Term)
    letters = [c for item in out.items if isinstance(item, terms.Lit) for c in item.letters]
    assert letters == expected
    stepped = terms.run(terms.start(fn, tree), 10_000)
    assert stepped == terms.normal_form(terms.start(fn, tree))
    assert terms.steps_to_normal(terms.start(fn, tree)) == depth(tree) + 1


@settings(max_examples=150, deadline=None)
@given(TREES, FNS, st.integers(0, 8), st.integers(0, 8))
def test_steps_compose(tree: Tree, fn: str, k: int, j: int) -> None:
    term0 = terms.start(fn, tree)
    assert terms.run(terms.run(term0, k), j) == terms.run(term0, k + j)
    one = tasks.get(f"tree-{fn}", steps=1)
    text = terms.print_term(term0)
    for _ in range(k):
        text = one.solve(text)
    assert text == terms.print_term(terms.run(term0, k))


@settings(max_examples=150, deadline=None)
@given(TREES, FNS, st.integers(0, 6))
def test_print_parse_round_trip_of_trees_and_terms(tree: Tree, fn: str, t: int) -> None:
    assert parse_tree(print_tree(tree)) == tree
    task = tasks.get(f"tree-{fn}", steps=2)
    term = terms.run(terms.start(fn, tree), t)
    text = terms.print_term(term)
    assert task.parse(text) == term
    assert task.print(task.parse(text)) == text
    meta = task.meta(text)
    assert meta["size"] == size(tree) == task.size_of(text)
    assert meta["pending_calls"] == sum(isinstance(i, terms.Call) for i in term.items)
    if terms.is_normal(term):
        assert meta["t"] == meta["depth"] == -1
    else:
        # Leaves above the frontier leave no trace, so t is the smallest that fits.
        assert 0 <= meta["t"] <= t
        assert meta["depth"] - meta["t"] == depth(tree) - t


def test_normal_form_term_is_canonical() -> None:
    task = tasks.get("tree-inorder")
    assert task.solve("['a'; 'b']") == "['a'; 'b']"
    assert task.solve("[]") == "[]"


def test_uniform_shapes_are_uniform() -> None:
    rng = random.Random(0)
    counts = Counter(print_tree(uniform_shape(rng, 3, 3, exact=False)) for _ in range(2500))
    assert len(counts) == 5  # Catalan(3)
    assert all(400 <= c <= 600 for c in counts.values()), counts
    exact = Counter(print_tree(uniform_shape(rng, 3, 2, exact=True)) for _ in range(300))
    assert list(exact) == ["Branch 'a' (Branch 'a' Leaf Leaf) (Branch 'a' Leaf Leaf)"]


@pytest.mark.parametrize(("n", "h", "count"), [(3, 3, 4), (3, 2, 1), (5, 5, 16), (4, 3, 6), (7, 3, 1)])
def test_shape_counts(n: int, h: int, count: int) -> None:
    assert count_at_most(n, h) - count_at_most(n, h - 1) == count
