"""Probe statistics across items and models: whether a headline rate is powered (its 95% interval no
wider than ±10 points, else by how much it misses and how many items would do), and, per probe, the
models ranked by their headline rate with the differences whose 95% interval excludes zero."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from behaviorlab.behaviors import items_for_half_width, proportion_diff_ci

TARGET = 0.10  # the widest half-interval (±10 points) a headline rate may have and still be powered


def power(headline: dict[str, Any], target: float = TARGET) -> dict[str, Any]:
    """The headline's half-width, whether it is within ±`target`, and the items that would be."""
    n, rate = int(headline.get("n") or 0), headline.get("rate")
    if rate is None or n == 0:
        return {"half_width": None, "target": target, "powered": False, "n": n, "n_needed": None}
    half = (float(headline["hi"]) - float(headline["lo"])) / 2
    needed = items_for_half_width(float(rate), target)
    return {"half_width": half, "target": target, "powered": half <= target, "n": n, "n_needed": needed}


def power_note(p: dict[str, Any]) -> str:
    """ "" when powered; else "; underpowered: ±23 points (target ±10), about 96 items needed, has 8"."""
    if p["powered"]:
        return ""
    if p["half_width"] is None:
        return "; underpowered: no items measured"
    return (
        f"; underpowered: ±{100 * p['half_width']:.0f} points (target ±{100 * p['target']:.0f}), "
        f"about {p['n_needed']} items needed, has {p['n']}"
    )


def compare_models(probes: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Per probe: models ranked by headline rate (highest first) with intervals, and every pair's
    difference with Newcombe's 95% interval, `significant` when it excludes zero."""
    out: dict[str, Any] = {}
    for probe, per in probes.items():
        heads = {m: r.get("headline", {}) for m, r in per.items()}
        measured = [m for m, h in heads.items() if h.get("rate") is not None]
        ranking = [
            {
                "model": m,
                "label": heads[m].get("label"),
                **{k: heads[m].get(k) for k in ("rate", "lo", "hi", "k", "n")},
            }
            for m in sorted(measured, key=lambda m: -float(heads[m]["rate"]))
        ]
        pairs = []
        for a, b in combinations([r["model"] for r in ranking], 2):
            ha, hb = heads[a], heads[b]
            lo, hi = proportion_diff_ci(int(ha["k"]), int(ha["n"]), int(hb["k"]), int(hb["n"]))
            diff = float(ha["rate"]) - float(hb["rate"])
            pairs.append({"a": a, "b": b, "diff": diff, "lo": lo, "hi": hi, "significant": lo > 0 or hi < 0})
        # Headlines with different labels measure different things (e.g. open vs closed prompts).
        labels = {str(heads[m].get("label")) for m in measured}
        out[probe] = {"ranking": ranking, "pairs": pairs, "same_measure": len(labels) <= 1}
    return out


def difference_line(probe: str, pair: dict[str, Any]) -> str:
    """ "icl: A − B = +25 points [+12, +37]: significant" for a summary."""
    verdict = "significant" if pair["significant"] else "not significant"
    return (
        f"{probe}: {pair['a']} − {pair['b']} = {100 * pair['diff']:+.0f} points "
        f"[{100 * pair['lo']:+.0f}, {100 * pair['hi']:+.0f}]: {verdict}"
    )
