"""Windowed views (`view x[:H] + x[-T:]`) and exception patches, on hand-written buggy models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from test_metamodels_search import _safe, explain_black_box  # black-box helpers

from behaviorlab import tasks
from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.metamodels import (
    Context,
    family_for,
    from_json,
    from_text,
    to_json,
    to_text,
)
from behaviorlab.metamodels.exception_rules import fit_exceptions

NAT = tasks.get("binary-successor", order="natural")
REV = tasks.get("binary-successor", order="reverse")


def natural_sees_six(x: str) -> str:
    """Learned positions up to 6 only: the successor of the first 6 bits."""
    return NAT.solve(" ".join(x.split()[:6]))


def reverse_sees_five_and_end(x: str) -> str:
    """Keeps the first 5 bits and the final O1, like a model blind to middle positions."""
    t = x.split()
    return REV.solve(" ".join(t[:5] + t[-1:] if len(t) > 6 else t))


def test_view_text_json_round_trip_and_size() -> None:
    ref = next(p for p in family_for(REV.key, REV.solve) if p.name == "reverse/reference")
    p = ref.with_view((5, 1), "rev5")
    text = to_text(p)
    assert "view x[:5] + x[-1:]" in text.splitlines()[1]
    assert from_text(text) == p and from_json(to_json(p)) == p
    assert p.size_bits > ref.size_bits  # a view is not free
    x = "X1 X1 XO X1 XO XO X1 O1"
    assert p.run(x) == reverse_sees_five_and_end(x)


def test_exceptions_before_the_view_read_the_whole_input() -> None:
    text = """program p
      if i == 0 and n >= 8 then emit 0
      view x[:3]
      else copy x[0]"""
    p = from_text(text)
    assert (p.view, p.view_at) == ((3, 0), 1)
    assert p.run("1 1 1 1 1 1 1 1") == "0 1 1" and p.run("1 1 1 1") == "1 1 1"
    assert from_text(to_text(p)) == p and from_json(to_json(p)) == p


@pytest.mark.parametrize(
    ("task", "model", "name"),
    [
        (NAT, natural_sees_six, "natural/reference@6+0"),
        (REV, reverse_sees_five_and_end, "reverse/reference@5+1"),
    ],
)
def test_search_finds_the_window(task: tasks.Task, model: Callable[[str], str], name: str) -> None:
    predict = _safe(model)
    fit = [e.input for e in task.sample(120, 0, max_size=10, edge_fraction=0.1)]
    held = [e.input for e in task.sample(200, 1, max_size=10, edge_fraction=0.1)]
    r = explain_black_box(task, predict, fit, held)
    assert r.n_failures >= 10 and r.program.name == name
    assert r.failure_prediction_rate == 1.0 and r.failure_precision == 1.0


def test_fit_exceptions_adds_the_missing_exception() -> None:
    """A window model that also writes 0 first whenever the input ends in 0 0 0."""

    def model(x: str) -> str:
        out = natural_sees_six(x).split()
        return " ".join(["0"] + out[1:] if x.endswith("0 0 0") else out)

    ref = next(p for p in family_for(NAT.key, NAT.solve) if p.name == "natural/reference")
    base = ref.with_view((6, 0))
    xs = [e.input for e in NAT.sample(300, 3, max_size=10, edge_fraction=0.1)]
    patched = fit_exceptions(base, [Context(tokenize(x)) for x in xs], [model(x) for x in xs])
    assert patched.view_at >= 1 and patched.shortcut().rules == base.rules  # the shortcut stays whole
    held = [e.input for e in NAT.sample(200, 4, max_size=10)]
    assert patched.run_many(held) == [model(x) for x in held]
