"""Library behaviors and the natural / mechanistic / OOD input distributions."""

from __future__ import annotations

from collections import Counter

import pytest

from behaviorlab import tasks
from behaviorlab.behaviors import (
    copies_prefix,
    evaluate_behavior,
    first_difference,
    length_delta,
    mechanistic,
    natural,
    ood,
    program_behavior,
    reference_output,
)
from behaviorlab.behaviors.tokens import detokenize, tokenize
from behaviorlab.errors import BadInput
from behaviorlab.metamodels import family_for


@pytest.fixture(scope="module")
def nat() -> tasks.Task:
    return tasks.get("binary-successor", order="natural")


def test_tokens_round_trip_every_task() -> None:
    for name, opts in [
        ("binary-successor", {"order": "reverse"}),
        ("peano-add", {}),
        ("tree-inorder", {"steps": 2}),
        ("tree-preorder", {"steps": "all"}),
    ]:
        task = tasks.get(name, **opts)
        for ex in task.sample(40, 3):
            for text in (ex.input, ex.output):
                assert tokenize(text) == list(task.vocab.tokenize(text))
                assert detokenize(tokenize(text)) == text


def test_natural_and_ood_sizes(nat: tasks.Task) -> None:
    xs = natural(nat, 50, 0, max_size=6)
    assert all(1 <= len(x.split()) <= 6 for x in xs)
    assert all(nat.solve(x) for x in xs)  # canonical: the reference accepts every one
    far = ood(nat, 50, 0, train_max_size=6)
    assert all(7 <= len(x.split()) <= 12 for x in far)


def test_mechanistic_is_uniform_over_strings(nat: tasks.Task) -> None:
    xs = mechanistic(nat, 4000, 0, min_len=1, max_len=3)
    toks = [tokenize(x) for x in xs]
    assert all(set(t) <= {"0", "1"} for t in toks)
    lengths = Counter(len(t) for t in toks)
    # 2 + 4 + 8 strings: lengths 1..3 have probability 1/7, 2/7, 4/7.
    assert abs(lengths[3] / 4000 - 4 / 7) < 0.03 and abs(lengths[1] / 4000 - 1 / 7) < 0.03
    assert len(set(xs)) == 14  # every string in the range shows up, gibberish included
    assert any(x.startswith("0") for x in xs)
    with pytest.raises(BadInput):
        mechanistic(nat, 5, 0, min_len=3, max_len=2)


def test_library_behaviors(nat: tasks.Task) -> None:
    assert reference_output(nat)("1 0 1 1") == "1 1 0 0"
    assert reference_output(nat)("0 1") is None  # leading zero: not canonical
    assert copies_prefix(2)("1 0 1 1") == ("1", "0")
    assert length_delta(1)("1 1 1") == 4
    assert first_difference(nat.solve)("1 0 1 1") == 1
    assert first_difference(nat.solve)("1 1 1") == 1
    assert copies_prefix(9).description_length > copies_prefix(1).description_length


def test_reference_behavior_explains_reference_model(nat: tasks.Task) -> None:
    xs = natural(nat, 300, 1, max_size=8)
    outs = [nat.solve(x) for x in xs]
    ref = evaluate_behavior(reference_output(nat), xs, outs, seed=0)
    assert ref.cond_entropy.estimate == pytest.approx(0.0, abs=1e-9)
    assert ref.mdl == pytest.approx(reference_output(nat).description_length)
    # Output length explains less: many outputs share a length.
    length = evaluate_behavior(length_delta(0), xs, outs, seed=0)
    assert length.mutual_information.estimate < ref.mutual_information.estimate
    assert length.cond_entropy.estimate > 1.0


def test_program_as_behavior(nat: tasks.Task) -> None:
    prog = next(p for p in family_for(nat.key, nat.solve) if p.name == "natural/reference")
    b = program_behavior(prog)
    assert b("1 0 1 1") == "1 1 0 0"
    assert b.description_length == prog.size_bits
