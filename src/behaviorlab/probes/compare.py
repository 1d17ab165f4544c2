"""Probe statistics across items and models: whether a headline rate is powered (its 95% interval no
wider than ±10 points, else by how much it misses and how many items would do), and, per probe, the
models ranked by their headline rate with the differences whose 95% interval excludes zero."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from behaviorlab.stats import Estimate, difference, items_for_half_width

TARGET = 0.10  # the widest half-interval (±10 points) a headline rate may have and still be powered


def power(head: Estimate | None, target: float = TARGET) -> dict[str, Any]:
    """The headline's half-width, whether it is within ±`target`, and the items that would be."""
    if head is None or head.estimate is None or head.ci_low is None or head.ci_high is None:
        n = 0 if head is None else head.n
        return {"half_width": None, "target": target, "powered": False, "n": n, "n_needed": None}
    half = (head.ci_high - head.ci_low) / 2
    needed = items_for_half_width(head.estimate, target)
    return {"half_width": half, "target": target, "powered": half <= target, "n": head.n, "n_needed": needed}


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


def _head(finding: dict[str, Any]) -> Estimate | None:
    head = finding.get("headline")
    return None if head is None else Estimate.from_json(head)


def compare_models(probes: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Per probe (findings by model label, as results.json holds them): models ranked by headline
    rate (highest first) with intervals, and every pair's difference with Newcombe's 95% interval,
    `significant` when it excludes zero; None when the two headlines measure different things."""
    out: dict[str, Any] = {}
    for probe, per in probes.items():
        heads = {m: _head(f) for m, f in per.items()}
        measured = {m: h for m, h in heads.items() if h is not None and h.estimate is not None}
        order = sorted(measured, key=lambda m: -measured[m].value)
        ranking = [{"model": m, "label": per[m].get("label"), **measured[m].to_json()} for m in order]
        pairs = []
        for a, b in combinations(order, 2):
            d = difference(measured[a], measured[b])
            significant: bool | None = (
                d.ci_low is not None and d.ci_high is not None and (d.ci_low > 0 or d.ci_high < 0)
            )
            # Headlines with different labels measure different things (e.g. open vs closed
            # prompts): their difference is shown, never called significant or not.
            comparable = per[a].get("label") == per[b].get("label")
            pairs.append(
                {
                    "a": a,
                    "b": b,
                    **d.to_json(),
                    "comparable": comparable,
                    "significant": significant if comparable else None,
                }
            )
        labels = {str(per[m].get("label")) for m in measured}
        out[probe] = {"ranking": ranking, "pairs": pairs, "same_measure": len(labels) <= 1}
    return out


def difference_line(probe: str, pair: dict[str, Any]) -> str:
    """ "icl: A − B = +25 points [+12, +37]: significant" for a summary."""
    if pair.get("significant") is None:
        verdict = "not comparable (the headlines measure different things)"
    else:
        verdict = "significant" if pair["significant"] else "not significant"
    return (
        f"{probe}: {pair['a']} − {pair['b']} = {100 * pair['estimate']:+.0f} points "
        f"[{100 * pair['ci_low']:+.0f}, {100 * pair['ci_high']:+.0f}]: {verdict}"
    )
