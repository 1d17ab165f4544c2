"""A probe run's page: an overview, the headline of every probe per model, then one section per
probe (its table with the models side by side, and its figures with each model's series), and the
data-vs-output mapping of our own runs. Everything is read from results.json."""

from __future__ import annotations

from typing import Any

from behaviorlab.report.canvas import Canvas, grid
from behaviorlab.report.figures import COLORS, Figure, Series
from behaviorlab.report.html import breakable, cards, columns_of, esc, fmt, note, table
from behaviorlab.report.rundata import RunData
from behaviorlab.results import Finding, Plot
from behaviorlab.stats import MI_NOTE, Estimate, bits, clipped_at_zero


def _pct(x: Any) -> str:
    return "—" if not isinstance(x, int | float) else f"{100 * x:.0f}%"


def rate_cell(e: Estimate | dict[str, Any] | None) -> str:
    """ "50% [31–69%] (4/8)" for a share (a median "3 [2–5]", an exact number "35% (exact)");
    "—" when absent, "n/a (n=0)" over zero cases, and unusable cases named beside the rate."""
    if isinstance(e, dict):
        e = Estimate.from_json(e)
    if e is None:
        return "—"
    gone = f"; {e.excluded} unusable" if e.excluded else ""
    if e.estimate is None:
        return f"n/a (n=0{gone})"
    if e.method == "quartiles":
        return f"{e.estimate:g} [{e.ci_low:g}–{e.ci_high:g}]"
    if e.method == "exact":
        return f"{_pct(e.estimate)} (exact)"
    count = f" ({e.k}/{e.n}{gone})" if e.k is not None else ""
    return f"{_pct(e.estimate)} [{_pct(e.ci_low)}–{_pct(e.ci_high)}]{count}"


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


def ordered(res: dict[str, Any], order: list[str] | None) -> dict[str, dict[str, Finding]]:
    """results.json's probes in run order, each with its models' findings in column order (the
    file itself is written with sorted keys)."""
    probes = res.get("probes", {})
    names = [p for p in order or [] if p in probes] + sorted(p for p in probes if p not in (order or []))
    models = [m.get("name") for m in res.get("models", [])]
    out = {}
    for p in names:
        per = probes[p] if isinstance(probes[p], dict) else {}
        named = [m for m in models if m in per] + [m for m in per if m not in models]
        out[p] = {m: Finding.from_json(per[m]) for m in named}
    return out


def headlines(probes: dict[str, dict[str, Finding]]) -> str | None:
    """One row per probe: each model's headline number and verdict."""
    if not probes:
        return None
    rows = []
    for probe, per in probes.items():
        row: dict[str, Any] = {"probe": probe}
        for model, f in per.items():
            row[model] = f"{f.label}: {rate_cell(f.headline)} — {f.verdict}"
        rows.append(row)
    return table(rows)


def _behavior_rows(per: dict[str, Finding]) -> list[dict[str, Any]]:
    out = []
    for model, f in per.items():
        b = f.behavior
        out.append(
            {
                "model": model,
                "behaviour B(x)": b.name if b else None,
                "|C(B)| bits": b.description_bits if b else None,
                # Files from before MI was clipped at 0 may hold a negative estimate: it means 0.
                "I(M(X); B(X)) (95% CI)": bits(clipped_at_zero(b.mi_bits)) if b else None,
                "generations": f.info.get("generations"),
                "verdict": f.verdict,
            }
        )
    return out


def side_by_side(per: dict[str, Finding]) -> list[dict[str, Any]]:
    """The probe's table rows merged by their key columns, one column per model: its rate, and
    each other estimate (accuracy, denial, ...) on a line of its own in the same cell — a column
    per model and estimate would run off the page with three models."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for model, f in per.items():
        for row in f.rows:
            key = tuple(row.keys.get(k) for k in f.keys)
            cell = merged.setdefault(key, {k: breakable(fmt(row.keys.get(k))) for k in f.keys})
            named = sorted(row.values.items(), key=lambda kv: kv[0] != "rate")  # the rate first
            lines = [
                esc(rate_cell(e)) if len(named) == 1 else f"{esc(n)}: {esc(rate_cell(e))}" for n, e in named
            ]
            cell[model] = "<br>".join(lines)
    return [{**r, **{m: r.get(m, "—") for m in per}} for r in merged.values()]


def _every_number(f: Finding) -> list[dict[str, Any]]:
    """A finding's rows with every estimate in one readable cell (value, interval, counts) and
    the plain numbers beside them."""
    return [{**r.keys, **{k: rate_cell(e) for k, e in r.values.items()}, **r.extra} for r in f.rows]


def figures(probe: str, per: dict[str, Finding], canvas: Canvas) -> str:
    """Each plot once, with every model's series (named by model when there are several)."""
    specs: dict[str, Plot] = {}
    lines: dict[str, list[Series]] = {}
    for m, (model, f) in enumerate(per.items()):
        for spec in f.plots:
            specs.setdefault(spec.key, spec)
            for k, s in enumerate(spec.series(f.rows)):
                several = len(per) > 1
                name = f"{model} · {s['name']}" if several else str(s["name"])
                # Several models: one colour per model, a line style per series of that model.
                color, style = (COLORS[m % len(COLORS)], k) if several else (None, 0)
                lines.setdefault(spec.key, []).append(
                    Series(
                        name,
                        list(s["x"]),
                        list(s["y"]),
                        kind="bar" if s.get("kind") == "bar" else "line",
                        dashed=bool(s.get("dashed")),
                        lo=list(s.get("lo") or []) or None,
                        hi=list(s.get("hi") or []) or None,
                        color=color,
                        style=style,
                    )
                )
    figs = []
    for key, spec in specs.items():
        fig = Figure(
            f"{probe}-{key}",
            spec.title,
            spec.x_label,
            spec.y_label,
            lines.get(key, []),
            y_range=spec.y_range,
            log_x=spec.log_x,
            categorical_x=spec.categorical_x,
            wide=False,
        )
        figs.append(canvas.figure(fig))
    return grid(figs)


def probe_body(probe: str, per: dict[str, Finding], canvas: Canvas) -> str:
    """Verdicts and behaviour scores, the side-by-side table, figures, notes and raw tables."""
    body = table(_behavior_rows(per))
    body += note(f"I(M(X); B(X)): {MI_NOTE}.")
    rows = side_by_side(per)
    body += table(rows, limit=None, raw=columns_of(rows))
    body += figures(probe, per, canvas)
    for model, f in per.items():
        for n in f.notes:
            body += note(f"{model}: {n}")
    for model, f in per.items():
        full = table(_every_number(f), limit=None)
        body += f"<details><summary>{esc(model)}: every number</summary>{full}</details>"
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
                    "points": f"{100 * d['estimate']:+.0f} "
                    f"[{100 * d['ci_low']:+.0f}, {100 * d['ci_high']:+.0f}]",
                    "significant": "n/a (different measures)"
                    if d.get("significant") is None
                    else ("yes" if d["significant"] else "no"),
                }
            )
        if not c.get("same_measure", True):
            body += note(
                f"{probe}: the models' headlines measure different things (open vs closed prompts); "
                "only pairs with the same measure are tested"
            )
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
