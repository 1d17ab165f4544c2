"""explain --model: any text model asked few-shot, its answers parsed and explained like a run's."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from behaviorlab import tasks
from behaviorlab.errors import BadInput
from behaviorlab.lm.fewshot import FewShotModel, few_shot_prompt, parse_answer
from behaviorlab.lm.function import FunctionModel
from behaviorlab.metamodels.on_model import PartialAnswers, canonical_for, explain_model, model_task

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


def test_answers_are_asked_once_shortest_first_within_the_task_budget() -> None:
    calls: list[tuple[list[str], int, str]] = []

    class Spy(FunctionModel):
        def generate(self, prompts: Any, max_new_tokens: int, **kw: Any) -> Any:
            calls.append((list(prompts), max_new_tokens, kw["prefix"]))
            return super().generate(prompts, max_new_tokens, **kw)

    asked: list[int] = []
    few = FewShotModel(
        Spy(_lm, "fake-lm"),
        [("1", "1 0")],
        canonical_for(NATURAL),
        budget=lambda q: len(q.split()) + 1,
        on_asked=asked.append,
    )
    first = few.generate(["1 0 1", "1", "1 0 1", "1 1"], 0)
    assert [c.text for c in first] == ["1 1 0", "1 0", "1 1 0", "1 0 0"]
    assert [(c[1], len(c[0])) for c in calls] == [(2, 1), (3, 1), (4, 1)]  # by budget, each once
    assert all(c[2] == "Input: 1\nOutput: 1 0\n" and c[0][0].startswith("Input: ") for c in calls)
    assert few.generate(["1 1", "1 0 1"], 0) == first[2:4][::-1] and len(calls) == 3  # kept
    assert sum(asked) == 3


def test_every_query_is_counted_before_asking_and_ctrl_c_keeps_a_partial_result() -> None:
    plans: list[Any] = []
    done: list[int] = []
    result, facts = explain_model(
        FunctionModel(_lm, "fake-lm"),
        NATURAL,
        shots=2,
        n=20,
        queries=10,
        check=10,
        on_plan=lambda p: plans.append(replace(p)),  # the plan is updated in place: keep each state
        on_asked=done.append,
    )
    first, last = plans
    counts = first.counts  # inputs shown as demonstrations are not asked
    assert counts["n"] == facts["n"] and counts["mechanistic"] == 20
    assert 15 <= counts["queries"] <= 20 and 5 <= counts["check"] <= 10
    assert first.seconds_per_query is None and last.seconds_per_query is not None
    assert sum(done) == first.distinct == facts["model_queries"]  # the search asked nothing more
    assert first.distinct <= sum(first.counts.values())

    seen = [0]

    def flaky(prompt: str) -> str:
        seen[0] += 1
        if seen[0] > 40:
            raise KeyboardInterrupt
        return _lm(prompt)

    with pytest.raises(PartialAnswers, match="interrupted after .* model queries") as err:
        explain_model(FunctionModel(flaky, "flaky"), NATURAL, shots=2, n=40, queries=20, check=20)
    partial = err.value.to_json()
    assert partial["status"] == "interrupted" and 0 < partial["queries_asked"] < partial["queries_planned"]


def test_a_pretrained_model_reads_the_natural_order_unless_told() -> None:
    assert model_task("binary-successor").key == "binary-successor/natural"
    assert model_task("binary-successor", order="reverse").key == "binary-successor/reverse"
    assert NATURAL.answer_bound("1 1 1") == 4 and NATURAL.answer_bound("0 0") == 3
    assert tasks.get("peano-add").answer_bound("S I + I") == 4
    tree = tasks.get("tree-inorder")
    assert tree.answer_bound("inorder (Branch 'a' Leaf Leaf)") == len(tree.vocab.tokenize("['a']"))


def test_the_command_says_nothing_explains_a_model_that_fails_everything(monkeypatch: Any) -> None:
    """`behaviorlab explain --model SPEC --task T` as a person runs it, on a model that answers
    every input wrongly: the output names no selected program and says no program in the language
    explains the model. Without --queries/--check the plan asks 200 of each (the help's default for
    --model), not the 2000 a run directory gets."""
    from typer.testing import CliRunner

    from behaviorlab import lm
    from behaviorlab.cli import app
    from behaviorlab.metamodels import on_model
    from behaviorlab.metamodels.result import NOTHING_EXPLAINS

    monkeypatch.setattr(lm, "load", lambda spec: FunctionModel(lambda p: " I am not sure.", spec))
    sizes: dict[str, int] = {}
    real_check = on_model.check_model_sizes

    def recording(name: str, **kw: Any) -> None:
        sizes.update(kw)
        real_check(name, **kw)

    monkeypatch.setattr(on_model, "check_model_sizes", recording)
    args = ["explain", "--model", "gguf:babble.gguf", "--task", "binary-successor", "-n", "40"]
    got = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert got.exit_code == 0, got.output
    lines = got.stdout.splitlines()
    head = "function:gguf:babble.gguf on binary-successor/natural, 8-shot: exact match 0.0% of"
    assert lines[0].startswith(head)
    assert lines[1].startswith(f"task binary-successor/natural: {NOTHING_EXPLAINS}"), lines[:3]
    assert "selected '" not in got.stdout and "no program is selected" in got.stdout
    assert (sizes["queries"], sizes["check"], sizes["n"]) == (200, 200, 40)
    assert any(ln.startswith("asking gguf:babble.gguf: ") for ln in got.stderr.splitlines())  # the plan

    help_text = CliRunner().invoke(app, ["explain", "--help"], env={"COLUMNS": "200"}).stdout
    assert help_text.count("200 with --model") == 2  # --queries and --check say the default used here


def test_a_run_asked_as_a_model_keeps_its_threads(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """`--model run:DIR` pins torch to the run's configured threads, as `explain DIR` does; any
    other model gets one thread (measured: a second thread on a busy box mostly waits)."""
    from typer.testing import CliRunner

    import behaviorlab.cli.explain as cli_explain
    from behaviorlab.cli import app

    seen: list[Any] = []
    monkeypatch.setattr(cli_explain, "pin_threads", lambda run_dir=None, threads=1: seen.append(run_dir))
    too_many = ["--task", "binary-successor", "--n", "1000000000000"]  # refused before loading
    for spec in (f"run:{tmp_path}", str(tmp_path), "smollm2"):
        got = CliRunner().invoke(app, ["explain", "--model", spec, *too_many])
        assert got.exit_code == 2 and "of memory" in got.output, got.output
    assert seen == [tmp_path, tmp_path, None]
