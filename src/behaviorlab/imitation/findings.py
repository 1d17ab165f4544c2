"""The expected findings, each checked against the numbers: held when the 95% interval of the
difference that the claim is about excludes zero in the claimed direction (or, for "stays near",
includes zero). None when the experiment has no data for it. Each is a `Finding` whose headline is
that difference (stats.difference: Newcombe's interval) and whose verdict is the evidence."""

from __future__ import annotations

from typing import Any

from behaviorlab.results import Finding
from behaviorlab.stats import DEGENERATE_AGREEMENT, Estimate, difference, share

Row = dict[str, Any]


def est(cell: dict[str, Any]) -> Estimate:
    """A results.json table cell as an Estimate."""
    return Estimate.from_json(cell)


def above(d: Estimate) -> bool:
    """The difference's interval lies above zero."""
    return d.ci_low is not None and d.ci_low > 0


def fmt(e: Estimate) -> str:
    """A share `61.0% [52.1%, 69.2%]` or a difference `+12.0% [+3.1%, +20.5%]`; "n/a" when undefined."""
    if e.estimate is None or e.ci_low is None or e.ci_high is None:
        return "n/a"
    if e.method == "newcombe":
        return f"{e.estimate:+.1%} [{e.ci_low:+.1%}, {e.ci_high:+.1%}]"
    return f"{e.estimate:.1%} [{e.ci_low:.1%}, {e.ci_high:.1%}]"


def _f(claim: str, held: bool | None, evidence: str, d: Estimate | None = None) -> Finding:
    label = "difference" if d is not None else "claim"
    return Finding(claim, label, d, evidence, held=held)


def _template(row: Row, skills: set[str]) -> Estimate:
    """Template adherence pooled over some skills (from the per-skill counts)."""
    cells = [est(c) for s, c in row["template_by_skill"].items() if s in skills]
    return share(sum(c.k or 0 for c in cells), sum(c.n for c in cells))


def _style(setting: str, lo: Row, hi: Row, teacher: Row, inside: set[str]) -> Finding:
    a, b = _template(lo, inside), _template(hi, inside)
    d = difference(b, a)
    uni = [est(r["style"]["unigram_overlap"]).value for r in (lo, hi, teacher)]
    skills, bound = ", ".join(sorted(inside)), fmt(_template(teacher, inside))
    ev = (
        f"{setting}, on its skills ({skills}): template adherence {fmt(a)} at {lo['amount']} "
        f"examples -> {fmt(b)} at {hi['amount']} ({fmt(d)}); teacher's 2nd sample {bound}; "
        f"on all skills {fmt(est(lo['style']['template']))} -> {fmt(est(hi['style']['template']))}; "
        f"unigram overlap (all skills) {uni[0]:.2f} -> {uni[1]:.2f} (teacher {uni[2]:.2f})"
    )
    return _f(f"style approaches the teacher's as data grows ({setting})", above(d), ev, d)


def _outside(setting: str, hi: Row, base: Row, outside: list[str]) -> Finding:
    diffs = {s: difference(est(hi["content"][s]), est(base["content"][s])) for s in outside}
    ev = "; ".join(
        f"{s}: student {fmt(est(hi['content'][s]))} vs base {fmt(est(base['content'][s]))} (diff {fmt(d)})"
        for s, d in diffs.items()
    )
    near = [
        d.ci_low is not None and d.ci_high is not None and d.ci_low <= 0 <= d.ci_high for d in diffs.values()
    ]
    claim = f"content outside the imitation data stays near the base's ({setting}, {hi['amount']} examples)"
    return _f(claim, all(near) if near else None, ev or "no skill outside the data")


def _local(skill: str, local: Row, base: Row, broad: Row | None) -> Finding:
    mine, theirs = est(local["content"][skill]), est(base["content"][skill])
    d = difference(mine, theirs)
    ev = f"{skill}: base {fmt(theirs)} -> local student {fmt(mine)} ({fmt(d)})"
    held = above(d)
    if broad is not None:
        other = est(broad["content"][skill])
        db = difference(mine, other)
        ev += f"; broad student of equal size {fmt(other)} (local - broad {fmt(db)})"
        held = held and above(db)
    return _f(
        "local imitation lifts content on its own skill (above the base and broad imitation)", held, ev, d
    )


def _base_vs_data(big: Row, more: Row) -> Finding:
    a, b = est(big["content"]["all"]), est(more["content"]["all"])
    d = difference(a, b)
    ev = (
        f"all skills: base {big['base']} with {big['amount']} examples {fmt(a)} vs "
        f"base {more['base']} with {more['amount']} examples {fmt(b)} (diff {fmt(d)})"
    )
    return _f("a larger base beats more imitation data", above(d), ev, d)


def _abstain(setting: str, hi: Row, base: Row, teacher: Row) -> Finding:
    a, b = est(hi["style"]["abstain_invalid"]), est(base["style"]["abstain_invalid"])
    t = est(teacher["style"]["abstain_invalid"])
    ev = f"{setting}, {hi['amount']} examples: student {fmt(a)} vs base {fmt(b)}; teacher {fmt(t)}"
    d = difference(a, b)
    held = above(d) if t.k else None  # a teacher that never abstains leaves nothing to inherit
    return _f(f"students inherit the teacher's abstention ({setting})", held, ev, d)


def unexplained(a: Row) -> str | None:
    """Which model no program in the language explains (its own program agrees with it on ≈ 0% of
    held-out inputs), or None: comparing two such programs says nothing about the algorithms."""
    fits = (("teacher", a["teacher_program_fit"]), ("student", a["student_program_fit"]))
    bad = [f"{who} {fit:.0%}" for who, fit in fits if fit <= DEGENERATE_AGREEMENT]
    return None if not bad else f"no program in the language explains the {' or the '.join(bad)}"


def _algorithm(setting: str, hi: Row, skill: str) -> Finding:
    a = hi["algorithm"]
    none = unexplained(a)
    same = "n/a" if none else ("yes" if a["same_shortcut"] else "no")
    ev = (
        f"{setting}, {hi['amount']} examples, {skill}: "
        + (f"{none} (held-out agreement); " if none else "")
        + f"same shortcut {same}; program agreement "
        f"{fmt(est(a['program_agreement']))} (each program explains its own model on held-out inputs: "
        f"teacher {a['teacher_program_fit']:.0%}, student {a['student_program_fit']:.0%}); "
        f"of {a['teacher_failures']} teacher failures the student reproduces "
        f"{fmt(est(a['failures_reproduced']))}"
    )
    held = None if none else bool(a["same_shortcut"])
    return _f(f"the student copies the teacher's algorithm ({setting})", held, ev)


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
        if est(hi["style"]["abstain_invalid"]).n:
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
