"""The rule machine on batches: input features against their plain definitions, views, decoding."""

from __future__ import annotations

import random

import numpy as np
import pytest

from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.metamodels import Batch, Context, from_text
from behaviorlab.metamodels.machine import decode, teacher_forced, tokens
from behaviorlab.metamodels.scoring import score

TOKENS = ["0", "1", "(", ")", "X1"]


def _plain(x: list[str], feat: str, arg: str) -> int:
    """The definitions the batch computes, one input at a time."""
    if feat == "count":
        return x.count(arg)
    if feat == "first":
        return x.index(arg) if arg in x else -1
    if feat == "last":
        return len(x) - 1 - x[::-1].index(arg) if arg in x else -1
    seq = x[::-1] if feat == "run" else x
    k = 0
    while k < len(seq) and seq[k] == arg:
        k += 1
    return k


@pytest.fixture(scope="module")
def inputs() -> list[list[str]]:
    rng = random.Random(0)
    return [[rng.choice(TOKENS) for _ in range(rng.randrange(0, 9))] for _ in range(200)]


@pytest.mark.parametrize("feat", ["count", "first", "last", "run", "lead"])
def test_static_features_match_their_definitions(inputs: list[list[str]], feat: str) -> None:
    batch = Batch.of([Context(x) for x in inputs])
    for arg in [*TOKENS, "absent"]:
        assert batch.static(feat, arg).tolist() == [_plain(x, feat, arg) for x in inputs], arg


def test_places_depth_and_views(inputs: list[list[str]]) -> None:
    batch = Batch.of([Context(x) for x in inputs])
    for j in (0, 3, -1, -2):
        want = [int(-len(x) <= j < len(x) and x[j] == "1") for x in inputs]
        assert batch.static("is", f"1@{j}").tolist() == want
    depth = [[0, *np.cumsum([(t == "(") - (t == ")") for t in x]).tolist()] for x in inputs]
    assert all(batch.depth[b, : len(d)].tolist() == d for b, d in enumerate(depth))
    viewed = batch.viewed((3, 1))
    for b, x in enumerate(inputs):
        want = x[:3] + x[-1:] if len(x) > 4 else x
        assert [batch.vocab.tokens[t] for t in viewed.X[b, : viewed.n[b]]] == want


def test_decoding_reads_its_own_output() -> None:
    p = from_text("program p\n  if ocount(1) >= 3 then stop\n  if prev == 1 then emit 0\n  else emit 1")
    assert p.run_many(["0", "0 0 0 0"]) == ["1 0 1 0 1", "1 0 1 0 1"]
    endless = from_text("program p\n  if prev == 1 then emit 0\n  else emit 1")
    assert endless.run_many(["0", ""]) == ["1 0 " * 4 + "1 0", "1 0 " * 3 + "1 0"]  # 2n + 8 tokens


def test_teacher_forcing_on_own_outputs_gives_the_same_tokens(inputs: list[list[str]]) -> None:
    p = from_text(
        "program p\n  if prev == 1 and i - n <= -2 then flip x[1]\n  if i - n >= 0 then stop\n"
        "  if depth >= 1 then emit X1\n  else copy x[0]"
    )
    batch = Batch.of([Context(x) for x in inputs])
    ids, lengths = decode(p, batch)
    outs = batch.texts(ids, lengths)
    targets = batch.targets(outs)
    rows = teacher_forced(batch, targets)
    assert (tokens(p, batch, rows) == targets.ids[rows.b, rows.i]).all()


def test_tokens_that_are_not_grammar_tokens_compare_as_strings() -> None:
    p = from_text("program p\n  if i == 0 then emit ab)\n  else stop")
    xs = ["1", "0 1"]
    assert p.run_many(xs) == ["ab)", "ab)"]
    assert score(p, [Context(tokenize(x)) for x in xs], ["ab)", "ab )"], alpha=1.0).fit_agreement == 0.5
