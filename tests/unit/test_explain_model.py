"""explain --model: any text model asked few-shot, its answers parsed and explained like a run's."""

from __future__ import annotations

from typing import Any

from behaviorlab import tasks
from behaviorlab.errors import BadInput
from behaviorlab.lm.fewshot import FewShotModel, few_shot_prompt, parse_answer
from behaviorlab.lm.function import FunctionModel
from behaviorlab.metamodels.on_model import canonical_for, explain_model

NATURAL = tasks.get("binary-successor", order="natural")


def _lm(prompt: str) -> str:
    """A fake pretrained LM: reads the last `Input:` line; answers the successor for numbers of up
    to 4 bits, written without spaces, and for longer ones copies the input (a planted shortcut)."""
    query = prompt.rsplit("Input: ", 1)[1].split("\n", 1)[0]
    try:
        answer = NATURAL.solve(query).replace(" ", "") if len(query.split()) <= 4 else query
    except BadInput:  # explain also asks about gibberish: this LM echoes it
        answer = query
    return f" {answer}\nInput: 1 0\nOutput: 1 1"  # an LM keeps going; the answer is the first line


def test_prompts_and_answers() -> None:
    assert few_shot_prompt([("1", "1 0")], "1 1") == "Input: 1\nOutput: 1 0\nInput: 1 1\nOutput:"
    assert parse_answer(" 1 0 0\nInput: x") == "1 0 0"
    assert parse_answer("\nOutput:  1  1\n") == "1 1"
    canon = canonical_for(NATURAL)
    assert (canon("1011"), canon("1 0 1 1"), canon("banana")) == ("1 0 1 1", "1 0 1 1", "banana")
    few = FewShotModel(FunctionModel(_lm, "fake-lm"), [("1", "1 0")], canon)
    (c,) = few.generate(["1 0 1"], 8)
    assert c.text == "1 1 0" and c.meta["raw"].startswith(" 110")


def test_the_planted_shortcut_is_found_in_the_answers() -> None:
    result, facts = explain_model(
        FunctionModel(_lm, "fake-lm"), NATURAL, shots=4, n=120, queries=150, check=150
    )
    out: dict[str, Any] = result.to_json()
    assert facts["shots"] == 4 and len(facts["demonstrations"]) == 4
    assert 0.0 < facts["accuracy"] < 1.0  # short numbers right, long ones copied
    fresh = out["fresh_check"]["all"]
    assert fresh["n_failures"] > 10
    assert fresh["failure_prediction_rate"] >= 0.95 and fresh["failure_precision"] >= 0.95


def test_a_model_that_fails_everything_is_explained_by_no_program() -> None:
    """explain --model on a model that answers every input with text no program of the language
    writes: no program is selected; the verdict says nothing in the language explains it."""
    from behaviorlab.metamodels.result import NOTHING_EXPLAINS

    def babble(prompt: str) -> str:
        return " I am not sure what you mean."

    result, facts = explain_model(
        FunctionModel(babble, "babble"), NATURAL, shots=2, n=40, queries=20, check=0
    )
    assert facts["accuracy"] == 0.0 and result.metamodel_agreement <= 0.05
    assert not result.explains and result.verdict.startswith(NOTHING_EXPLAINS)
    out = result.to_json()
    assert out["explains"] is False and NOTHING_EXPLAINS in out["verdict"]
    text = result.render_text()
    assert text.splitlines()[0].startswith(f"task {NATURAL.key}: {NOTHING_EXPLAINS}")
    assert "selected '" not in text and "no program is selected" in text
    assert result.program_name.startswith("none")


def test_degenerate_when_every_candidate_ties() -> None:
    from behaviorlab.metamodels.result import degenerate

    tied = [{"fit_agreement": 0.4, "heldout_agreement": 0.3}] * 5
    assert degenerate(0.3, tied) == "all 5 candidates tie at 30.0% held-out agreement"
    assert degenerate(0.0, tied[:1]) == "held-out agreement 0.0%"
    apart = [
        {"fit_agreement": 0.9, "heldout_agreement": 0.9},
        {"fit_agreement": 0.4, "heldout_agreement": 0.3},
    ]
    assert degenerate(0.9, apart) is None
    assert degenerate(1.0, [{"fit_agreement": 1.0, "heldout_agreement": 1.0}] * 3) is None  # equal and right
