"""Explain a trained run: its recorded predictions as the data, its model as the black box."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from behaviorlab import tasks
from behaviorlab.behaviors.estimators import proportion_ci
from behaviorlab.errors import BadInput
from behaviorlab.evaluate.predict import generate_strings
from behaviorlab.evaluate.records import read_predictions
from behaviorlab.io import atomic_write_json, atomic_write_text
from behaviorlab.lm.base import TextModel
from behaviorlab.lm.function import BatchFunctionModel
from behaviorlab.metamodels.compare import compare, same_shortcut
from behaviorlab.metamodels.explain import ExplainResult, explain
from behaviorlab.metamodels.program import Program
from behaviorlab.metamodels.scoring import failure_stats
from behaviorlab.metamodels.text import from_json, to_json
from behaviorlab.tasks.dataset import SplitSpec, derive_seed
from behaviorlab.train.rundir import PREDICTIONS, Run, open_run


def black_box(run: Run, margin: int = 4, chunk: int = 512) -> Callable[[list[str]], list[str]]:
    """The run's model as strings in, greedy strings out (gibberish inputs allowed)."""
    vocab = run.task.vocab

    def predict(inputs: list[str]) -> list[str]:
        out: list[str] = []
        for j in range(0, len(inputs), chunk):  # bounded memory for thousands of queries
            part = inputs[j : j + chunk]
            longest = max(len(vocab.tokenize(x)) for x in part)
            gens = generate_strings(run.model, run.task, part, 2 * longest + margin)
            out += [vocab.detokenize([t for t in toks if not t.startswith("<")]) for toks, _ in gens]
        return out

    return predict


def run_model(run: Run) -> TextModel:
    """`black_box` as a TextModel: it sizes each chunk's budget itself, within the one asked for."""
    vocab = run.task.vocab
    return BatchFunctionModel(
        black_box(run),
        f"run:{run.path.name}",
        alphabet=run.task.grammar_tokens(),
        tokenize=vocab.tokenize,
        detokenize=vocab.detokenize,
    )


def _test_specs(run: Run) -> list[SplitSpec]:
    return [s for s in run.config.data.splits if s.name != "train" and s.n > 0]


def _draw(run: Run, spec: SplitSpec, n: int, seed: int, edge_fraction: float | None) -> list[str]:
    """n inputs drawn like one split (fresh draws: they may repeat the split's own inputs)."""
    draws = run.task.sample(
        n,
        seed,
        min_size=spec.min_size,
        max_size=spec.max_size,
        min_depth=spec.min_depth,
        max_depth=spec.max_depth,
        edge_fraction=spec.edge_fraction if edge_fraction is None else edge_fraction,
        repeat_letters=spec.repeat_letters,
        shape=spec.shape,
    )
    return [e.input for e in draws]


