"""The tree-boundary study's reading of its cells: per traversal and setting, does end to end fail
(ID < 90% in most seeds) while the 1-step reduction learns (≥ 90% in most seeds)? The phase of
every point, the region where the paper's claim holds, and the claims it tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from behaviorlab.study.boundary import CENTER, LEARNS, MODELS, depth_profile, planes
from behaviorlab.study.claims import Verdict, iv, pct, verdict

Summary = dict[str, Any]
REGION = "end to end fails, 1-step learns"  # where the paper's claim holds
PHASES = (REGION, "both learn", "both fail", "end to end learns, 1-step fails")


def learned(summary: Summary | None) -> tuple[int, int] | None:
    """(seeds at ≥ 90% ID, seeds) of a cell, or None when no seed finished."""
    acc = (summary or {}).get("accuracy_id")
    if not acc:
        return None
    return sum(v >= LEARNS for v in acc["values"]), len(acc["values"])


def phase(e2e: Summary | None, one: Summary | None) -> str | None:
    """The phase of one setting from its end-to-end and 1-step cells ("most" = more than half)."""
    a, b = learned(e2e), learned(one)
    if a is None or b is None:
        return None
    e2e_learns, one_learns = 2 * a[0] > a[1], 2 * b[0] > b[1]
    if one_learns:
        return "both learn" if e2e_learns else REGION
    return "end to end learns, 1-step fails" if e2e_learns else "both fail"


def phase_rows(cells: Sequence[Summary]) -> list[dict[str, Any]]:
    """One row per traversal and setting: both cells' accuracy with seed spread, and the phase."""
    by: dict[tuple[str, int, int, str, str], Summary] = {
        (c["traversal"], c["max_size"], c["n_train"], c["model"], c["option"]): c for c in cells
    }
    depths: dict[int, dict[str, float]] = {}
    rows = []
    order = {m: i for i, m in enumerate(MODELS)}  # small, medium, large
    for trav, size, n, model in sorted({k[:4] for k in by}, key=lambda k: (k[0], order[k[3]], k[2], k[1])):
        e2e, one = by.get((trav, size, n, model, "all")), by.get((trav, size, n, model, "1"))
        if size not in depths:
            depths[size] = depth_profile(size)
        rows.append(
            {
                "traversal": trav,
                "max_size": size,
                "n_train": n,
                "model": model,
                "params": (e2e or {}).get("params"),
                "planes": planes(size, n, model),
                "depth": depths[size],
                "end_to_end": (e2e or {}).get("accuracy_id"),
                "end_to_end_learned": learned(e2e),
                "one_step": (one or {}).get("accuracy_id"),
                # Training-monitor accuracy: near 100% with a low ID means memorised, not generalised.
                "train": {
                    "end_to_end": (e2e or {}).get("accuracy_train"),
                    "one_step": (one or {}).get("accuracy_train"),
                },
                "one_step_learned": learned(one),
                "phase": phase(e2e, one),
            }
        )
    return rows


def _setting(r: dict[str, Any]) -> str:
    return f"≤ {r['max_size']} nodes, {r['n_train']} examples, {r['model']} model"


def _where(rows: Sequence[dict[str, Any]]) -> str:
    """Settings grouped by plane and tree size, e.g. `≤ 10 nodes with 500 or 1500 examples`."""
    parts = []
    for plane, field, unit in (
        ("size × examples", "n_train", "examples"),
        ("size × model", "model", "model"),
    ):
        here = [r for r in rows if plane in r["planes"]]
        if field == "model":  # the medium model's points are already named in the other plane
            here = [r for r in here if r["model"] != CENTER[2] or "size × examples" not in r["planes"]]
        by_size: dict[int, list[str]] = {}
        for r in here:
            by_size.setdefault(r["max_size"], []).append(str(r[field]))
        fixed = f"{CENTER[2]} model" if field == "n_train" else f"{CENTER[1]} examples"
        if by_size:
            the = "the " if field == "model" else ""
            text = "; ".join(
                f"≤ {size} nodes with {the}{' or '.join(v)} {unit}" for size, v in sorted(by_size.items())
            )
            parts.append(f"{text} ({fixed})")
    return "; ".join(parts)


