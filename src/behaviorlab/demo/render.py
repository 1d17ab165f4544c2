"""The demo summary as a Rich table and as Markdown."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from behaviorlab.results import headline_number

COLUMNS = ("model", "steps", "exact match ID", "OOD", "failures predicted", "metamodel", "top heads")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _rate_ci(m: dict[str, Any]) -> str:
    """Failure-prediction rate with its 95% interval, e.g. `98.7% (95.5-99.7)`."""
    ci = m.get("failure_prediction_ci")
    rate = _pct(m.get("failure_prediction_rate"))
    return rate if not ci else f"{rate} ({100 * ci[0]:.1f}-{100 * ci[1]:.1f})"


def _row(key: str, m: dict[str, Any]) -> list[str]:
    # Top candidate heads; a check mark means the head passed the recursion-head test.
    heads = ", ".join(
        f"{h['kind']}.{h['layer']}.{h['head']}{' ✓' if h.get('flagged') else ''}"
        for h in (m.get("recursion_heads") or [])[:2]
    )
    return [
        key,
        str(m.get("steps")),
        _pct(m.get("accuracy_id")),
        _pct(m.get("accuracy_ood")),
        _rate_ci(m),
        str(m.get("metamodel_program", "—")),
        heads or "—",
    ]


def render_table(summary: dict[str, Any]) -> Table:
    """Headline numbers per model."""
    t = Table(title=f"behaviorlab demo ({summary['seconds']} s, optimizer {summary['optimizer']})")
    for col in COLUMNS:
        t.add_column(col)
    for key, m in summary["models"].items():
        t.add_row(*_row(key, m))
    return t


def render_markdown(summary: dict[str, Any]) -> str:
    """A readable top-level summary beside summary.json."""
    mode = "quick" if summary["quick"] else "full"
    lines = [
        "# behaviorlab demo",
        "",
        f"Optimizer {summary['optimizer']}, {mode} run, {summary['seconds']} s.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(_row(k, m)) + " |" for k, m in summary["models"].items()]
    for key, m in summary["models"].items():
        abl = m.get("ablation_drop")
        if abl:
            lines.append(
                f"\n{key}: ablating the found heads drops accuracy by {_pct(abl['found_heads'])}; "
                f"random heads of the same count by {_pct(abl['random_heads'])} (mean of {abl['n_random']})."
            )
    checks = [(k, m["fresh_check"]) for k, m in summary["models"].items() if m.get("fresh_check")]
    if checks:
        lines += [
            "",
            "## Metamodels on fresh inputs drawn like each test split",
            "",
            "| model | split | n | agreement | model failures | predicted (95% interval) | precision |",
            "|---|---|---|---|---|---|---|",
        ]
        for key, check in checks:
            for split, c in check.items():
                lines.append(
                    f"| {key} | {split} | {c['n']} | {_pct(c['metamodel_agreement'])} | {c['n_failures']} | "
                    f"{_rate_ci(c)} | {_pct(c['failure_precision'])} |"
                )
    comp = summary.get("lr_comparison")
    if comp:
        lines += [
            "",
            "## Learning rate vs learned shortcut",
            "",
            "| run | program | agreement | failures predicted | same shortcut as |",
            "|---|---|---|---|---|",
        ]
        for r in comp["metamodels"]:
            same = ", ".join(r["same_shortcut_as"]) or "—"
            lines.append(
                f"| {r['run']} | {r['program']} | {_pct(r['metamodel_agreement'])} | "
                f"{_pct(r['failure_prediction_rate'])} | {same} |"
            )
    lines += _probe_lines(summary.get("probes"))
    return "\n".join(lines) + "\n"


def probe_cell(cell: dict[str, Any]) -> str:
    """`label: 40% [20–60%] — verdict` for one probe × model."""
    return f"{cell.get('label', '')}: {headline_number(cell.get('headline'))} — {cell.get('verdict', '')}"


def _probe_lines(probes: dict[str, Any] | None) -> list[str]:
    if not probes:
        return []
    names = probes["models"]
    lines = [
        "",
        "## Black-box probes across architectures",
        "",
        f"The same probes on each model ({probes.get('seconds', '?')} s; full tables and figures: "
        f"`{probes['report']}`). 95% intervals.",
        "",
        "| probe | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for probe, per in probes["rows"].items():
        lines.append(f"| {probe} | " + " | ".join(probe_cell(per[n]).replace("|", "/") for n in names) + " |")
    if any(probes.get("mapping", {}).values()):
        cells = [str(probes["mapping"].get(n) or "—") for n in names]
        lines.append("| data vs outputs | " + " | ".join(cells) + " |")
    if probes.get("note"):
        lines += ["", probes["note"]]
    return lines
