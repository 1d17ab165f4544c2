"""An imitation run's page: the findings, content / style / algorithm tables per model, the
sweeps as figures (against data amount, base size, local vs broad) and a few outputs side by side.
Everything is read from results.json (`RunData.results`)."""

from __future__ import annotations

from typing import Any

from behaviorlab.report.canvas import Canvas, grid
from behaviorlab.report.figures import Figure, Series
from behaviorlab.report.html import cards, esc, note, table
from behaviorlab.report.rundata import RunData
from behaviorlab.results import Finding
from behaviorlab.stats import DEGENERATE_AGREEMENT, Estimate

STYLE = ("template", "list", "summary", "unigram_overlap", "length_r", "abstain_invalid", "abstain_valid")


def cell(stat: dict[str, Any] | None) -> str:
    """`61.0% [52.1, 69.2]` for a share, `0.83 [0.79, 0.86]` for a mean or correlation."""
    if not stat:
        return "—"
    e = Estimate.from_json(stat)
    if e.estimate is None or e.ci_low is None or e.ci_high is None:
        return "—"
    if e.method == "wilson":
        return f"{100 * e.estimate:.1f}% [{100 * e.ci_low:.1f}, {100 * e.ci_high:.1f}]"
    return f"{e.estimate:.2f} [{e.ci_low:.2f}, {e.ci_high:.2f}]"


def _overview(run: RunData) -> str:
    r, s = run.results, run.summary
    facts = [
        ("teacher", esc(r.get("teacher"))),
        ("family", esc(r.get("family"))),
        ("status", esc(s.get("status", "—"))),
        ("wall time", esc(f"{s['wall_seconds'] / 60:.1f} min" if s.get("wall_seconds") else "—")),
        ("local skill", esc(", ".join(r["skills"]["local"]))),
        ("broad skills", esc(", ".join(r["skills"]["broad"]))),
        ("base skills", esc(", ".join(r["skills"]["base"]))),
        ("defaults", esc(f"{r['defaults']['amount']} examples, base {r['defaults']['base']}")),
    ]
    rows = [
        {"finding": f.name, "held": {True: "yes", False: "no", None: "n/a"}[f.held], "evidence": f.verdict}
        for f in (Finding.from_json(x) for x in r.get("findings", []))
    ]
    body = cards(facts) + table(rows, limit=None)
    if s.get("error"):
        body += note(f"error: {s['error']}", "warn")
    return body


def _row_head(row: dict[str, Any]) -> dict[str, Any]:
    return {"model": row["name"], "examples": row.get("examples_n"), "tokens": row.get("tokens")}


def _content(r: dict[str, Any]) -> str:
    skills = [*r["skills"]["all"], "all"]
    rows = [{**_row_head(row), **{s: cell(row["content"].get(s)) for s in skills}} for row in r["rows"]]
    return note("Exact match of the parsed content against the reference, 95% Wilson intervals.") + table(
        rows, limit=None
    )


def _style(r: dict[str, Any]) -> str:
    rows = [{"model": row["name"], **{k: cell(row["style"].get(k)) for k in STYLE}} for row in r["rows"]]
    head = note(
        "Against the teacher's first sample on the same queries; the teacher's second sample is the upper "
        "bound. list / summary: when the teacher's output has one, share of ours that has one. template: "
        "same skeleton (content masked). abstain: share of refusals on invalid (and valid) queries."
    )
    by_skill = [
        {"model": row["name"], **{k: cell(v) for k, v in row.get("template_by_skill", {}).items()}}
        for row in r["rows"]
    ]
    return head + table(rows, limit=None) + note("Template adherence by skill:") + table(by_skill, limit=None)


def _same(a: dict[str, Any]) -> str:
    """yes / no, or n/a when no program explains the teacher or the student (fit ≈ 0%)."""
    fits = (a["teacher_program_fit"], a["student_program_fit"])
    if min(fits) <= DEGENERATE_AGREEMENT:
        return "n/a (no program explains both)"
    return "yes" if a["same_shortcut"] else "no"