def boundary_sentences(rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Per traversal: where the paper's claim holds, and where each other phase lies."""
    out = {}
    for trav in sorted({r["traversal"] for r in rows}):
        mine = [r for r in rows if r["traversal"] == trav]
        region = [r for r in mine if r["phase"] == REGION]
        text = f"{REGION} at {_where(region)}." if region else f"{REGION} nowhere in the grid."
        rest = [
            f"{name} at {_where(here)}"
            for name in (*PHASES[1:], None)  # None: a setting without data
            if (here := [r for r in mine if r["phase"] == name])
        ]
        out[trav] = text + (" Elsewhere: " + "; ".join(rest) + "." if rest else "")
    return out


def _ratio(k: tuple[int, int] | None) -> str:
    return "—" if k is None else f"{k[0]}/{k[1]} seeds ≥ 90%"


def _claim_atomic(rows: Sequence[dict[str, Any]], trav: str) -> tuple[Verdict, str]:
    mine = [r for r in rows if r["traversal"] == trav and r["phase"] is not None]
    holds = [r["phase"] == REGION for r in mine]
    region = [r for r in mine if r["phase"] == REGION]
    parts = [f"holds in {len(region)} of {len(mine)} settings"] + [
        f"{_setting(r)}: 1-step {iv(r['one_step'])} ({_ratio(r['one_step_learned'])}) vs end to end "
        f"{iv(r['end_to_end'])} ({_ratio(r['end_to_end_learned'])})"
        for r in region
    ]
    others = [r for r in mine if r["phase"] != REGION]
    if others:
        worst = min(others, key=lambda r: r["end_to_end"]["mean"] if r["end_to_end"] else 1.0)
        parts.append(
            f"elsewhere ({len(others)} settings) end to end's lowest mean is "
            f"{pct(worst['end_to_end']['mean'])} at {_setting(worst)}, where 1-step has "
            f"{iv(worst['one_step'])} → {worst['phase']}"
        )
    return verdict(holds), "; ".join(parts)


def _claim_size(rows: Sequence[dict[str, Any]], trav: str) -> tuple[Verdict, str]:
    """Along each line of fixed examples and model: end to end is no better on larger trees."""
    lines: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["traversal"] == trav and r["end_to_end"]:
            lines.setdefault((r["n_train"], r["model"]), []).append(r)
    holds, parts = [], []
    for (n, model), line in sorted(lines.items()):
        line.sort(key=lambda r: r["max_size"])
        if len(line) < 2:
            continue
        # The largest trees' interval lies below the smallest trees' interval: a drop, not noise.
        holds.append(line[-1]["end_to_end"]["hi"] < line[0]["end_to_end"]["lo"])
        steps = " → ".join(f"{iv(r['end_to_end'])} (≤ {r['max_size']})" for r in line)
        parts.append(f"{n} examples, {model}: {steps}")
    return verdict(holds), "; ".join(parts)


def boundary_claims(cells: Sequence[Summary]) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """(claims table, phase rows) of the tree-boundary study."""
    rows = phase_rows(cells)
    claims = []
    for trav in sorted({r["traversal"] for r in rows}):
        v, numbers = _claim_atomic(rows, trav)
        claims.append(
            {
                "claim": f"atomic-vs-end-to-end/{trav}",
                "statement": "Atomic reduction steps are learned; end-to-end tree traversal is not "
                f"({trav}).",
                "test": "Per setting: 1-step ≥ 90% ID in most seeds while end to end is < 90% in most seeds.",
                "verdict": v,
                "numbers": numbers,
            }
        )
        v, numbers = _claim_size(rows, trav)
        claims.append(
            {
                "claim": f"larger-trees-harder/{trav}",
                "statement": f"End-to-end traversal gets harder as trees grow larger and deeper ({trav}).",
                "test": "At fixed examples and model, the largest trees' end-to-end interval lies below "
                "the smallest trees' one.",
                "verdict": v,
                "numbers": numbers,
            }
        )
    return claims, rows
