"""The comparison page of a demo or sweep: a table of runs, accuracy ID/OOD across runs, shared
training curves, then each run's own sections folded into a <details>."""

from __future__ import annotations

from typing import Any

from behaviorlab.report.canvas import Canvas, grid
from behaviorlab.report.figures import Figure, Series, slug
from behaviorlab.report.html import cards, esc, fmt, note, pct, section, table
from behaviorlab.report.run_sections import headline, render_sections, run_sections
from behaviorlab.report.rundata import Collection, RunData
from behaviorlab.results import headline_number

_INFO_SKIP = {"runs", "models"}


def _accuracies(row: dict[str, Any], run: RunData | None) -> tuple[float | None, float | None]:
    """The collection's recorded numbers, else the run's own."""
    if "accuracy_id" in row or "accuracy_ood" in row:
        return row.get("accuracy_id"), row.get("accuracy_ood")
    return headline(run) if run is not None else (None, None)


def _overrides(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _anchor(label: str) -> str:
    return f"run-{slug(label)}"


def runs_table(coll: Collection) -> str:
    """One row per run with its status, steps, overrides and headline accuracies."""
    rows = []
    for r in coll.rows:
        run = coll.runs[r["label"]]
        acc_id, acc_ood = _accuracies(r, run)
        status = r.get("status") or (run.summary.get("status") if run else None) or "missing"
        rows.append(
            {
                "run": f'<a href="#{esc(_anchor(r["label"]))}">{esc(r["label"])}</a>',
                "status": esc(status),
                "steps": esc(fmt(r.get("steps", run.summary.get("steps") if run else None))),
                "accuracy ID": esc(pct(acc_id)),
                "accuracy OOD": esc(pct(acc_ood)),
                "overrides": esc(_overrides(r.get("overrides"))),
                "run dir": esc(r.get("run_dir") or "—"),
            }
        )
    return table(
        rows,
        limit=None,
        raw=("run", "status", "steps", "accuracy ID", "accuracy OOD", "overrides", "run dir"),
    )


def comparison_figures(coll: Collection, canvas: Canvas) -> str:
    """Accuracy ID vs OOD across runs, and loss/accuracy curves overlaid."""
    labels, ids, oods = [], [], []
    for r in coll.rows:
        acc_id, acc_ood = _accuracies(r, coll.runs[r["label"]])
        labels.append(r["label"])
        ids.append(acc_id)
        oods.append(acc_ood)
    figs = []
    if any(v is not None for v in ids + oods):
        bars = [
            Series("in distribution", labels, ids, kind="bar"),
            Series("out of distribution", labels, oods, kind="bar", dashed=True),
        ]
        figs.append(
            canvas.figure(
                Figure(
                    "compare-accuracy",
                    "Exact-match accuracy by run",
                    "run",
                    "accuracy",
                    bars,
                    y_range=(0, 1.02),
                    categorical_x=True,
                )
            )
        )
    for column, title in (
        ("loss", "Training loss across runs"),
        ("accuracy", "Monitor accuracy across runs"),
    ):
        series = []
        for label, run in coll.runs.items():
            pts = [
                (r["step"], r[column])
                for r in (run.metrics if run else [])
                # Monitor rows carry the training loss; the other splits' curves (loss None) stay
                # on each run's own page.
                if r.get("step") is not None and r.get(column) is not None and r.get("loss") is not None
            ]
            if pts:
                series.append(Series(label, [int(p[0]) for p in pts], [float(p[1]) for p in pts]))
        if series:
            extra: dict[str, Any] = {"y_range": (0, 1.02)} if column == "accuracy" else {}
            figs.append(
                canvas.figure(
                    Figure(f"compare-curve-{column}", title, "step", column, series, wide=False, **extra)
                )
            )
    return grid(figs)


def _run_block(label: str, row: dict[str, Any], run: RunData | None, canvas: Canvas, open_: bool) -> str:
    acc_id, acc_ood = _accuracies(row, run)
    summary = f'{esc(label)} <span class="muted">— ID {esc(pct(acc_id))} · OOD {esc(pct(acc_ood))}</span>'
    if run is None:
        why = row.get("error") or f"run directory not found: {row.get('run_dir') or '(none recorded)'}"
        body = note(str(why), "warn")
    else:
        body = render_sections(run_sections(run, canvas.scoped(label)))
    flag = " open" if open_ else ""
    return (
        f'<details class="run" id="{esc(_anchor(label))}"{flag}><summary>{summary}</summary>{body}</details>'
    )


def _heads(value: Any) -> str:
    heads = value if isinstance(value, list) else []
    return ", ".join(
        f"{h.get('kind')}.{h.get('layer')}.{h.get('head')} ({fmt(h.get('score'))}"
        f"{' vs ' + fmt(h.get('baseline')) if 'baseline' in h else ''}){' ✓' if h.get('flagged') else ''}"
        for h in heads[:3]
        if isinstance(h, dict)
    )


def _drops(abl: dict[str, Any]) -> str:
    """Found heads' drop against the random draws' median and range (never their mean)."""
    if not abl:
        return "—"
    if abl.get("random_median") is None:
        return pct(abl.get("found_heads"))
    n, hit = abl.get("n_random"), abl.get("at_least")
    return (
        f"{pct(abl.get('found_heads'))} / median {pct(abl.get('random_median'))} "
        f"({pct(abl.get('random_low'))}–{pct(abl.get('random_high'))}; {hit} of {n} draws reach it)"
    )


def _failures(value: Any) -> str:
    return "n/a (no failures)" if value is None else pct(value)


def _precision(value: Any) -> str:
    return "n/a (no predicted failures)" if value is None else pct(value)


def shortcuts_table(coll: Collection) -> str:
    """Per model: the selected shortcut program, failure prediction, top heads and their ablation;
    plus the demo's learning-rate comparison when present. Empty when no run was explained."""
    rows = []
    for r in coll.rows:
        if "failure_prediction_rate" not in r:
            continue
        raw_abl = r.get("ablation_drop")
        abl: dict[str, Any] = raw_abl if isinstance(raw_abl, dict) else {}
        rows.append(
            {
                "run": r["label"],
                "program": r.get("metamodel_program"),
                "agreement": pct(r.get("metamodel_agreement")),
                "failures predicted": _failures(r.get("failure_prediction_rate")),
                "precision": _precision(r.get("failure_precision")),
                "size (bits)": r.get("metamodel_size"),
                "top heads (score vs baseline)": _heads(r.get("recursion_heads")),
                "ablation drop found / random heads": _drops(abl),
            }
        )
    if not rows:
        return ""
    html = table(rows, limit=None)
    comp = coll.info.get("lr_comparison")
    if isinstance(comp, dict) and isinstance(comp.get("metamodels"), list):
        lr_rows = [
            {
                "run": m.get("run"),
                "program": m.get("program"),
                "agreement": pct(m.get("metamodel_agreement")),
                "failures predicted": _failures(m.get("failure_prediction_rate")),
                "precision": _precision(m.get("failure_precision")),
                "size (bits)": m.get("metamodel_size"),
                "same shortcut as": ", ".join(m.get("same_shortcut_as") or []) or "—",
            }
            for m in comp["metamodels"]
            if isinstance(m, dict)
        ]
        html += note("Learning rate vs learned shortcut (same task, different learning rates).")
        html += table(lr_rows, limit=None)
    return html


def probes_table(coll: Collection) -> str:
    """A demo's probes across architectures: probes as rows, models as columns (with a link)."""
    probes = coll.info.get("probes")
    if not isinstance(probes, dict) or not probes.get("rows"):
        return ""
    names = list(probes.get("models") or [])
    rows = []
    for probe, per in probes["rows"].items():
        row: dict[str, Any] = {"probe": probe}
        for n in names:
            cell = per.get(n) or {}
            number = headline_number(cell.get("headline"))
            row[n] = f"{cell.get('label', '')}: {number} — {cell.get('verdict', '')}"
        rows.append(row)
    link = f'<p><a href="{esc(probes.get("report", ""))}">The probe run\'s own report</a></p>'
    return note("The same black-box probes on each model; 95% intervals.") + table(rows, limit=None) + link


def comparison_body(coll: Collection, canvas: Canvas) -> tuple[list[tuple[str, str]], str]:
    """(table of contents, HTML body) of the comparison page."""
    facts = [
        (k, esc(fmt(v)))
        for k, v in coll.info.items()
        if k not in _INFO_SKIP and not isinstance(v, dict | list)
    ]
    overview = (cards([("runs", str(len(coll.rows)))] + facts)) + runs_table(coll)
    body = section("overview", f"{coll.kind.capitalize()} overview", overview)
    charts = comparison_figures(coll, canvas)
    if charts:
        body += section("comparison", "Comparison", charts)
    explained = shortcuts_table(coll)
    if explained:
        body += section("shortcuts", "Shortcuts, failure prediction and heads", explained)
    probed = probes_table(coll)
    if probed:
        body += section("probes", "Black-box probes across architectures", probed)
    blocks = "".join(
        _run_block(r["label"], r, coll.runs[r["label"]], canvas, i == 0) for i, r in enumerate(coll.rows)
    )
    body += section("runs", "Runs", note("Each run's own report; click to fold or unfold.") + blocks)
    toc = [("overview", "Overview")] + ([("comparison", "Comparison")] if charts else [])
    toc += ([("shortcuts", "Shortcuts")] if explained else []) + ([("probes", "Probes")] if probed else [])
    toc += [("runs", "Runs")]
    toc += [(_anchor(r["label"]), r["label"]) for r in coll.rows]
    return toc, body
