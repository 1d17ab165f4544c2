"""A run's own sections: header, training curves, accuracy by metadata, the failure catalog."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from behaviorlab.report.canvas import Canvas, grid
from behaviorlab.report.figures import Figure, Series
from behaviorlab.report.html import breakable, cards, esc, fmt, note, pct, section, table
from behaviorlab.report.rundata import RunData, is_id, is_ood

# Metadata fields in the order evaluate/metrics.py breaks them down; other meta_* columns follow.
BREAKDOWN_ORDER = ("length", "size", "depth", "carry", "recursion_depth", "t", "output_length")
FAILURE_LIMIT = 50
# Optimizer statistics drawn together (similar scales); any other numeric column gets its own chart.
STAT_GROUPS = {
    "Sophia win rate (share of coordinates not clipped)": ("win_rate",),
    "Hessian diagonal estimate": ("hessian_mean", "hessian_max", "hessian_min"),
    "Hessian estimator": ("hessian_loss", "hessian_grad_norm", "hessian_accepted"),
    "Hessian updates": ("hessian_updates", "hessian_skipped"),
}
_CURVE_SKIP = {"step", "split", "loss", "accuracy", "lr"}


def headline(run: RunData) -> tuple[float | None, float | None]:
    """Accuracy ID and OOD: the recorded summary, else pooled from predictions.parquet."""
    s = run.summary
    if "accuracy_id" in s or "accuracy_ood" in s:
        return s.get("accuracy_id"), s.get("accuracy_ood")
    pooled: dict[bool, list[bool]] = {True: [], False: []}
    for r in run.predictions:
        split = str(r.get("split", ""))
        if is_id(split) or is_ood(split):
            pooled[is_ood(split)].append(bool(r.get("correct")))
    rate = {k: (sum(v) / len(v) if v else None) for k, v in pooled.items()}
    return rate[False], rate[True]


def _task(run: RunData) -> str:
    if run.summary.get("task"):
        return str(run.summary["task"])
    data = run.config.get("data", {})
    opts = data.get("options") or {}
    extra = ", ".join(f"{k}={v}" for k, v in opts.items())
    return f"{data.get('task', '—')}" + (f" ({extra})" if extra else "")


def header(run: RunData) -> str:
    """Name, task, status, config digest, environment and the headline accuracies."""
    acc_id, acc_ood = headline(run)
    status = str(run.summary.get("status", "unknown"))
    digest = str(run.summary.get("config_digest") or "—")
    seed = run.env.get("seed", run.config.get("train", {}).get("seed"))
    facts = [
        ("task", breakable(_task(run))),
        ("status", f'<span class="status status-{esc(status)}">{esc(status)}</span>'),
        ("config digest", f'<code title="{esc(digest)}">{esc(digest[:12])}</code>'),
        ("steps", esc(fmt(run.summary.get("steps")))),
        ("torch", esc(run.env.get("torch", "—"))),
        ("seed", esc(fmt(seed))),
        ("python", esc(run.env.get("python", "—"))),
        ("git revision", f"<code>{esc(str(run.env.get('git_revision') or '—')[:12])}</code>"),
    ]
    body = cards(
        [
            ("accuracy in distribution", esc(pct(acc_id))),
            ("accuracy out of distribution", esc(pct(acc_ood))),
        ],
        big=True,
    )
    body += cards(facts)
    if run.summary.get("error"):
        body += note(f"error: {run.summary['error']}", "warn")
    for where, problem in run.integrity[:5]:
        body += note(f"integrity: {where}: {problem} — numbers here may not match the checkpoint", "warn")
    if run.config_text is not None:
        body += "<details><summary>Resolved config</summary>"
        body += f"<pre>{esc(run.config_text)}</pre></details>"
    if run.env:
        body += (
            "<details><summary>Environment</summary>"
            + table([{"key": k, "value": v} for k, v in sorted(run.env.items())])
            + "</details>"
        )
    return body


def _by_split(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[str(r.get("split") or "train")].append(r)
    return dict(out)


def _lines(rows: list[dict[str, Any]], column: str) -> list[Series]:
    """One series per split for a metrics column (points without the column are dropped)."""
    series = []
    for split, rs in _by_split(rows).items():
        pts = [(r["step"], r[column]) for r in rs if r.get(column) is not None and r.get("step") is not None]
        if pts:
            series.append(
                Series(
                    f"{split} · {column}" if column not in ("loss", "accuracy") else split,
                    [int(p[0]) for p in pts],
                    [float(p[1]) for p in pts],
                    dashed=is_ood(split),
                )
            )
    return series


def training_curves(run: RunData, canvas: Canvas) -> str | None:
    """Loss, accuracy, learning rate and optimizer statistics against the step."""
    rows = [r for r in run.metrics if r.get("step") is not None]
    if not rows:
        return None
    cols = [
        c
        for c in dict.fromkeys(k for r in rows for k in r)
        if any(isinstance(r.get(c), int | float) and not isinstance(r.get(c), bool) for r in rows)
    ]
    figs = []
    specs: list[tuple[str, tuple[str, ...], dict[str, Any]]] = [
        ("Training loss", ("loss",), {"y_label": "cross-entropy"}),
        ("Accuracy (exact match)", ("accuracy",), {"y_label": "accuracy", "y_range": (0, 1.02)}),
        ("Learning rate", ("lr",), {"y_label": "lr"}),
    ]
    grouped = {c for members in STAT_GROUPS.values() for c in members}
    specs += [(title, members, {}) for title, members in STAT_GROUPS.items()]
    specs += [(c, (c,), {}) for c in cols if c not in grouped and c not in _CURVE_SKIP]
    for title, members, extra in specs:
        series = [s for c in members if c in cols for s in _lines(rows, c)]
        if series and members == ("lr",):
            # From zero, so a constant or warmed-up rate reads as a rate, not as noise.
            top = max(v for s in series for v in s.y if v is not None)
            extra["y_range"] = (0, top * 1.15 or 1.0)
        drawn = [r for r in rows if any(r.get(c) is not None for c in members)]
        if series:
            figs.append(
                canvas.figure(
                    Figure(
                        f"curve-{title}",
                        f"{title} · {_splits(drawn)}",
                        "step",
                        extra.pop("y_label", ""),
                        series,
                        wide=False,
                        **extra,
                    )
                )
            )
    return grid(figs) if figs else None


def _splits(rows: list[dict[str, Any]]) -> str:
    """The splits a figure draws, OOD ones marked: "train, test_id, test_ood (OOD, dashed)"."""
    names = dict.fromkeys(str(r.get("split") or "train") for r in rows)
    return ", ".join(f"{s} (OOD, dashed)" if is_ood(s) else s for s in names)


def _meta_fields(rows: list[dict[str, Any]]) -> list[str]:
    names = [k[5:] for k in dict.fromkeys(k for r in rows[:1] for k in r) if k.startswith("meta_")]
    return [f for f in BREAKDOWN_ORDER if f in names] + sorted(f for f in names if f not in BREAKDOWN_ORDER)


def _kind(split: str) -> str:
    return "OOD" if is_ood(split) else "ID" if is_id(split) else "other"


def accuracy_breakdown(run: RunData, canvas: Canvas) -> str | None:
    """Exact match per split, and per value of every metadata field, with OOD splits dashed."""
    if not run.predictions:
        return None
    splits = _by_split(run.predictions)
    split_rows = [
        {
            "split": s,
            "kind": _kind(s),
            "n": len(rs),
            "correct": sum(bool(r.get("correct")) for r in rs),
            "accuracy": pct(sum(bool(r.get("correct")) for r in rs) / len(rs)),
        }
        for s, rs in splits.items()
    ]
    body = table(split_rows)
    figs = []
    for field in _meta_fields(run.predictions):
        values = {r.get(f"meta_{field}") for r in run.predictions} - {None}
        if len(values) < 2:  # a single value says nothing a breakdown could add
            continue
        series = []
        for split, rs in splits.items():
            groups: dict[int, list[bool]] = defaultdict(list)
            for r in rs:
                if r.get(f"meta_{field}") is not None:
                    groups[int(r[f"meta_{field}"])].append(bool(r.get("correct")))
            keys = sorted(groups)
            label = f"{split} (OOD)" if is_ood(split) else split
            series.append(
                Series(
                    label,
                    keys,
                    [sum(groups[k]) / len(groups[k]) for k in keys],
                    dashed=is_ood(split),
                    hover=[f"n={len(groups[k])}" for k in keys],
                )
            )
        figs.append(
            canvas.figure(
                Figure(
                    f"acc-by-{field}",
                    f"Accuracy by {field} · {_splits(run.predictions)}",
                    field,
                    "exact match",
                    series,
                    integer_x=True,
                    y_range=(-0.02, 1.02),
                    wide=False,
                )
            )
        )
    if figs:
        body += note("Dashed lines with diamond markers are out-of-distribution splits (test_ood*).")
        body += grid(figs)
    return body


def _wrong_token(r: dict[str, Any]) -> str:
    i, toks = r.get("first_wrong"), r.get("tokens")
    if i is None:
        return "—"
    if isinstance(toks, list):
        got = esc(toks[i]) if 0 <= i < len(toks) else "<em>end</em>"
        return f"{int(i)}: <mark>{got}</mark>"
    return esc(i)


def failure_catalog(run: RunData) -> str | None:
    """The first wrong predictions, with the first wrong token and the example's metadata."""
    if not run.has_predictions:
        return None
    wrong = [r for r in run.predictions if not r.get("correct")]
    if not wrong:
        return note(f"No wrong predictions among {len(run.predictions)} evaluated examples.")
    shown = []
    for r in wrong[:FAILURE_LIMIT]:
        meta = " ".join(f"{k[5:]}={fmt(v)}" for k, v in r.items() if k.startswith("meta_"))
        shown.append(
            {
                "split": r.get("split"),
                "input": r.get("input"),
                "target": r.get("target"),
                "prediction": r.get("prediction"),
                "first wrong": _wrong_token(r),
                "edit distance": r.get("edit_distance"),
                "meta": meta,
            }
        )
    head = note(
        f"{len(wrong)} wrong of {len(run.predictions)}; the first {len(shown)} in file order. "
        "The highlighted token is the model's first wrong output token."
    )
    return head + table(shown, limit=None, raw=("first wrong",))


def run_sections(run: RunData, canvas: Canvas) -> list[tuple[str, str, str]]:
    """(anchor, title, html) for every section whose data exists."""
    from behaviorlab.report.analysis import analysis_sections

    parts: list[tuple[str, str, str | None]] = [
        ("overview", "Overview", header(run)),
        ("training", "Training curves", training_curves(run, canvas)),
        ("accuracy", "Accuracy by split and metadata", accuracy_breakdown(run, canvas)),
        ("failures", "Failure catalog", failure_catalog(run)),
    ]
    parts += analysis_sections(run.analysis_dir, canvas)
    prefix = f"{canvas.prefix}-" if canvas.prefix else ""
    return [(prefix + a, t, b) for a, t, b in parts if b]


def render_sections(sections: list[tuple[str, str, str]]) -> str:
    """The sections as HTML, in order."""
    return "".join(section(a, t, b) for a, t, b in sections)
