"""Side-by-side comparison of explained runs, and whether two runs learned the same shortcut."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from behaviorlab.metamodels.explain import ExplainResult
from behaviorlab.metamodels.program import Program
from behaviorlab.metamodels.text import normal_form
from behaviorlab.metamodels.tree_program import TreeProgram

SAME_SHORTCUT_AGREEMENT = 0.99


def same_shortcut(a: Program | TreeProgram, b: Program | TreeProgram, inputs: list[str]) -> bool:
    """The shortcuts under any exceptions are equal after normalisation, or agree on ≥ 99% of a
    shared input sample (exceptions model slips, which differ from run to run)."""
    a, b = a.shortcut(), b.shortcut()
    if normal_form(a) == normal_form(b):
        return True
    if not inputs:
        return False
    agree = sum(x == y for x, y in zip(a.run_many(inputs), b.run_many(inputs), strict=True))
    return agree / len(inputs) >= SAME_SHORTCUT_AGREEMENT


def _fresh(r: ExplainResult) -> dict[str, Any]:
    """The fresh check's headline numbers over all its inputs (None when it was skipped)."""
    c = (r.fresh_check or {}).get("all")
    keys = ("failure_prediction_rate", "failure_precision", "n_failures")
    return {f"fresh_{k}": None if c is None else c[k] for k in keys}


def compare(results: Mapping[str, ExplainResult]) -> list[dict[str, Any]]:
    """One row per run; `same_shortcut_as` lists the other runs whose program is the same."""
    names = list(results)
    shared: dict[str, list[str]] = {}
    for r in results.values():  # shared sample: every run's held-out inputs, per task
        shared.setdefault(r.task_key, []).extend(r.heldout_inputs)
    rows = []
    for name in names:
        r = results[name]
        same = [
            other
            for other in names
            if other != name
            and results[other].task_key == r.task_key
            and same_shortcut(r.program, results[other].program, sorted(set(shared[r.task_key])))
        ]
        rows.append(
            {
                "run": name,
                "task": r.task_key,
                "program": r.program_name,
                "rules": len(r.program.rules),
                "exceptions": r.program.exceptions,
                "metamodel_size": r.metamodel_size,
                "metamodel_agreement": r.metamodel_agreement,
                "failure_prediction_rate": r.failure_prediction_rate,
                "failure_precision": r.failure_precision,
                "n_failures": r.n_failures,
                **_fresh(r),
                "same_shortcut_as": same,
            }
        )
    return rows