def _algorithm(r: dict[str, Any]) -> str | None:
    rows = []
    for row in r["rows"]:
        a = row.get("algorithm") or {}
        if "same_shortcut" in a:
            rows.append(
                {
                    "model": row["name"],
                    "same shortcut": _same(a),
                    "program agreement": cell(a["program_agreement"]),
                    "program fit (teacher / student)": f"{a['teacher_program_fit']:.0%} / "
                    f"{a['student_program_fit']:.0%}",
                    "output agreement": cell(a["output_agreement"]),
                    "teacher failures": a["teacher_failures"],
                    "reproduced": cell(a["failures_reproduced"]),
                    "student program": a.get("student_family_match") or "(induced)",
                }
            )
    if not rows:
        return None
    teacher = r["rows"][0].get("algorithm") or {}
    match = teacher.get("teacher_family_match") or "induced"
    head = note(f"Skill {r.get('algorithm_skill')}; teacher's program: {match}.")
    program = esc(teacher.get("teacher_program", ""))
    return (
        head
        + table(rows, limit=None)
        + f"<details><summary>Teacher's program</summary><pre>{program}</pre></details>"
    )


def _value(row: dict[str, Any], what: str) -> float | None:
    if what == "content":
        return row["content"]["all"]["estimate"]
    if what == "style":
        return row["style"]["template"]["estimate"]
    return ((row.get("algorithm") or {}).get("program_agreement") or {}).get("estimate")


def _figures(r: dict[str, Any], canvas: Canvas) -> str:
    rows = {row["name"]: row for row in r["rows"]}
    teacher = r["rows"][0]
    figs = []
    labels = {
        "content": "content (all skills)",
        "style": "template adherence",
        "algorithm": "program agreement",
    }
    for what, label in labels.items():
        series = [
            Series(s, [rows[n]["amount"] for n in names], [_value(rows[n], what) for n in names])
            for s, names in r["sweeps"]["amount"].items()
        ]
        if _value(teacher, what) is not None and series:
            xs = series[0].x
            series.append(Series("teacher (2nd sample)", xs, [_value(teacher, what)] * len(xs), dashed=True))
        figs.append(
            canvas.figure(
                Figure(
                    f"amount-{what}",
                    f"{label} vs imitation data",
                    "examples",
                    label,
                    series,
                    y_range=(-0.02, 1.02),
                    wide=False,
                )
            )
        )
        names = r["sweeps"]["base"]
        base = [Series("students", [rows[n]["base"] for n in names], [_value(rows[n], what) for n in names])]
        figs.append(
            canvas.figure(
                Figure(
                    f"base-{what}",
                    f"{label} vs base",
                    "base",
                    label,
                    base,
                    categorical_x=True,
                    y_range=(-0.02, 1.02),
                    wide=False,
                )
            )
        )
    pair = [rows[n] for n in r["sweeps"]["local_vs_broad"]]
    skills = r["skills"]["all"]
    bars = [
        Series(row["name"], skills, [row["content"][s]["estimate"] for s in skills], kind="bar")
        for row in [*pair, teacher]
    ]
    figs.append(
        canvas.figure(
            Figure(
                "local-vs-broad",
                "content by skill: local vs broad (equal size)",
                "skill",
                "exact match",
                bars,
                categorical_x=True,
                y_range=(0, 1.02),
            )
        )
    )
    return grid(figs)


def _examples(r: dict[str, Any]) -> str:
    students = [row for row in r["rows"] if row["role"] == "student"]
    if not students:
        return note("No students.")
    last = students[-1]
    rows = [
        {"query": e["query"], "teacher": e["teacher"], last["name"]: e["output"]} for e in last["examples"]
    ]
    return table(rows, limit=None)


def imitation_sections(run: RunData, canvas: Canvas) -> list[tuple[str, str, str]]:
    """(anchor, title, html) of an imitation run's page."""
    r = run.results
    if not r.get("rows"):
        return [("overview", "Imitation run", note("No results.json yet (the run did not finish).", "warn"))]
    parts = [
        ("overview", "Imitation: findings", _overview(run)),
        ("content", "Content", _content(r)),
        ("style", "Style", _style(r)),
        ("algorithm", "Algorithm", _algorithm(r)),
        ("sweeps", "Sweeps", _figures(r, canvas)),
        ("examples", "Outputs side by side", _examples(r)),
    ]
    return [(a, t, b) for a, t, b in parts if b]
