"""Explain a trained run: its recorded predictions as the data, its model as the black box."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.evaluate.records import read_predictions
from behaviorlab.io import atomic_write_json, atomic_write_text
from behaviorlab.lm.run import RunModel
from behaviorlab.metamodels.across import distribution
from behaviorlab.metamodels.budget import check_explain
from behaviorlab.metamodels.compare import compare
from behaviorlab.metamodels.explain import ExplainResult, ask, explain
from behaviorlab.metamodels.program import Program
from behaviorlab.metamodels.risk import RiskModel, evaluate, score_inputs
from behaviorlab.metamodels.scoring import failure_stats
from behaviorlab.metamodels.tree_program import TreeProgram
from behaviorlab.outdir import check_links
from behaviorlab.rundir import ANALYSIS, METAMODEL, METAMODEL_TEXT, PREDICTIONS
from behaviorlab.tasks import Task
from behaviorlab.tasks.dataset import DatasetSpec, SplitSpec, derive_seed
from behaviorlab.train.run import Run, open_run
from behaviorlab.validate import check_int


def _task(run: Run) -> Task:
    return run.task_for("explain")


def _test_specs(run: Run) -> list[SplitSpec]:
    data = run.config.data
    if not isinstance(data, DatasetSpec):
        raise BadInput(f"{run.path}: explain needs a run trained on a task (this one learned recorded data)")
    return [s for s in data.splits if s.name != "train" and s.n > 0]


def _draw(run: Run, spec: SplitSpec, n: int, seed: int, edge_fraction: float | None) -> list[str]:
    """n inputs drawn like one split (fresh draws: they may repeat the split's own inputs)."""
    draws = _task(run).sample(
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


def fresh_check(
    run: Run, program: Program | TreeProgram, n: int, seed: int, risk: RiskModel | None = None
) -> dict[str, Any]:
    """The program against the model on about n fresh inputs drawn like the run's test splits:
    a larger sample than the held-out half, for tighter intervals; per split and overall (and
    the calibrated failure risk on them, when given)."""
    model = RunModel(run)
    out: dict[str, Any] = {}
    every: tuple[list[str], list[str], list[str]] = ([], [], [])
    inputs: list[str] = []
    specs = _test_specs(run)
    for k, spec in enumerate(specs):
        xs = _draw(run, spec, max(1, n // len(specs)), derive_seed(seed, "fresh-check", k), None)
        parts = (ask(model, xs), program.run_many(xs), [_task(run).solve(x) for x in xs])
        out[spec.name] = check_numbers(*parts)
        inputs += xs
        for acc, part in zip(every, parts, strict=True):
            acc.extend(part)
    out["all"] = check_numbers(*every)
    if risk is not None:  # fit on the fitting set, calibrated on the held-out half: all fresh here
        F, failed, shortcut = score_inputs(risk, program, inputs, every[0], list(every[2]))
        risk.report["fresh"] = evaluate(risk, F, failed, shortcut)
        out["all"]["risk"] = risk.report["fresh"]
    return out


def check_numbers(model: list[str], prog: list[str], refs: list[str]) -> dict[str, Any]:
    """Agreement and failure prediction on one sample; a rate over zero cases is None."""
    st = failure_stats(model, prog, list(refs))
    ci = st.predicted
    return {
        "n": st.n,
        "n_failures": st.n_failures,
        "failure_prediction_rate": st.failure_prediction_rate,
        "failure_prediction_ci": None if ci.estimate is None else [ci.ci_low, ci.ci_high],
        "failure_precision": st.failure_precision,
        "n_predicted_failures": st.n_predicted,
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
    for name, value in (("queries", queries), ("check", check)):
        if value is not None:
            check_int(f"--{name}", value, 0)
    if write:
        check_links(run_dir)  # before the search, not after: it writes into analysis/
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
    task: Any = _task(run)
    # Tree outputs are long, so a tree model is asked less; elsewhere queries are cheap and the
    # vote guards need them: off-distribution slips are rare per input.
    tree = task.name.startswith("tree")
    extra = queries if queries is not None else (400 if tree else 2000)
    n_check = check if check is not None else (1000 if tree else 2000)
    # The fit asks `extra` inputs and scores candidates on as many again; then the fresh check.
    check_explain(f"explain {run_dir}", inputs=2 * extra + n_check, alpha=alpha, seed=seed)
    result = explain(
        task,
        rows[:half],
        rows[half:],
        alpha=alpha,
        seed=seed,
        model=RunModel(run),
        extra_fit=extra,
        # Queries drawn like the test splits (all their lengths, not just the recorded ones),
        # edge cases oversampled: rare inputs are where shortcuts part from the reference.
        draw=lambda n, s: draw_like_tests(run, n, s, edge_fraction=0.25),
    )
    if n_check > 0:
        result.fresh_check = fresh_check(run, result.program, n_check, seed + 1, result.risk_model)
    if write:
        analysis = run_dir / ANALYSIS
        atomic_write_json(analysis / METAMODEL, {"program_text": result.program_text, **result.to_json()})
        atomic_write_text(analysis / METAMODEL_TEXT, result.render_text())
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


def across_runs(
    run_dirs: Sequence[Path],
    *,
    alpha: float = 1.0,
    seed: int = 0,
    queries: int | None = None,
    check: int | None = None,
) -> dict[str, Any]:
    """Explain every run; one row per run and, per task, the distribution of failure prediction
    over the runs (median, worst, best) and the groups of runs that learned the same shortcut."""
    rows = compare_runs(run_dirs, alpha=alpha, seed=seed, queries=queries, check=check)
    return {"runs": rows, "distribution": distribution(rows)}
