"""Failure prediction across runs (seeds, learning rates, encodings): its distribution per task,
and which runs learned the same shortcut."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any


def _rate(row: dict[str, Any]) -> tuple[float | None, str]:
    """The fresh check's rate when there is one (more inputs, tighter interval), else held-out;
    None when the run made no failures to predict."""
    if row.get("fresh_failure_prediction_rate") is not None:
        return row["fresh_failure_prediction_rate"], "fresh check"
    return row.get("failure_prediction_rate"), "held-out"


def shortcut_groups(rows: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Runs joined whenever one lists the other in `same_shortcut_as` (connected groups)."""
    parent = {r["run"]: r["run"] for r in rows}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r in rows:
        for other in r["same_shortcut_as"]:
            if other in parent:
                parent[root(other)] = root(r["run"])
    groups: dict[str, list[str]] = {}
    for r in rows:
        groups.setdefault(root(r["run"]), []).append(r["run"])
    return sorted(groups.values(), key=lambda g: (-len(g), g))


def distribution(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per task: median, worst and best failure prediction over its runs (those that made
    failures: a run without any has no rate), and shortcut groups."""
    out: dict[str, dict[str, Any]] = {}
    for task in dict.fromkeys(r["task"] for r in rows):
        mine = [r for r in rows if r["task"] == task]
        every = {r["run"]: _rate(r)[0] for r in mine}
        rates = {k: v for k, v in every.items() if v is not None}
        worst = min(rates, key=lambda k: rates[k]) if rates else None
        out[task] = {
            "n_runs": len(mine),
            "n_without_failures": len(every) - len(rates),
            "measured_on": sorted({_rate(r)[1] for r in mine}),
            "median": statistics.median(rates.values()) if rates else None,
            "worst": {"run": worst, "rate": None if worst is None else rates[worst]},
            "best": max(rates.values()) if rates else None,
            "rates": every,
            "shortcut_groups": [
                {"runs": g, "program": next(r["program"] for r in mine if r["run"] == g[0])}
                for g in shortcut_groups(mine)
            ],
        }
    return out
