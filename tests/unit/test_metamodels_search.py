"""Search recovers known buggy "models" and predicts their failures; reference → reference."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from behaviorlab import tasks
from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.errors import BadInput
from behaviorlab.lm.function import FunctionModel
from behaviorlab.metamodels import (
    Context,
    ExplainResult,
    compare,
    explain,
    failure_stats,
    family_for,
    induce,
    normal_form,
)

NAT = tasks.get("binary-successor", order="natural")
REV = tasks.get("binary-successor", order="reverse")


def _safe(fn: Callable[[str], str]) -> Callable[[str], str]:
    """A black-box model: on gibberish it echoes the input, like a confused copier."""

    def model(x: str) -> str:
        try:
            return fn(x)
        except BadInput:
            return x

    return model


def natural_carry_cap3(x: str) -> str:
    """Handles carry chains up to 3 and copies the input otherwise."""
    trailing = len(x.split()) - len("".join(x.split()).rstrip("1"))
    return x if trailing > 3 else NAT.solve(x)


def reverse_length_cap6(x: str) -> str:
    """Correct successor, but never writes more than 6 tokens."""
    return " ".join(REV.solve(x).split()[:6])


def natural_drops_last_zero(x: str) -> str:
    """Outside every family: on carry runs of 3 or more it forgets the final 0."""
    out = NAT.solve(x)
    trailing = len(x.split()) - len("".join(x.split()).rstrip("1"))
    return out[:-2] if trailing >= 3 else out


def reverse_doubles_o1(x: str) -> str:
    """Outside every family: when the input has no XO, it writes O1 twice."""
    out = REV.solve(x)
    return out + " O1" if "XO" not in x.split() else out


def explain_black_box(
    task: tasks.Task,
    model: Callable[[str], str],
    fit: list[str],
    held: list[str],
    *,
    seed: int = 0,
    extra_fit: int = 100,
) -> ExplainResult:
    """explain() with the model's outputs on `fit` and `held`, and the model as the black box."""
    return explain(
        task,
        [(x, model(x)) for x in fit],
        [(x, model(x)) for x in held],
        model=FunctionModel(model, getattr(model, "__name__", "black-box")),
        seed=seed,
        extra_fit=extra_fit,
    )


def _run(task: tasks.Task, model: Callable[[str], str], seed: int = 0) -> ExplainResult:
    fit = [e.input for e in task.sample(120, 10 * seed, max_size=10, edge_fraction=0.1)]
    held = [e.input for e in task.sample(200, 10 * seed + 1, max_size=10, edge_fraction=0.1)]
    return explain_black_box(task, model, fit, held, seed=seed)


@pytest.fixture(scope="module")
def results() -> dict[str, ExplainResult]:
    return {
        "nat-cap3": _run(NAT, _safe(natural_carry_cap3)),
        "rev-len6": _run(REV, _safe(reverse_length_cap6)),
        "nat-ref": _run(NAT, _safe(NAT.solve)),
        "nat-drop": _run(NAT, _safe(natural_drops_last_zero)),
        "rev-dup": _run(REV, _safe(reverse_doubles_o1)),
    }


@pytest.mark.parametrize("run", ["nat-cap3", "rev-len6", "nat-drop", "rev-dup"])
def test_recovers_buggy_program_and_predicts_all_failures(
    results: dict[str, ExplainResult], run: str
) -> None:
    r = results[run]
    assert r.n_failures >= 10  # the bug shows up on the held-out set
    assert r.metamodel_agreement == 1.0
    assert r.failure_prediction_rate == 1.0 and r.failure_precision == 1.0
    assert not r.matches_reference
    assert r.mutual_information.ci_low > 0 and r.mutual_information_mechanistic is not None
    # Perfect failure prediction: I(fails; predicted) equals the entropy of the failure flag.
    p = r.n_failures / r.n_heldout
    h = -(p * math.log2(p) + (1 - p) * math.log2(1 - p))
    assert r.failure_information is not None
    assert r.failure_information.estimate == pytest.approx(h, abs=0.02)


def test_family_shortcuts_are_selected_by_name(results: dict[str, ExplainResult]) -> None:
    assert results["nat-cap3"].program.name == "natural/carry-cap3-copy"
    assert results["rev-len6"].program.name == "reverse/output-cap6"


