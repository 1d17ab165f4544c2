"""Parsers reject every bad case with the position and what was expected; garbage never crashes."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from behaviorlab import tasks
from behaviorlab.errors import BadInput

CONFIGS = [
    ("peano-add", {}),
    ("binary-successor", {"order": "reverse"}),
    ("binary-successor", {"order": "natural"}),
    ("tree-preorder", {"steps": 1}),
    ("tree-inorder", {"steps": 3}),
    ("tree-inorder", {"steps": "all"}),
]

BAD = [
    # (task, options, input, regex the message must match)
    ("binary-successor", {}, "X1 X1 1", r"at token 3 \('1', char 7\): expected XO, X1 or O1"),
    ("binary-successor", {}, "O1 XO", r"at token 2 \('XO', char 4\): expected end of input \(O1"),
    ("binary-successor", {}, "XO X1", r"at end of input \(after token 2\): expected XO, X1 or O1"),
    ("binary-successor", {}, "", r"empty input: expected XO, X1 or O1"),
    ("binary-successor", {"order": "natural"}, "0 1 1", r"at token 1 \('0', char 1\): expected 1"),
    ("binary-successor", {"order": "natural"}, "1 2", r"at token 2 \('2', char 3\): expected 0, 1"),
    ("binary-successor", {"order": "natural"}, "   ", r"empty input"),
    ("peano-add", {}, "S I", r"at end of input \(after token 2\): expected \+"),
    ("peano-add", {}, "S + I", r"at token 2 \('\+', char 3\): expected S or I"),
    ("peano-add", {}, "I + I I", r"at token 4 \('I', char 7\): expected end of input"),
    ("peano-add", {}, "I + S", r"at end of input \(after token 3\): expected S or I"),
    ("peano-add", {}, "", r"empty input"),
    ("tree-inorder", {}, "inorder (Branch 'a' Leaf Leaf", r"at end of input.*expected \) closing"),
    ("tree-inorder", {}, "inorder (Branch 'a' Leaf Leaf))", r"token 8 \('\)'.*\+\+ or end"),
    ("tree-inorder", {}, "inorder (Branch 'a' Leaf)", r"at token 6 \('\)'.*right subtree"),
    ("tree-inorder", {}, "inorder (Branch 'a')", r"at token 5 \('\)'.*left subtree"),
    ("tree-inorder", {}, "inorder (Branch Leaf Leaf)", r"at token 4 \('Leaf'.*quoted letter"),
    ("tree-inorder", {}, "inorder Branch 'a' Leaf Leaf", r"at token 2 \('Branch'.*Leaf or \("),
    ("tree-inorder", {}, "inorder (Branch 'A' Leaf Leaf)", r"token 4 \(\"'A'\".*'a'..'z'"),
    ("tree-inorder", {}, "preorder Leaf", r"at token 1 \('preorder'.*expected inorder or \["),
    ("tree-inorder", {}, "['a'] ++ ['b']", r"at token 5 \('\['.*literals are merged"),
    ("tree-inorder", {}, "[] ++ inorder Leaf", r"at token 3 \('\+\+'.*end of input after \[\]"),
    ("tree-inorder", {}, "inorder Leaf ++ []", r"at token 5 \('\]'.*only stands alone"),
    ("tree-inorder", {}, "['a' 'b']", r"at token 3 \(\"'b'\".*expected ; or \]"),
    ("tree-inorder", {}, "inorder Leaf ++", r"at end of input.*expected inorder or \["),
    ("tree-inorder", {}, "", r"empty input"),
]


@pytest.mark.parametrize(("name", "options", "text", "pattern"), BAD)
def test_rejects_bad_input_with_position(
    name: str, options: dict[str, object], text: str, pattern: str
) -> None:
    task = tasks.get(name, **options)
    with pytest.raises(BadInput, match=pattern) as info:
        task.parse(text)
    assert str(info.value).startswith(task.label + ": ")
    with pytest.raises(BadInput):
        task.solve(text)
    with pytest.raises(BadInput):
        task.meta(text)


def test_limits_are_bad_input_not_recursion_errors() -> None:
    with pytest.raises(BadInput, match="limit"):
        tasks.get("peano-add").parse("S " * 600 + "I + I")
    with pytest.raises(BadInput, match="levels deep"):
        tasks.get("tree-inorder").parse("inorder " + "(Branch 'a' " * 250 + "Leaf")
    with pytest.raises(BadInput, match="too long"):
        tasks.get("binary-successor").parse("XO " * 5000 + "O1")
    assert len(tasks.get("binary-successor").solve("X1 " * 511 + "O1").split()) == 513
    # The deepest trees allowed go through every reference function without RecursionError.
    for name in ("tree-inorder", "tree-preorder"):
        for steps in (1, "all"):
            task = tasks.get(name, steps=steps)
            for ex in task.sample(2, 0, min_size=200, max_size=200, shape="left-spine"):
                assert task.solve(ex.input) == ex.output and task.meta(ex.input) == ex.meta


def _check_garbage(name: str, options: dict[str, object], text: str) -> None:
    task = tasks.get(name, **options)
    try:
        obj = task.parse(text)
    except BadInput as e:
        assert e.one_line().startswith(task.label)
        return
    canonical = task.print(obj)  # accepted: spacing may differ, the structure must survive
    assert task.print(task.parse(canonical)) == canonical
    task.solve(text)
    task.meta(text)


@pytest.mark.parametrize(("name", "options"), CONFIGS)
@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=50))
def test_fuzzed_text_only_bad_input(name: str, options: dict[str, object], text: str) -> None:
    _check_garbage(name, options, text)


@pytest.mark.parametrize(("name", "options"), CONFIGS)
def test_token_soup_only_bad_input(name: str, options: dict[str, object]) -> None:
    task = tasks.get(name, **options)
    pool = [*task.vocab.tokens[3:], "(", ")", "[", "]", "++", "Branch", "Leaf", "X", "'A'"]
    rng = random.Random(5)
    accepted = 0
    for _ in range(400):
        tokens = [rng.choice(pool) for _ in range(rng.randint(0, 12))]
        text = " ".join(tokens)
        _check_garbage(name, options, text)
        try:
            task.parse(text)
            accepted += 1
        except BadInput:
            pass
    assert accepted < 400


@pytest.mark.parametrize(("name", "options"), CONFIGS)
def test_mutated_samples_only_bad_input(name: str, options: dict[str, object]) -> None:
    task = tasks.get(name, **options)
    rng = random.Random(11)
    for ex in task.sample(100, seed=3):
        tokens = task.vocab.tokenize(ex.input)
        i = rng.randrange(len(tokens))
        op = rng.choice(["drop", "dup", "swap"])
        if op == "drop":
            del tokens[i]
        elif op == "dup":
            tokens.insert(i, tokens[i])
        else:
            tokens[i] = rng.choice(task.vocab.tokens[3:])
        _check_garbage(name, options, " ".join(tokens))
