"""Absolute-position token tests, threshold-unit (vote) guards, and first-divergence patching."""

from __future__ import annotations

import numpy as np
import pytest
from test_metamodels_search import _safe, explain_black_box  # black-box helpers

from behaviorlab import tasks
from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.errors import BadInput
from behaviorlab.metamodels import Context, family_for, from_json, from_text, to_json, to_text
from behaviorlab.metamodels.exception_rules import _first_per_sequence, fit_exceptions
from behaviorlab.metamodels.features import Term
from behaviorlab.metamodels.rules import Cmp
from behaviorlab.metamodels.vote import fit_vote

REV = tasks.get("binary-successor", order="reverse")


def test_absolute_tests_and_votes_round_trip_and_run() -> None:
    text = """program p
      if i <= 3 and x@-2 == X1 and 2*is(X1@1) - is(XO@-2) >= 2 then emit XO
      if x@0 != XO then copy x[0]
      else stop"""
    p = from_text(text)
    assert from_text(to_text(p)) == p and from_json(to_json(p)) == p
    # x@-2 is the token before O1; the vote needs X1 at position 1.
    assert p.run("XO X1 X1 O1") == "XO XO XO XO"
    assert p.run("X1 XO X1 O1") == "X1 XO X1 O1"
    assert p.run("XO XO X1 O1") == ""
    vote = p.rules[0].guard[2]
    assert isinstance(vote, Cmp) and vote.bits() > Cmp((Term("is", "X1@1", 2),), ">=", 2).bits()


@pytest.mark.parametrize("bad", ["is(X1) >= 1", "2*is(X1@) >= 1", "x@k == X1"])
def test_bad_absolute_atoms_are_rejected(bad: str) -> None:
    with pytest.raises(BadInput):
        from_text(f"program p\n  if {bad} then stop")


def test_fit_vote_recovers_a_planted_threshold() -> None:
    rng = np.random.default_rng(0)
    F = rng.integers(0, 2, size=(400, 6))
    truth = 2 * F[:, 1] + F[:, 3] + F[:, 4] >= 3
    terms = [Term("is", f"X1@{k}") for k in range(6)]
    got = fit_vote(F, truth, ~truth, terms)
    assert got is not None
    atom, holds, gain = got
    assert (holds == truth).all() and gain == int(truth.sum())
    assert {t.arg for t in atom.terms} == {"X1@1", "X1@3", "X1@4"}


def test_first_divergence_per_sequence() -> None:
    mask = np.array([0, 1, 1, 0, 0, 1, 1, 1], dtype=bool)
    seq = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    assert _first_per_sequence(mask, seq).tolist() == [0, 1, 0, 0, 0, 1, 1, 0]


def reverse_with_vote_slip(x: str) -> str:
    """Reverse successor that, on inputs starting with XO, forgets to increment when a soft vote
    of positions fires: no conjunction of two or three token tests says when."""
    t = x.split()
    out = REV.solve(x).split()
    score = 2 * (len(t) > 2 and t[2] == "X1") + (len(t) > 4 and t[4] == "X1") + (len(t) > 6 and t[6] == "X1")
    return x if t[0] == "XO" and score >= 3 else " ".join(out)


def test_fit_exceptions_finds_the_vote() -> None:
    ref = next(p for p in family_for(REV.key, REV.solve) if p.name == "reverse/reference")
    xs = [e.input for e in REV.sample(800, 5, min_size=7, max_size=9)]
    patched = fit_exceptions(ref, [Context(tokenize(x)) for x in xs], [reverse_with_vote_slip(x) for x in xs])
    assert any(isinstance(a, Cmp) and a.terms[0].feat == "is" for r in patched.rules for a in r.guard)
    held = [e.input for e in REV.sample(300, 6, min_size=7, max_size=9)]
    agree = np.mean(
        [a == reverse_with_vote_slip(x) for a, x in zip(patched.run_many(held), held, strict=True)]
    )
    assert agree >= 0.99


def test_explain_predicts_every_vote_failure() -> None:
    predict = _safe(reverse_with_vote_slip)
    fit = [e.input for e in REV.sample(200, 7, min_size=7, max_size=9)]
    held = [e.input for e in REV.sample(300, 8, min_size=7, max_size=9)]
    r = explain_black_box(REV, predict, fit, held, extra_fit=600)
    assert r.n_failures >= 15
    assert r.failure_prediction_rate >= 0.95 and r.failure_precision == 1.0


def test_exceptions_are_marked_and_the_shortcut_recovered() -> None:
    ref = next(p for p in family_for(REV.key, REV.solve) if p.name == "reverse/reference")
    base = ref.with_view((5, 1), "rev@5+1")
    rule = from_text("program e\n  if i == 0 and x@-2 == XO then copy x[0]").rules[0]
    p = base.prepending([rule], "rev@5+1+patch")
    assert p.exceptions == 1 and p.label == "rev@5+1 + 1 exception"
    text = to_text(p)
    assert "--- exceptions above, shortcut below" in text
    assert from_text(text) == p and from_json(to_json(p)) == p
    assert p.shortcut() == base and p.size_bits > base.size_bits + rule.bits()
    assert p.without(0).exceptions == 0 and p.without(3).exceptions == 1
