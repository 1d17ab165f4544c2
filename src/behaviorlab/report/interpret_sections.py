"""A white-box run's page (kind `interpret`: any model opened up on prompts): the model and what
was measured, the heads found per hypothesis with their ablation check (found heads against
random heads of the same count: every draw drawn, the median and range stated), ablation bars,
then attention maps (the prompt's tokens on both axes) and head-score rankings from analysis/."""

from __future__ import annotations

import json
from typing import Any

from behaviorlab.report.canvas import Canvas, grid
from behaviorlab.report.figures import Figure, Series
from behaviorlab.report.html import cards, esc, fmt, note, table
from behaviorlab.report.rundata import RunData
from behaviorlab.rundir import ABLATION, LM_HEADS

MAX_BARS = 30


def _load(run: RunData, name: str) -> Any:
    path = run.analysis_dir / name
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        return {"_error": f"could not read {name}: {e}"}


def overview(run: RunData) -> str:
    """Model, status and the verbs that wrote this directory, with their prompts."""
    s, c = run.summary, run.config
    status = str(s.get("status", "unknown"))
    body = cards(
        [
            ("model", esc(s.get("model_name") or c.get("model", "—"))),
            ("status", f'<span class="status status-{esc(status)}">{esc(status)}</span>'),
            ("answer tokens", esc(fmt(c.get("new_tokens")))),
            ("chat template", esc(fmt(c.get("chat")))),
            ("seed", esc(fmt(c.get("seed")))),
        ]
    )
    body += f'<p class="source">spec <code>{esc(c.get("model", "—"))}</code></p>'
    verbs = c.get("verbs") or {}
    rows = [
        {
            "verb": v,
            "prompt": p.get("prompt"),
            "reference": p.get("reference"),
            "corrupted": p.get("corrupted"),
        }
        for v, spec in verbs.items()
        for p in (spec.get("prompts") or [{"prompt": "(the standard probe sets)"}])
    ]
    if rows:
        body += table(rows)
    if run.config_text is not None:
        body += f"<details><summary>Config</summary><pre>{esc(run.config_text)}</pre></details>"
    return body


def heads_found(run: RunData, canvas: Canvas) -> str | None:
    """Per hypothesis: the top heads, then found vs random ablation as bars and numbers."""
    found = _load(run, LM_HEADS)
    if found is None:
        return None
    if not isinstance(found, dict) or "_error" in found:
        return note(
            str(found.get("_error") if isinstance(found, dict) else "lm_heads.json: not an object"), "warn"
        )
    body, figs = "", []
    for key, v in found.items():
        a = v.get("ablation", {})
        f, rand = a.get("found", {}), a.get("random", [])
        span = a.get("random_delta_range") or [None, None]
        body += f"<h3>{esc(v.get('hypothesis', key))}</h3>" + cards(
            [
                ("top heads", esc(", ".join(a.get("heads", [])))),
                ("Δ log-prob per token, top heads", esc(fmt(f.get("delta_logprob")))),
                (
                    f"random heads ({len(rand)} draws): median [min, max]",
                    esc(f"{fmt(a.get('random_delta_median'))} [{fmt(span[0])}, {fmt(span[1])}]"),
                ),
                (
                    "random draws dropping as much; rank p",
                    esc(f"{a.get('random_at_least', '—')} of {len(rand)}; p = {fmt(a.get('p_value'))}"),
                ),
                ("measured on", esc(v.get("measured_on", "—"))),
            ]
        )
        body += table(v.get("top", []))
        labels = ["top heads", *[f"random {i}" for i in range(1, len(rand) + 1)]]
        series = [
            Series(
                "Δ log-prob / token",
                labels,
                [f.get("delta_logprob"), *[r.get("delta_logprob") for r in rand]],
                kind="bar",
            )
        ]
        if "accuracy" in f:
            series.append(
                Series("accuracy drop", labels, [f.get("drop"), *[r.get("drop") for r in rand]], kind="bar")
            )
        figs.append(
            canvas.figure(
                Figure(f"ablation-{key}", f"{v.get('hypothesis', key)}: ablated together", "", "change",
                       series, categorical_x=True, height=300, wide=False)
            )
        )  # fmt: skip
    intro = note(
        "Each set of heads is zero-ablated together (their slice of the output projection's input); the "
        "change in the mean log-prob of the answer tokens is compared with random heads of the same count."
    )
    return intro + grid(figs) + body


def ablation_bars(run: RunData, canvas: Canvas) -> str | None:
    """Per-component ablation rows (interpret ablate --model) as ranked bars."""
    rows = _load(run, ABLATION)
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        return None
    comp = [r for r in rows if "component" in r and isinstance(r.get("delta_logprob"), int | float)]
    if not comp:
        return None
    top = sorted(comp, key=lambda r: float(r["delta_logprob"]))[:MAX_BARS]
    series = Series(
        "Δ log-prob / token",
        [str(r["component"]) for r in top],
        [float(r["delta_logprob"]) for r in top],
        kind="bar",
    )
    fig = canvas.figure(
        Figure("ablation-components", "Components whose ablation hurts the answer most", "component",
               "Δ log-prob per token", [series], horizontal=True, height=90 + 22 * len(top))
    )  # fmt: skip
    return fig + f"<details><summary>All {len(comp)} rows</summary>" + table(comp) + "</details>"


def interpret_sections(run: RunData, canvas: Canvas) -> list[tuple[str, str, str]]:
    """(anchor, title, html) for a white-box run."""
    from behaviorlab.report.analysis import analysis_sections

    parts: list[tuple[str, str, str | None]] = [
        ("overview", "Overview", overview(run)),
        ("heads-found", "Heads found and their ablation check", heads_found(run, canvas)),
        ("ablation-bars", "Ablation", ablation_bars(run, canvas)),
    ]
    shown = {LM_HEADS} | ({ABLATION} if parts[-1][2] else set())
    parts += analysis_sections(run.analysis_dir, canvas, skip=shown)
    return [(a, t, b) for a, t, b in parts if b]