@pytest.mark.parametrize("run", ["nat-drop", "rev-dup"])
def test_generic_search_handles_bugs_outside_the_families(
    results: dict[str, ExplainResult], run: str
) -> None:
    r = results[run]
    assert r.program.name.startswith("induced/") and r.family_match is None
    assert r.candidates[0]["name"] == r.program.name
    assert r.metamodel_size < 400


def test_reference_model_gives_reference_program(results: dict[str, ExplainResult]) -> None:
    r = results["nat-ref"]
    assert r.n_failures == 0 and r.n_predicted_failures == 0
    # No failures: the rates are undefined and say so, never "100% (0.0-100.0) | precision 0%".
    assert r.failure_prediction_rate is None and r.failure_precision is None
    assert r.failure_prediction_ci is None and r.to_json()["failure_prediction_ci"] is None
    text = r.render_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("model failures"))
    assert line == (
        "model failures: 0; predicted by the program: n/a (no failures); "
        "precision n/a (no predicted failures)"
    )
    assert r.explains and r.matches_reference and r.family_match == "natural/reference"
    ref = next(p for p in family_for(NAT.key, NAT.solve) if p.name == "natural/reference")
    assert normal_form(r.program) == normal_form(ref)
    held = [e.input for e in NAT.sample(100, 9, max_size=10)]
    assert r.program.run_many(held) == [NAT.solve(x) for x in held]


def test_to_json_and_render(results: dict[str, ExplainResult]) -> None:
    data = results["nat-cap3"].to_json()
    for key in (
        "failure_prediction_rate",
        "failure_precision",
        "metamodel_agreement",
        "metamodel_size",
        "mutual_information_bits",
    ):
        assert isinstance(data[key], float)
    assert data["candidates"][0]["mdl"] <= data["candidates"][-1]["mdl"]
    text = results["nat-cap3"].render_text()
    assert "predicted by the program: 100.0%" in text and "if " in text


def test_compare_detects_same_and_different_shortcuts(results: dict[str, ExplainResult]) -> None:
    again = _run(NAT, _safe(natural_carry_cap3), seed=1)
    rows = {row["run"]: row for row in compare({**results, "nat-cap3-again": again})}
    assert rows["nat-cap3"]["same_shortcut_as"] == ["nat-cap3-again"]
    assert rows["nat-ref"]["same_shortcut_as"] == []
    assert rows["rev-len6"]["same_shortcut_as"] == []
    assert rows["nat-drop"]["same_shortcut_as"] == []
    assert rows["nat-cap3"]["program"] == "natural/carry-cap3-copy"


def test_induce_alone_reproduces_a_buggy_model() -> None:
    model = _safe(natural_carry_cap3)
    fit = [e.input for e in NAT.sample(150, 2, max_size=10, edge_fraction=0.1)]
    prog = induce([Context(tokenize(x)) for x in fit], [model(x) for x in fit])
    held = [e.input for e in NAT.sample(200, 3, max_size=10, edge_fraction=0.1)]
    assert prog.run_many(held) == [model(x) for x in held]
    assert len(prog.rules) <= 8


def test_failure_stats_definitions() -> None:
    s = failure_stats(["a", "b", "x", "y"], ["a", "b", "x", "z"], ["a", "b", "c", "d"])
    assert (s.n_failures, s.n_predicted, s.n_predicted_correctly) == (2, 2, 1)
    assert s.failure_prediction_rate == 0.5 and s.failure_precision == 1.0
    assert s.agreement == 0.75
    # A rate over zero cases is undefined (None), not 100%; its Estimate has no interval.
    none = failure_stats(["a"], ["a"], ["a"])
    assert none.n_failures == 0 and none.failure_prediction_rate is None
    assert none.failure_precision is None and not none.predicted.defined and none.predicted.ci_low is None
    false_alarm = failure_stats(["a"], ["b"], ["a"])
    assert false_alarm.failure_prediction_rate is None and false_alarm.failure_precision == 0.0
    assert false_alarm.precision.n == 1 and false_alarm.precision.k == 0
