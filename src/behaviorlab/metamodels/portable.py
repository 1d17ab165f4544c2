"""Explained runs across processes: what a worker sends back about its run (numbers, program
JSON, held-out inputs), and the side-by-side comparison of shortcuts made from those records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from behaviorlab import tasks
from behaviorlab.metamodels.compare import same_shortcut
from behaviorlab.metamodels.explain import ExplainResult
from behaviorlab.metamodels.text import from_json, to_json

SUMMARY_KEYS = (
    "explains",
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
        "program_name": result.program_name,
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
