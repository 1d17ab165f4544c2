"""`--budget SECONDS`: size each probe to fit a time budget. A pilot runs every probe at one item
per condition on every model (its measured cost per item), then the rest of the budget is shared
out so that each probe gets the most items per condition it can afford, never more than -n."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.lm import ModelFacts, TextModel
from behaviorlab.probes.base import MAX_ITEMS, ProbeConfig
from behaviorlab.validate import check_float

# The shortest budget accepted: below it the pilot alone would be most of the run.
MIN_BUDGET = 1.0
MAX_BUDGET = 7 * 24 * 3600.0


def check_budget(budget: float | None) -> None:
    """A finite budget of 1 s to a week (None: no budget)."""
    if budget is not None:
        check_float("--budget (seconds)", budget, MIN_BUDGET, MAX_BUDGET)


def pilot_seconds(
    models: Sequence[TextModel], facts: Sequence[ModelFacts], configs: dict[str, ProbeConfig]
) -> dict[str, float]:
    """Seconds each probe takes at one item per condition, summed over the models (the pilot's
    results are thrown away; its cost includes each probe's fixed overhead, so it errs high)."""
    from behaviorlab.probes.parts import run_part

    cost: dict[str, float] = {}
    for probe, cfg in configs.items():
        one = cfg.limited(1, cfg.seed)
        started = time.perf_counter()
        for model, known in zip(models, facts, strict=True):
            run_part(model, known, probe, one)
        cost[probe] = max(time.perf_counter() - started, 1e-6)
    return cost


def share_budget(seconds: float, cost: dict[str, float], caps: dict[str, int]) -> dict[str, int]:
    """Items per condition per probe: `seconds` shared equally among the probes, each taking
    floor(share / cost per item) items, at least 1 and at most its cap; time a capped probe leaves
    unused goes to the others (water-filling)."""
    sizes: dict[str, int] = {}
    open_ = sorted(cost)
    left = max(seconds, 0.0)
    while open_:
        share = left / len(open_)
        capped = [p for p in open_ if share / cost[p] >= caps[p]]
        if not capped:
            for p in open_:
                sizes[p] = max(1, min(caps[p], math.floor(share / cost[p])))
            break
        for p in capped:
            sizes[p] = caps[p]
            left -= caps[p] * cost[p]
            open_.remove(p)
    return sizes


def resized(configs: dict[str, ProbeConfig], sizes: dict[str, int]) -> dict[str, ProbeConfig]:
    """Each config with `sizes[probe]` items per condition, for open-text and our own models alike."""
    return {
        p: c.model_validate({**c.model_dump(), "n": sizes[p], "closed_n": sizes[p]})
        for p, c in configs.items()
    }


def budget_configs(
    budget: float,
    limit: int | None,
    models: Sequence[TextModel],
    facts: Sequence[ModelFacts],
    configs: dict[str, ProbeConfig],
) -> tuple[dict[str, ProbeConfig], dict[str, Any]]:
    """The configs sized to `budget` seconds (pilot included; never above -n `limit`) and the record
    of the choice: pilot seconds per item, items per condition per probe, predicted seconds."""
    check_budget(budget)
    started = time.perf_counter()
    cost = pilot_seconds(models, facts, configs)
    pilot = time.perf_counter() - started
    cap = MAX_ITEMS if limit is None else limit
    sizes = share_budget(budget - pilot, cost, dict.fromkeys(configs, cap))
    sized = resized(configs, sizes)
    predicted = pilot + sum(sizes[p] * cost[p] for p in configs)
    record = {
        "seconds": budget,
        "pilot_seconds": round(pilot, 3),
        "seconds_per_item": {p: round(cost[p], 4) for p in configs},
        "items_per_condition": sizes,
        "predicted_seconds": round(predicted, 1),
        "fits": predicted <= budget,
    }
    return sized, record


def recorded_sizes(config: dict[str, Any]) -> tuple[dict[str, int], dict[str, Any]]:
    """A resumed budgeted run's sizes and record, from its config.toml (no new pilot: the sizes
    must match the parts already written)."""
    record = config.get("budget")
    if not isinstance(record, dict) or not isinstance(record.get("items_per_condition"), dict):
        raise BadInput("--resume --budget needs a run that was started with --budget")
    return {str(p): int(k) for p, k in record["items_per_condition"].items()}, record


def budget_outcome(
    record: dict[str, Any], probes: dict[str, dict[str, Any]], seconds: float
) -> dict[str, Any]:
    """The record with what the run did: its seconds and each headline's half-width by probe and
    model (None when unmeasured), and which probes stay underpowered."""
    widths = {
        p: {m: (f.get("info", {}).get("power") or {}).get("half_width") for m, f in per.items()}
        for p, per in probes.items()
    }
    under = sorted(
        p
        for p, per in probes.items()
        if any(not (f.get("info", {}).get("power") or {}).get("powered", False) for f in per.values())
    )
    return {**record, "run_seconds": round(seconds, 1), "half_widths": widths, "underpowered": under}


def budget_lines(record: dict[str, Any]) -> list[str]:
    """What the budget chose, one line per probe, for the run's output."""
    head = (
        f"budget {record['seconds']:g} s: pilot {record['pilot_seconds']:.1f} s, predicted "
        f"{record['predicted_seconds']:.0f} s"
        + ("" if record.get("run_seconds") is None else f", ran {record['run_seconds']:.0f} s")
    )
    lines = [head]
    for p, k in record["items_per_condition"].items():
        widths = record.get("half_widths", {}).get(p, {})
        shown = ", ".join(
            f"{m} ±{100 * w:.0f}" if w is not None else f"{m} unmeasured" for m, w in widths.items()
        )
        flag = " (underpowered)" if p in record.get("underpowered", []) else ""
        lines.append(f"  {p}: {k} item(s) per condition; half-widths (points): {shown or '—'}{flag}")
    return lines


__all__ = [
    "budget_configs",
    "budget_lines",
    "budget_outcome",
    "check_budget",
    "recorded_sizes",
    "share_budget",
]
