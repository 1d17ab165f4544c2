"""Across seeds: each cell's accuracy (in and out of distribution, by length / size / depth) with
95% t intervals over seeds, its metamodels' failure prediction (median, worst, which seeds share
a shortcut) and its head findings, for the cells of any study grid."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

from behaviorlab.behaviors.estimators import mean_ci
from behaviorlab.metamodels.portable import compare_portable

UNIT = (0.0, 1.0)


def interval(values: Sequence[float]) -> dict[str, Any] | None:
    """{mean, lo, hi, n, values} of rates over seeds, or None with no values."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None
    mean, lo, hi = mean_ci(vals, UNIT)
    return {"mean": mean, "lo": lo, "hi": hi, "n": len(vals), "values": vals}


def _curves(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any] | None]]:
    """split:field -> value -> interval over seeds (only seeds that saw that value)."""
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        for split, fields in r["breakdown"].items():
            for field, by_value in fields.items():
                for value, a in by_value.items():
                    acc[f"{split}:{field}"][value].append(a)
    return {
        key: {v: interval(a) for v, a in sorted(by.items(), key=lambda kv: int(kv[0]))}
        for key, by in acc.items()
    }


def _fresh_rate(row: dict[str, Any]) -> float | None:
    """Failure prediction on the fresh check (all test-like splits), else on the held-out half."""
    meta = row["metamodel"]["json"]
    fresh = (meta.get("fresh_check") or {}).get("all")
    if fresh and fresh.get("n_failures"):
        return float(fresh["failure_prediction_rate"])
    return float(meta["failure_prediction_rate"]) if meta.get("n_failures") else None


def _metamodels(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    rates = {r["name"]: _fresh_rate(r) for r in rows}
    known = [v for v in rates.values() if v is not None]
    compared = compare_portable({r["name"]: r["metamodel"] for r in rows}) if len(rows) > 1 else []
    return {
        "failure_prediction": rates,
        "median": statistics.median(known) if known else None,
        "worst": min(known) if known else None,
        "programs": {r["name"]: r["metamodel"]["program_name"] for r in rows},
        "same_shortcut": {c["run"]: c["same_shortcut_as"] for c in compared},
    }


def _heads(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    flagged = [any(h.get("flagged") for h in (r["heads"].get("recursion_heads") or [])) for r in rows]
    drops = [r["heads"]["ablation_drop"] for r in rows if r["heads"].get("ablation_drop")]
    return {
        "seeds_with_recursion_head": sum(flagged),
        "n": len(rows),
        **_versus_random(drops),
        "top_heads": {
            r["name"]: [
                f"{h['kind']}.{h['layer']}.{h['head']} {h['hypothesis']}{' ✓' if h.get('flagged') else ''}"
                for h in (r["heads"].get("recursion_heads") or [])[:2]
            ]
            for r in rows
        },
    }


def beats_random(abl: dict[str, Any]) -> bool:
    """The found heads' ablation drop exceeds every random draw's (rank p = 1/(n+1), the smallest
    n draws allow); a mean of the draws would let a few equally harmful ones hide."""
    return bool(abl) and abl.get("n_random", 0) > 0 and abl.get("at_least") == 0


def _versus_random(drops: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Found vs random ablation drops over seeds: the found drop's interval, the random draws'
    median per seed (interval over seeds) and overall range, and how many seeds beat every draw."""
    lows = [d["random_low"] for d in drops if d.get("random_low") is not None]
    highs = [d["random_high"] for d in drops if d.get("random_high") is not None]
    return {
        "ablation_found": interval([d["found_heads"] for d in drops]),
        "ablation_random": interval([d["random_median"] for d in drops]),
        "ablation_random_range": [min(lows), max(highs)] if lows and highs else None,
        "seeds_beating_random": sum(beats_random(d) for d in drops),
        "n_ablated": len(drops),
    }


def _tree_heads(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Per seed: the top tree heads and whether ablation and patching beat random heads."""
    found = [r["heads"]["tree"] for r in rows if (r.get("heads") or {}).get("tree")]
    if not found:
        return None
    confirmed = []
    for t in found:
        abl, rec = t.get("ablation") or {}, [p["recovered"] for p in t.get("patching", [])]
        # Both checks against every random draw, not their mean (see beats_random).
        rand_top = (t.get("patching_random") or {}).get("ci_high")
        patch_ok = bool(rec) and rand_top is not None and max(rec) > rand_top
        confirmed.append(beats_random(abl) and patch_ok)
    return {
        "n": len(found),
        "seeds_confirmed": sum(confirmed),
        "top": [
            [f"{s['kind']}.{s['layer']}.{s['head']} {s['hypothesis']}" for s in t["scores"]] for t in found
        ],
        **_versus_random([t["ablation"] for t in found if t.get("ablation")]),
    }


class StudyCell(Protocol):
    """A cell of any study grid: a file-safe key and the fields its summary starts with."""

    @property
    def key(self) -> str: ...

    def fields(self) -> dict[str, Any]: ...


def summarize_cell(cell: StudyCell, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Everything the report and the claims need about one cell (analyses only where run)."""
    ok = [r for r in rows if not r.get("error")]
    out: dict[str, Any] = {
        "cell": cell.key,
        **cell.fields(),
        "seeds": len(rows),
        "failed": [r["name"] + ": " + str(r["error"]) for r in rows if r.get("error")],
    }
    if not ok:
        return out
    out.update(
        accuracy_id=interval([r["accuracy_id"] for r in ok]),
        accuracy_ood=interval([r["accuracy_ood"] for r in ok]),
        steps=[r["steps"] for r in ok],
        accuracy_train=interval([r["train_accuracy"] for r in ok if r.get("train_accuracy") is not None]),
        curves=_curves(ok),
    )
    splits = sorted({s for r in ok for s in r.get("accuracy_by_split") or {}})
    out["accuracy_by_split"] = {
        s: interval([r["accuracy_by_split"][s] for r in ok if s in r.get("accuracy_by_split", {})])
        for s in splits
    }
    if params := [r["params"] for r in ok if r.get("params")]:
        out["params"] = params[0]  # one config per cell: every seed has the same count
    if all(r.get("metamodel") for r in ok):
        out["metamodels"] = _metamodels(ok)
    if all(r.get("heads") for r in ok):
        out.update(heads=_heads(ok), tree_heads=_tree_heads(ok))
    return out
