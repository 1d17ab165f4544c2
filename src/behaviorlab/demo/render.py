"""The demo summary as a Rich table and as Markdown."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from behaviorlab.results import headline_number
from behaviorlab.stats import NO_CASES, Estimate, percent, rate_text

LOG_WIDTH = 240  # a table never needs more; Rich keeps it as narrow as its cells allow
COLUMNS = ("model", "steps", "exact match ID", "OOD", "failures predicted", "metamodel", "top heads")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _rate_ci(m: dict[str, Any]) -> str:
    """Failure-prediction rate with its 95% interval, e.g. `98.7% (95.5-99.7)`; "n/a (no failures)"
    when the model made none (a rate over zero cases is not 100%)."""
    ci = m.get("failure_prediction_ci")
    if m.get("failure_prediction_rate") is None:
        return NO_FAILURES
    rate = _pct(m.get("failure_prediction_rate"))
    return rate if not ci else f"{rate} ({100 * ci[0]:.1f}-{100 * ci[1]:.1f})"


NO_FAILURES = "n/a (no failures)"


def _precision(c: dict[str, Any]) -> str:
    """Precision with how many failures the program predicted ("n/a" when it predicted none)."""
    p = rate_text(c.get("failure_precision"), "n/a (none predicted)")
    n = c.get("n_predicted_failures")
    return p if n is None or c.get("failure_precision") is None else f"{p} of {n}"


def ablation_line(key: str, abl: dict[str, Any]) -> str:
    """Found heads' accuracy drop against every random draw: median, range, how many reach it."""
    n = abl.get("n_random", 0)
    if abl.get("random_median") is None:  # an older summary: only the mean was recorded
        return f"{key}: ablating the found heads drops accuracy by {_pct(abl['found_heads'])}."
    p = abl.get("p_value")
    return (
        f"{key}: ablating the found heads drops accuracy by {_pct(abl['found_heads'])}; random heads of "
        f"the same count: median {_pct(abl['random_median'])}, range {_pct(abl['random_low'])}–"
        f"{_pct(abl['random_high'])} over {n} draws, {abl.get('at_least')} of {n} as harmful or more "
        f"(rank p = {p:.2g})."
    )


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


def print_table(console: Console, summary: dict[str, Any]) -> None:
    """The headline table on the console; a log file (not a terminal, where Rich assumes 80
    columns and cuts names to "binary-su…") gets the width the cells need."""
    if not console.is_terminal:  # the same kind of console (it may escape user text), only wider
        console = type(console)(
            file=console.file, width=LOG_WIDTH, markup=False, highlight=False, color_system=None
        )
    console.print(render_table(summary))


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
            lines.append("\n" + ablation_line(key, abl))
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
                    f"{_rate_ci(c)} | {_precision(c)} |"
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
                f"{rate_text(r['failure_prediction_rate'], NO_FAILURES)} | {same} |"
            )
    lines += _probe_lines(summary.get("probes"))
    lines += _whitebox_lines(summary.get("whitebox"))
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
    if probes.get("differences"):
        lines += ["", "Differences between models on the same headline (95% Newcombe intervals):", ""]
        lines += [f"- {d}" for d in probes["differences"]]
    if probes.get("note"):
        lines += ["", probes["note"]]
    return lines


def _ci(r: dict[str, Any] | None) -> str:
    """A share stored as `Estimate.to_json()`: `25% [7%–59%] (2/8)`, or n/a when nothing was measured."""
    if not r or r.get("estimate") is None:
        return NO_CASES
    return f"{percent(Estimate.from_json(r))} ({r.get('k')}/{r['n']})"


def _whitebox_lines(wb: dict[str, Any] | None) -> list[str]:
    if not wb:
        return []
    lines = ["", "## White box: SmolLM2's induction heads, from outside", ""]
    if not wb.get("rows"):
        return [*lines, str(wb.get("note", ""))]
    heads = ", ".join(f"{h['head']} ({h['score']:.2f})" for h in wb["heads"])
    lines += [
        f"Top induction heads (score on repeated random tokens): {heads}; each set of heads zero-ablated "
        f"together ({wb['seconds']} s; the copying probe run: `{wb['report']}`). 95% intervals.",
        "",
        "| heads ablated | copying (span >= 4 tokens) | few-shot copy accuracy | log-prob / token, repeat |",
        "|---|---|---|---|",
    ]
    for r in wb["rows"]:
        label = r["variant"] + (f": {', '.join(r['heads'])}" if r["heads"] else "")
        lines.append(
            f"| {label} | {_ci(r.get('copying'))} | {_ci(r.get('fewshot'))} | {r['repeat_logprob']:.2f} |"
        )
    return lines
