"""A probe run's page: an overview, the headline of every probe per model, then one section per
probe (its table with the models side by side, and its figures with each model's series), and the
data-vs-output mapping of our own runs. Everything is read from results.json."""

from __future__ import annotations

from typing import Any

from behaviorlab.report.canvas import Canvas, grid
from behaviorlab.report.figures import Figure, Series
from behaviorlab.report.html import cards, esc, fmt, note, table
from behaviorlab.report.rundata import RunData


def _pct(x: Any) -> str:
    return "—" if not isinstance(x, int | float) else f"{100 * x:.0f}%"


def rate_cell(row: dict[str, Any] | None, field: str = "rate", lo: str = "lo", hi: str = "hi") -> str:
    """ "50% [31–69%] (4/8)" for a rate row; "—" when absent or unmeasured."""
    if not row or row.get(field) is None:
        return "—"
    count = f" ({row['k']}/{row['n']})" if field == "rate" and "k" in row else ""
    return f"{_pct(row[field])} [{_pct(row.get(lo))}–{_pct(row.get(hi))}]{count}"


def overview(run: RunData) -> str:
    """Status, seed, limit and the models with their mode."""
    s, res = run.summary, run.results
    status = str(s.get("status", "unknown"))
    body = cards(
        [
            ("status", f'<span class="status status-{esc(status)}">{esc(status)}</span>'),
            ("probes", esc(", ".join(s.get("probes") or list(res.get("probes", {}))))),
            ("seed", esc(fmt(s.get("seed")))),
            ("limit", esc(fmt(s.get("limit")))),
            ("generations", esc(fmt(s.get("generations")))),
        ]
    )
    body += table(
        [
            {
                "model": m.get("name"),
                "spec": m.get("spec"),
                "prompts": m.get("mode"),
                "chat template": m.get("chat"),
            }
            for m in res.get("models", [])
        ]
    )
    if s.get("error"):
        body += note(f"error: {s['error']}", "warn")
    if not res:
        body += note("No results.json yet: the run has not finished (rerun with --resume).", "warn")
    if run.config_text is not None:
        body += f"<details><summary>Config</summary><pre>{esc(run.config_text)}</pre></details>"
    return body


def ordered(res: dict[str, Any], order: list[str] | None) -> dict[str, dict[str, Any]]:
    """results.json's probes in run order, each with its models in column order (the file itself
    is written with sorted keys)."""
    probes = res.get("probes", {})
    names = [p for p in order or [] if p in probes] + sorted(p for p in probes if p not in (order or []))
    models = [m.get("name") for m in res.get("models", [])]
    out = {}
    for p in names:
        per = probes[p] if isinstance(probes[p], dict) else {}
        out[p] = {m: per[m] for m in models if m in per} | {m: r for m, r in per.items() if m not in models}
    return out


def headlines(probes: dict[str, dict[str, Any]]) -> str | None:
    """One row per probe: each model's headline number and verdict."""
    if not probes:
        return None
    rows = []
    for probe, per in probes.items():
        row: dict[str, Any] = {"probe": probe}
        for model, r in per.items():
            head = r.get("headline", {})
            row[model] = f"{head.get('label', '')}: {rate_cell(head)} — {r.get('verdict', '')}"
        rows.append(row)
    return table(rows)


