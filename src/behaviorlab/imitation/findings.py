"""The expected findings, each checked against the numbers: held when the 95% interval of the
difference that the claim is about excludes zero in the claimed direction (or, for "stays near",
includes zero). None when the experiment has no data for it."""

from __future__ import annotations

import math
from typing import Any

from behaviorlab.imitation.metrics import share

Row = dict[str, Any]
Finding = dict[str, Any]


def diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """a − b for two shares, with Newcombe's hybrid-score 95% interval (from their Wilson intervals)."""
    if a.get("rate") is None or b.get("rate") is None:
        return {"diff": None, "ci": [None, None]}
    p1, (l1, u1), p2, (l2, u2) = a["rate"], a["ci"], b["rate"], b["ci"]
    d = p1 - p2
    return {"diff": d, "ci": [d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)]}


def above(d: dict[str, Any]) -> bool:
    """The difference's interval lies above zero."""
    return d["ci"][0] is not None and d["ci"][0] > 0


def fmt(s: dict[str, Any]) -> str:
    """A share `61.0% [52.1%, 69.2%]` or a difference `+12.0% [+3.1%, +20.5%]`."""
    v = s.get("rate", s.get("diff"))
    if v is None:
        return "n/a"
    lo, hi = s["ci"]
    return f"{v:.1%} [{lo:.1%}, {hi:.1%}]" if "rate" in s else f"{v:+.1%} [{lo:+.1%}, {hi:+.1%}]"


def _f(claim: str, held: bool | None, evidence: str) -> Finding:
    return {"claim": claim, "held": held, "evidence": evidence}


def _template(row: Row, skills: set[str]) -> dict[str, Any]:
    """Template adherence pooled over some skills (from the per-skill counts)."""
    cells = [c for s, c in row["template_by_skill"].items() if s in skills]
    k, n = sum(c["k"] for c in cells), sum(c["n"] for c in cells)
    return share([True] * k + [False] * (n - k))


def _style(setting: str, lo: Row, hi: Row, teacher: Row, inside: set[str]) -> Finding:
    a, b = _template(lo, inside), _template(hi, inside)
    d = diff(b, a)
    uni = [r["style"]["unigram_overlap"]["mean"] for r in (lo, hi, teacher)]
    skills, bound = ", ".join(sorted(inside)), fmt(_template(teacher, inside))
    ev = (
        f"{setting}, on its skills ({skills}): template adherence {fmt(a)} at {lo['amount']} "
        f"examples -> {fmt(b)} at {hi['amount']} ({fmt(d)}); teacher's 2nd sample {bound}; "
        f"on all skills {fmt(lo['style']['template'])} -> {fmt(hi['style']['template'])}; unigram overlap "
        f"(all skills) {uni[0]:.2f} -> {uni[1]:.2f} (teacher {uni[2]:.2f})"
    )
    return _f(f"style approaches the teacher's as data grows ({setting})", above(d), ev)


def _outside(setting: str, hi: Row, base: Row, outside: list[str]) -> Finding:
    diffs = {s: diff(hi["content"][s], base["content"][s]) for s in outside}
    ev = "; ".join(
        f"{s}: student {fmt(hi['content'][s])} vs base {fmt(base['content'][s])} (diff {fmt(d)})"
        for s, d in diffs.items()
    )
    near = [d["ci"][0] is not None and d["ci"][0] <= 0 <= d["ci"][1] for d in diffs.values()]
    claim = f"content outside the imitation data stays near the base's ({setting}, {hi['amount']} examples)"
    return _f(claim, all(near) if near else None, ev or "no skill outside the data")


def _local(skill: str, local: Row, base: Row, broad: Row | None) -> Finding:
    d = diff(local["content"][skill], base["content"][skill])
    ev = f"{skill}: base {fmt(base['content'][skill])} -> local student {fmt(local['content'][skill])}"
    ev += f" ({fmt(d)})"
    held = above(d)
    if broad is not None:
        db = diff(local["content"][skill], broad["content"][skill])
        ev += f"; broad student of equal size {fmt(broad['content'][skill])} (local - broad {fmt(db)})"
        held = held and above(db)
    return _f("local imitation lifts content on its own skill (above the base and broad imitation)", held, ev)


def _base_vs_data(big: Row, more: Row) -> Finding:
    d = diff(big["content"]["all"], more["content"]["all"])
    ev = (
        f"all skills: base {big['base']} with {big['amount']} examples {fmt(big['content']['all'])} vs "
        f"base {more['base']} with {more['amount']} examples {fmt(more['content']['all'])} (diff {fmt(d)})"
    )
    return _f("a larger base beats more imitation data", above(d), ev)


def _abstain(setting: str, hi: Row, base: Row, teacher: Row) -> Finding:
    a, b = hi["style"]["abstain_invalid"], base["style"]["abstain_invalid"]
    t = teacher["style"]["abstain_invalid"]
    ev = f"{setting}, {hi['amount']} examples: student {fmt(a)} vs base {fmt(b)}; teacher {fmt(t)}"
    held = above(diff(a, b)) if t["k"] else None  # a teacher that never abstains leaves nothing to inherit
    return _f(f"students inherit the teacher's abstention ({setting})", held, ev)


def _algorithm(setting: str, hi: Row, skill: str) -> Finding:
    a = hi["algorithm"]
    ev = (
        f"{setting}, {hi['amount']} examples, {skill}: same shortcut {a['same_shortcut']}; program agreement "
        f"{fmt(a['program_agreement'])} (each program explains its own model on held-out inputs: teacher "
        f"{a['teacher_program_fit']:.0%}, student {a['student_program_fit']:.0%}); "
        f"of {a['teacher_failures']} teacher failures the student reproduces "
        f"{fmt(a['failures_reproduced'])}"
    )
    return _f(f"the student copies the teacher's algorithm ({setting})", bool(a["same_shortcut"]), ev)


def findings(results: dict[str, Any]) -> list[Finding]:
    """Style convergence, content outside the data, the local lift, base vs data, abstention, algorithm."""
    rows = {r["name"]: r for r in results["rows"]}
    teacher = results["rows"][0]
    base_of = {r["base"]: r for r in results["rows"] if r["role"] == "base"}
    sk, sweeps, out = results["skills"], results["sweeps"], []
    for setting, names in sweeps["amount"].items():
        lo, hi = rows[names[0]], rows[names[-1]]
        inside = set(sk["local"] if setting == "local" else sk["broad"])
        if len(names) > 1:
            out.append(_style(setting, lo, hi, teacher, inside))
        outside = [s for s in sk["all"] if s not in inside and s in hi["content"]]
        out.append(_outside(setting, hi, base_of[hi["base"]], outside))
        if hi["style"]["abstain_invalid"]["n"]:
            out.append(_abstain(setting, hi, base_of[hi["base"]], teacher))
        if hi.get("algorithm"):
            out.append(_algorithm(setting, hi, results["algorithm_skill"]))
    pair = {rows[n]["setting"]: rows[n] for n in sweeps["local_vs_broad"]}
    if "local" in pair:
        local = pair["local"]
        out.append(_local(sk["local"][0], local, base_of[local["base"]], pair.get("broad")))
    first = next(iter(sweeps["amount"].values()))
    if len(sweeps["base"]) > 1 and len(first) > 1 and sweeps["base"][-1] != first[-1]:
        out.append(_base_vs_data(rows[sweeps["base"][-1]], rows[first[-1]]))
    return out