def draw_like_tests(run: Run, n: int, seed: int, edge_fraction: float | None = None) -> list[str]:
    """About n inputs drawn like the run's test splits (n/k from each, shuffled together); with
    `edge_fraction`, edge cases are oversampled at that rate instead of each split's own."""
    specs = _test_specs(run)
    xs: list[str] = []
    for k, spec in enumerate(specs):
        xs += _draw(run, spec, max(1, n // len(specs)), derive_seed(seed, "like-tests", k), edge_fraction)
    random.Random(seed).shuffle(xs)
    return xs


def fresh_check(run: Run, program: Program, n: int, seed: int) -> dict[str, Any]:
    """The program against the model on about n fresh inputs drawn like the run's test splits:
    a larger sample than the held-out half, for tighter intervals; per split and overall."""
    predict = black_box(run)
    out: dict[str, Any] = {}
    every: tuple[list[str], list[str], list[str]] = ([], [], [])
    specs = _test_specs(run)
    for k, spec in enumerate(specs):
        xs = _draw(run, spec, max(1, n // len(specs)), derive_seed(seed, "fresh-check", k), None)
        parts = (predict(xs), program.run_many(xs), [run.task.solve(x) for x in xs])
        out[spec.name] = _check_numbers(*parts)
        for acc, part in zip(every, parts, strict=True):
            acc.extend(part)
    out["all"] = _check_numbers(*every)
    return out


def _check_numbers(model: list[str], prog: list[str], refs: list[str]) -> dict[str, Any]:
    st = failure_stats(model, prog, list(refs))
    return {
        "n": st.n,
        "n_failures": st.n_failures,
        "failure_prediction_rate": st.failure_prediction_rate,
        "failure_prediction_ci": list(proportion_ci(st.n_predicted_correctly, st.n_failures)),
        "failure_precision": st.failure_precision,
        "metamodel_agreement": st.agreement,
    }


def explain_run(
    run_dir: Path,
    *,
    alpha: float = 1.0,
    seed: int = 0,
    write: bool = True,
    queries: int | None = None,
    check: int | None = None,
) -> ExplainResult:
    """Fit the metamodel on half of the recorded test predictions (ID and OOD) plus `queries`
    fresh inputs put to the model, and score it on the other half and on `check` fresh inputs
    drawn like the test splits."""
    pred_path = run_dir / PREDICTIONS
    if not pred_path.is_file():
        raise BadInput(f"{run_dir}: no {PREDICTIONS}; run `behaviorlab eval {run_dir}` first")
    run = open_run(run_dir)
    rows = [(r["input"], r["prediction"]) for r in read_predictions(pred_path)]
    if len(rows) < 4:
        raise BadInput(f"{pred_path}: too few predictions to fit and hold out ({len(rows)})")
    # Both halves span ID and OOD lengths, so the program sees where the model breaks.
    random.Random(seed).shuffle(rows)
    half = len(rows) // 2
    # Task.sample spells its ranges as keywords; explain's protocol takes **ranges: same calls.
    task: Any = run.task
    # Tree outputs are long and the rule language cannot express their rewrites (see notes), so
    # the induction budget there is small: more examples cost minutes and buy nothing. Elsewhere
    # queries are cheap and the vote guards need them: off-distribution slips are rare per input.
    tree = run.task.name.startswith("tree")
    extra = queries if queries is not None else (20 if tree else 2000)
    result = explain(
        task,
        rows[:half],
        rows[half:],
        alpha=alpha,
        seed=seed,
        model=run_model(run),
        extra_fit=extra,
        # Queries drawn like the test splits (all their lengths, not just the recorded ones),
        # edge cases oversampled: rare inputs are where shortcuts part from the reference.
        draw=lambda n, s: draw_like_tests(run, n, s, edge_fraction=0.25),
        max_induce_examples=60 if tree else 400,
    )
    n_check = check if check is not None else (200 if tree else 2000)
    if n_check > 0:
        result.fresh_check = fresh_check(run, result.program, n_check, seed + 1)
    if write:
        analysis = run_dir / "analysis"
        atomic_write_json(
            analysis / "metamodel.json", {"program_text": result.program_text, **result.to_json()}
        )
        atomic_write_text(analysis / "metamodel.txt", result.render_text())
    return result


def compare_runs(
    run_dirs: Sequence[Path],
    *,
    alpha: float = 1.0,
    seed: int = 0,
    queries: int | None = None,
    check: int | None = None,
) -> list[dict[str, Any]]:
    """Explain each run (writing its analysis/), then side by side: which runs of the same task
    learned the same shortcut (learning rates, optimizers, seeds, architectures)."""
    if len(set(run_dirs)) < 2:
        raise BadInput("comparing runs needs at least two different run directories")
    results = {str(d): explain_run(d, alpha=alpha, seed=seed, queries=queries, check=check) for d in run_dirs}
    return compare(results)


SUMMARY_KEYS = (
    "failure_prediction_rate",
    "failure_prediction_ci",
    "failure_precision",
    "metamodel_agreement",
    "metamodel_size",
    "mutual_information_bits",
)


def portable(result: ExplainResult, task_name: str, options: dict[str, Any]) -> dict[str, Any]:
    """What another process needs to compare this result: numbers, program JSON, held-out inputs."""
    return {
        "task_name": task_name,
        "options": options,
        "task_key": result.task_key,
        "json": result.to_json(),
        "program": to_json(result.program),
        "program_name": result.family_match or result.program.label,
        "heldout_inputs": result.heldout_inputs,
    }


def compare_portable(saved: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Side by side: which runs learned the same shortcut (same program or ≥ 99% agreement)."""
    programs = {}
    for name, s in saved.items():
        program = from_json(s["program"])
        if program.uses_reference():  # the opaque `reference` action runs the task's own solver
            program = program.bind(tasks.get(s["task_name"], **s["options"]).solve)
        programs[name] = program
    rows = []
    for name, s in saved.items():
        shared = sorted(
            {x for o in saved.values() if o["task_key"] == s["task_key"] for x in o["heldout_inputs"]}
        )
        same = [
            other
            for other, o in saved.items()
            if other != name
            and o["task_key"] == s["task_key"]
            and same_shortcut(programs[name], programs[other], shared)
        ]
        row = {"run": name, "task": s["task_key"], "program": s["program_name"]}
        row.update({k: s["json"][k] for k in SUMMARY_KEYS})
        rows.append({**row, "same_shortcut_as": same})
    return rows
