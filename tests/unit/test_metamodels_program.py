"""Program representation: interpreter vs the reference, text/JSON round trip, size, MDL."""

from __future__ import annotations

import itertools
import json

import pytest

from behaviorlab import tasks
from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.errors import BadInput
from behaviorlab.metamodels import (
    Context,
    family_for,
    from_json,
    from_text,
    normal_form,
    reference_name,
    to_json,
    to_text,
)
from behaviorlab.metamodels.scoring import residual_bits, score


def _member(task: tasks.Task, name: str):  # type: ignore[no-untyped-def]
    return next(p for p in family_for(task.key, task.solve) if p.name == name)


@pytest.mark.parametrize("order", ["natural", "reverse"])
def test_binary_reference_program_is_exact(order: str) -> None:
    task = tasks.get("binary-successor", order=order)
    prog = _member(task, reference_name(task.key))
    bits = ("0", "1") if order == "natural" else ("XO", "X1")
    for n in range(1, 9):  # every number with up to 8 bits
        for body in itertools.product(bits, repeat=n - 1):
            toks = ["1", *body] if order == "natural" else [*body, "O1"]
            x = " ".join(toks)
            assert prog.run(x) == task.solve(x), x


def test_peano_and_tree_reference_programs() -> None:
    peano = tasks.get("peano-add")
    prog = _member(peano, "peano/reference")
    for ex in peano.sample(100, 0):
        assert prog.run(ex.input) == ex.output
    tree = tasks.get("tree-inorder", steps=1)
    ref = _member(tree, "tree/reference")
    for ex in tree.sample(30, 0):
        assert ref.run(ex.input) == ex.output
    assert ref.run("( ( ]") == ""  # gibberish: the reference has nothing to say
    # A tree program carries its own reduction: no oracle to bind after a JSON round trip.
    assert (
        from_json(to_json(ref)).run("inorder (Branch 'a' Leaf Leaf)")
        == "inorder Leaf ++ ['a'] ++ inorder Leaf"
    )
    opaque = next(p for p in family_for("no-family-task", tree.solve) if p.name == "tree/reference")
    with pytest.raises(ValueError, match="no oracle"):
        from_json(to_json(opaque)).run("inorder Leaf")


def test_text_and_json_round_trip_all_families() -> None:
    keys = [
        ("binary-successor", {"order": "natural"}),
        ("binary-successor", {"order": "reverse"}),
        ("peano-add", {}),
        ("tree-preorder", {"steps": 1}),
    ]
    for name, opts in keys:
        task = tasks.get(name, **opts)
        for p in family_for(task.key, task.solve):
            text = to_text(p)
            assert from_text(text) == p and to_text(from_text(text)) == text
            data = json.loads(json.dumps(to_json(p)))
            assert from_json(data) == p
            assert data["size_bits"] == pytest.approx(p.size_bits)


def test_text_is_readable_and_parse_errors_are_clear() -> None:
    task = tasks.get("binary-successor", order="natural")
    text = to_text(_member(task, "natural/reference"))
    assert "if i - n + run(1) <= -2 then copy x[0]" in text
    assert text.splitlines()[-1].strip() == "else emit 0"
    with pytest.raises(BadInput, match="bad action"):
        from_text("program p\n  if i == 0 then jump")
    with pytest.raises(BadInput, match="bad term"):
        from_text("program p\n  if bogus(1) == 0 then stop")
    with pytest.raises(BadInput, match="must start"):
        from_text("if i == 0 then stop")


def test_normal_form_ignores_atom_order_and_dead_rules() -> None:
    a = from_text("program a\n  if i == 0 and n >= 2 then emit 1\n  else copy x[0]\n  if i == 3 then stop")
    b = from_text("program b\n  if n >= 2 and i == 0 then emit 1\n  else copy x[0]")
    assert a != b and normal_form(a) == normal_form(b)


def test_mdl_prefers_the_smaller_of_two_equally_accurate_programs() -> None:
    task = tasks.get("binary-successor", order="natural")
    ref = _member(task, "natural/reference")
    # Same behavior, one extra rule that never fires (n is never negative).
    padded = from_text(
        to_text(ref).replace("program natural/reference\n", "program padded\n  if n <= -1 then emit 1\n")
    )
    xs = [ex.input for ex in task.sample(80, 0)]
    outs = [task.solve(x) for x in xs]
    ctxs = [Context(tokenize(x)) for x in xs]
    small = score(ref, ctxs, outs, alpha=1.0)
    big = score(padded, ctxs, outs, alpha=1.0)
    assert small.fit_agreement == big.fit_agreement == 1.0
    assert padded.size_bits > ref.size_bits and small.mdl < big.mdl


def test_residual_bits_penalise_mismatches_not_injectivity() -> None:
    outs = ["1 0", "1 1", "1 0 0"]
    assert residual_bits(outs, outs) < residual_bits(outs, ["1", "1 0 1", "1 1 1"])
    # An injective but wrong predictor still pays for every output.
    assert residual_bits(outs, ["a", "b", "c"]) > 3 * 6
