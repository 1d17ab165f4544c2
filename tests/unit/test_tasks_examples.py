"""Every worked example in reference/tasks.md, byte for byte (step sequences included)."""

from __future__ import annotations

import pytest

from behaviorlab import tasks

TREE = "(Branch 'a' (Branch 'c' Leaf Leaf) (Branch 't' Leaf Leaf))"
INORDER_STEPS = [
    f"inorder {TREE}",
    "inorder (Branch 'c' Leaf Leaf) ++ ['a'] ++ inorder (Branch 't' Leaf Leaf)",
    "inorder Leaf ++ ['c'] ++ inorder Leaf ++ ['a'] ++ inorder Leaf ++ ['t'] ++ inorder Leaf",
    "['c'; 'a'; 't']",
]
PREORDER_STEPS = [
    f"preorder {TREE}",
    "['a'] ++ preorder (Branch 'c' Leaf Leaf) ++ preorder (Branch 't' Leaf Leaf)",
    "['a'; 'c'] ++ preorder Leaf ++ preorder Leaf ++ ['t'] ++ preorder Leaf ++ preorder Leaf",
    "['a'; 'c'; 't']",
]


@pytest.mark.parametrize(("text", "expected"), [("I + I", "S I"), ("S S I + S I", "S S S S I")])
def test_peano_examples(text: str, expected: str) -> None:
    assert tasks.get("peano-add").solve(text) == expected


@pytest.mark.parametrize(
    ("order", "text", "expected"),
    [
        ("reverse", "O1", "XO O1"),
        ("reverse", "XO O1", "X1 O1"),
        ("reverse", "X1 O1", "XO XO O1"),
        ("reverse", "X1 X1 XO O1", "XO XO X1 O1"),
        ("natural", "1", "1 0"),
        ("natural", "1 0 1 1", "1 1 0 0"),
        ("natural", "1 1 1", "1 0 0 0"),
    ],
)
def test_binary_examples(order: str, text: str, expected: str) -> None:
    assert tasks.get("binary-successor", order=order).solve(text) == expected


def test_binary_eleven_in_both_orders() -> None:
    from behaviorlab.tasks.binary import from_int

    assert tasks.get("binary-successor", order="reverse").print(from_int(11)) == "X1 X1 XO O1"
    assert tasks.get("binary-successor", order="natural").print(from_int(11)) == "1 0 1 1"


@pytest.mark.parametrize(
    ("name", "sequence"), [("tree-inorder", INORDER_STEPS), ("tree-preorder", PREORDER_STEPS)]
)
def test_tree_step_sequences(name: str, sequence: list[str]) -> None:
    one = tasks.get(name, steps=1)
    for before, after in zip(sequence, sequence[1:], strict=False):
        assert one.solve(before) == after
    assert one.solve(sequence[-1]) == sequence[-1]  # the normal form is a fixed point
    for k in (2, 3):
        task = tasks.get(name, steps=k)
        for t, text in enumerate(sequence):
            assert task.solve(text) == sequence[min(t + k, len(sequence) - 1)]
    assert tasks.get(name).solve(sequence[0]) == sequence[-1]
    for text in sequence:
        assert one.print(one.parse(text)) == text


def test_tree_example_print_and_letters() -> None:
    from behaviorlab.tasks.trees import parse_tree, print_tree

    text = "Branch 'a' (Branch 'c' Leaf Leaf) (Branch 't' Leaf Leaf)"
    assert print_tree(parse_tree(text)) == text
    assert tasks.get("tree-inorder").solve("inorder Leaf") == "[]"


def test_tree_meta_on_worked_example() -> None:
    task = tasks.get("tree-inorder", steps=1)
    meta = [task.meta(text) for text in INORDER_STEPS[:3]]
    assert [m["t"] for m in meta] == [0, 1, 2]
    assert [m["pending_calls"] for m in meta] == [1, 2, 4]
    assert all(m["size"] == 3 and m["depth"] == 2 for m in meta)
    assert [m["remaining_steps"] for m in meta] == [3, 2, 1]