def _behavior_rows(per: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for model, r in per.items():
        b = r.get("behavior", {})
        mi = b.get("mi_bits", {})
        out.append(
            {
                "model": model,
                "behaviour B(x)": b.get("name"),
                "|C(B)| bits": b.get("description_bits"),
                "I(M(X); B(X)) bits": mi.get("estimate"),
                "95% CI": f"[{fmt(mi.get('ci_low'))}, {fmt(mi.get('ci_high'))}]",
                "generations": r.get("generations"),
                "verdict": r.get("verdict"),
            }
        )
    return out


def side_by_side(per: dict[str, Any]) -> list[dict[str, Any]]:
    """The probe's table rows merged by their key columns, one rate column per model."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for model, r in per.items():
        keys = r.get("keys", [])
        for row in r.get("table", []):
            key = tuple(row.get(k) for k in keys)
            cell = merged.setdefault(key, {k: row.get(k) for k in keys})
            cell[model] = rate_cell(row)
            if "accuracy" in row:
                cell[f"{model} · accuracy"] = rate_cell(row, "accuracy", "acc_lo", "acc_hi")
            if "denial" in row:
                cell[f"{model} · denial"] = rate_cell(row, "denial", "denial_lo", "denial_hi")
    return list(merged.values())


def figures(probe: str, per: dict[str, Any], canvas: Canvas) -> str:
    """Each figure spec once, with every model's series (named by model when there are several)."""
    specs: dict[str, dict[str, Any]] = {}
    lines: dict[str, list[Series]] = {}
    for model, r in per.items():
        for spec in r.get("figures", []):
            specs.setdefault(spec["key"], spec)
            for s in spec.get("series", []):
                name = f"{model} · {s['name']}" if len(per) > 1 else str(s["name"])
                lines.setdefault(spec["key"], []).append(
                    Series(
                        name,
                        list(s["x"]),
                        list(s["y"]),
                        kind="bar" if s.get("kind") == "bar" else "line",
                        dashed=bool(s.get("dashed")),
                        lo=list(s.get("lo") or []) or None,
                        hi=list(s.get("hi") or []) or None,
                    )
                )
    figs = []
    for key, spec in specs.items():
        y_range = spec.get("y_range")
        fig = Figure(
            f"{probe}-{key}",
            str(spec.get("title", key)),
            str(spec.get("x_label", "")),
            str(spec.get("y_label", "")),
            lines.get(key, []),
            y_range=(float(y_range[0]), float(y_range[1])) if y_range else None,
            log_x=bool(spec.get("log_x")),
            categorical_x=bool(spec.get("categorical_x")),
            integer_x=bool(spec.get("integer_x")),
            wide=False,
        )
        figs.append(canvas.figure(fig))
    return grid(figs)


def probe_body(probe: str, per: dict[str, Any], canvas: Canvas) -> str:
    """Verdicts and behaviour scores, the side-by-side table, figures, notes and raw tables."""
    body = table(_behavior_rows(per))
    body += table(side_by_side(per), limit=None)
    body += figures(probe, per, canvas)
    for model, r in per.items():
        for n in r.get("notes", []):
            body += note(f"{model}: {n}")
    for model, r in per.items():
        full = table(r.get("table", []), limit=None)
        body += f"<details><summary>{esc(model)}: every column</summary>{full}</details>"
    return body


def comparison_body(comparison: dict[str, Any]) -> str | None:
    """Per probe: the models ranked by headline rate, and each pair's difference with its 95%
    interval, marked when significant. None with fewer than two models."""
    if not any(len(c.get("ranking", [])) > 1 for c in comparison.values()):
        return None
    body = note(
        "Models ranked by each probe's headline rate (95% Wilson intervals); a difference is marked "
        "significant when its 95% interval (Newcombe) excludes zero."
    )
    ranks, diffs = [], []
    for probe, c in comparison.items():
        for place, r in enumerate(c.get("ranking", []), 1):
            ranks.append({"probe": probe, "rank": place, "model": r["model"], "headline": rate_cell(r)})
        for d in c.get("pairs", []):
            diffs.append(
                {
                    "probe": probe,
                    "difference": f"{d['a']} − {d['b']}",
                    "points": f"{100 * d['diff']:+.0f} [{100 * d['lo']:+.0f}, {100 * d['hi']:+.0f}]",
                    "significant": "yes" if d["significant"] else "no",
                }
            )
        if not c.get("same_measure", True):
            body += note(f"{probe}: the models' headlines measure different things (open vs closed prompts)")
    return body + table(ranks, limit=None) + table(diffs, limit=None)


def mapping_body(mapping: dict[str, Any]) -> str | None:
    """Per run model: how many features are shared, contingent, idiosyncratic, unexpressed, and which."""
    if not mapping:
        return None
    body = note(
        "Training outputs (data/train.parquet) vs the model's outputs on in-distribution test inputs. "
        "contingent: in both at significantly different rates (95% intervals apart, ratio outside [0.5, 2]); "
        "idiosyncratic: only in outputs; unexpressed: only in the data."
    )
    for model, m in mapping.items():
        if "skipped" in m:
            body += note(f"{model}: {m['skipped']}")
            continue
        body += f"<h3>{esc(model)}</h3>"
        body += note(
            f"{m.get('n_data')} training outputs vs {m.get('n_outputs')} model outputs; {m.get('verdict')}"
        )
        rows = [
            {
                "feature": f["feature"],
                "class": f["class"],
                "data": rate_cell(f["data"]),
                "outputs": rate_cell(f["outputs"]),
            }
            for f in m.get("features", [])
        ]
        body += table(rows, limit=None)
    return body


def probe_sections(run: RunData, canvas: Canvas) -> list[tuple[str, str, str]]:
    """(anchor, title, html) of a probe run's page."""
    res = run.results
    probes = ordered(res, run.summary.get("probes") or run.config.get("probes"))
    parts: list[tuple[str, str, str | None]] = [
        ("overview", "Overview", overview(run)),
        ("headlines", "Headlines", headlines(probes)),
        ("comparison", "Ranking and significant differences", comparison_body(res.get("comparison") or {})),
    ]
    for probe, per in probes.items():
        if per:
            parts.append((f"probe-{probe}", f"Probe: {probe}", probe_body(probe, per, canvas)))
    parts.append(("mapping", "Data vs outputs", mapping_body(res.get("mapping") or {})))
    return [(a, t, b) for a, t, b in parts if b]
