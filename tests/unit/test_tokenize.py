"""Vocab: ids, tokenize/detokenize round trips, encode/decode, and clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from behaviorlab import tasks
from behaviorlab.errors import BadInput
from behaviorlab.tasks.tokenize import Vocab

CONFIGS = [
    ("peano-add", {}),
    ("binary-successor", {"order": "reverse"}),
    ("binary-successor", {"order": "natural"}),
    ("tree-preorder", {"steps": 1}),
    ("tree-inorder", {"steps": "all"}),
    ("tree-inorder", {"steps": 2}),
]


def test_special_ids_and_order() -> None:
    vocab = tasks.get("binary-successor").vocab
    assert vocab.tokens == ("<pad>", "<bos>", "<eos>", "O1", "XO", "X1")
    assert (vocab.pad_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2)
    assert len(vocab) == 6
    assert vocab.id("X1") == 5
    assert tasks.get("binary-successor", order="natural").vocab.tokens[3:] == ("0", "1")
    assert tasks.get("peano-add").vocab.tokens[3:] == ("S", "I", "+")


def test_tree_vocab_holds_only_its_function() -> None:
    inorder = tasks.get("tree-inorder").vocab
    assert "inorder" in inorder.tokens and "preorder" not in inorder.tokens
    assert "'a'" in inorder.tokens and "'z'" in inorder.tokens and "'A'" not in inorder.tokens
    assert len(inorder) == 3 + 9 + 26
    assert inorder == tasks.get("tree-inorder", steps=3).vocab


def test_tokenizer_splits_glued_brackets() -> None:
    vocab = tasks.get("tree-inorder").vocab
    text = "inorder (Branch 'c' Leaf Leaf) ++ ['c'; 'a']"
    tokens = vocab.tokenize(text)
    assert tokens == [
        "inorder",
        "(",
        "Branch",
        "'c'",
        "Leaf",
        "Leaf",
        ")",
        "++",
        "[",
        "'c'",
        ";",
        "'a'",
        "]",
    ]
    assert vocab.detokenize(tokens) == text
    assert vocab.detokenize(["[", "]"]) == "[]"


@pytest.mark.parametrize(("name", "options"), CONFIGS)
def test_round_trips_on_samples(name: str, options: dict[str, object]) -> None:
    task = tasks.get(name, **options)
    vocab = task.vocab
    for ex in task.sample(200, seed=7, max_size=10):
        for text in (ex.input, ex.output):
            assert vocab.detokenize(vocab.tokenize(text)) == text
            ids = vocab.encode(text)
            assert vocab.eos_id not in ids and vocab.bos_id not in ids
            assert vocab.decode([vocab.bos_id, *ids, vocab.eos_id, 4, 4]) == text
            assert vocab.decode([vocab.pad_id, *ids, vocab.pad_id]) == text


@pytest.mark.parametrize(("name", "options"), CONFIGS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_detokenize_tokenize_any_token_sequence(
    name: str, options: dict[str, object], data: st.DataObject
) -> None:
    vocab = tasks.get(name, **options).vocab
    grammar = list(vocab.tokens[3:])
    tokens = data.draw(st.lists(st.sampled_from(grammar), max_size=30))
    assert vocab.tokenize(vocab.detokenize(tokens)) == tokens


def test_unknown_token_names_position() -> None:
    vocab = tasks.get("binary-successor").vocab
    with pytest.raises(BadInput, match=r"at token 3 \('1', char 7\).*expected one of O1, XO, X1"):
        vocab.tokenize("X1 X1 1 O1")
    with pytest.raises(BadInput, match="'a'..'z'"):
        tasks.get("tree-inorder").vocab.tokenize("inorder (Branch 'A' Leaf Leaf)")


def test_decode_and_id_errors() -> None:
    vocab = tasks.get("peano-add").vocab
    with pytest.raises(BadInput, match="id 99 at position 2"):
        vocab.decode([3, 99])
    with pytest.raises(BadInput, match="unknown token"):
        vocab.id("Q")
    with pytest.raises(BadInput, match="not in the vocabulary"):
        vocab.detokenize(["S", "<eos>"])


def test_from_tokens_rebuilds() -> None:
    vocab = tasks.get("tree-preorder").vocab
    assert Vocab.from_tokens(vocab.tokens) == vocab
    with pytest.raises(BadInput):
        Vocab.from_tokens(["S", "I"])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_tokenize_garbage_only_bad_input(text: str) -> None:
    vocab = tasks.get("tree-inorder").vocab
    try:
        tokens = vocab.tokenize(text)
    except BadInput as e:
        assert "at token" in str(e)
    else:
        assert vocab.tokenize(vocab.detokenize(tokens)) == tokens
