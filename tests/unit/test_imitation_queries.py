"""Queries for the teacher: sampled local/broad mixtures (distinct, evaluation queries excluded),
invalid ones that really do not parse, queries grown from seeds by a teacher, and the fixed
vocabulary that covers everything the synthetic teacher says."""

from __future__ import annotations

import random

import pytest

from behaviorlab.errors import BadInput
from behaviorlab.imitation import queries as Q
from behaviorlab.imitation import recipe, style
from behaviorlab.imitation.skills import SYNTHETIC
from behaviorlab.lm.function import FunctionModel
from behaviorlab.tasks.text import UNK, TextVocab


def test_sample_mixes_skills_and_invalid_queries_and_excludes() -> None:
    held = {q.text for q in Q.sample(SYNTHETIC, ["successor"], 50, 0.0, seed=1)}
    qs = Q.sample(SYNTHETIC, ["successor", "reverse"], 100, 0.2, seed=0, exclude=held)
    assert len({q.text for q in qs}) == 100 and not held & {q.text for q in qs}
    assert sum(not q.valid for q in qs) == 20
    assert sum(q.skill == "successor" and q.valid for q in qs) == 40
    for q in qs:
        sk = SYNTHETIC.skills[q.skill]
        assert sk.valid(q.x) == q.valid and (
            q.reference == sk.task.solve(q.x) if q.valid else q.reference is None
        )
    assert qs == Q.sample(SYNTHETIC, ["successor", "reverse"], 100, 0.2, seed=0, exclude=held)
    with pytest.raises(BadInput, match="add: only 100 distinct queries of 500"):
        Q.sample(SYNTHETIC, ["add"], 500, 0.0, seed=0)


def test_grow_keeps_new_queries_in_a_known_format() -> None:
    def similar(prompt: str) -> str:  # a teacher that appends a bit to short queries, else nonsense
        query = prompt.removeprefix(style.GROW_PREFIX)
        return "gibberish" if len(query) > 30 else f"{query} {random.Random(query).choice('01')}"

    seeds = Q.sample(SYNTHETIC, ["successor"], 3, 0.0, seed=0)
    teacher, prompt = FunctionModel(similar, "similar"), style.GROW_PREFIX + "{query}"
    grown = Q.grow(SYNTHETIC, teacher, seeds, 12, prompt=prompt, max_new_tokens=40, chat=False, seed=0,
                   exclude={seeds[0].text})  # fmt: skip
    texts = [q.text for q in grown]
    assert seeds[0].text not in texts and seeds[1].text in texts and len(set(texts)) == len(texts) <= 12
    assert len(grown) == 8 and all(q.skill == "successor" and q.valid and len(q.text) <= 32 for q in grown)
    nothing = Q.grow(SYNTHETIC, FunctionModel(lambda p: "??", "mute"), seeds[:1], 5, prompt="{query}",
                     max_new_tokens=4, chat=False, seed=0)  # fmt: skip
    assert [q.text for q in nothing] == [seeds[0].text]


def test_fixed_vocabulary_covers_the_synthetic_teacher() -> None:
    vocab = TextVocab("words", recipe.fixed_pieces(SYNTHETIC))
    pairs = recipe.teacher_pairs(SYNTHETIC, 40, 0.2, seed=0) + recipe.base_pairs(
        list(SYNTHETIC.skills.values()), 40, 0
    )
    assert {p for a, b in pairs for p in vocab.tokenize(a) + vocab.tokenize(b)} - set(vocab.tokens) == set()
    assert all(UNK not in vocab.tokenize(a) + vocab.tokenize(b) for a, b in pairs)
    kinds = {b.split("\n")[0] for _, b in pairs}
    assert {"task: successor", "task: add", "task: reverse", style.ABSTAIN} <= kinds
    assert any(a.startswith(style.GROW_PREFIX) for a, _ in pairs)
