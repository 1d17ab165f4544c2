"""What the tree-boundary and architectures studies add to a study page: the phase diagram (end to
end vs 1-step across tree size, examples and model size, with the seed spread on every cell), the
phase table and boundary; the architectures at their tuned rates with ID/OOD bars; our settings
beside the paper's; and each study's cells."""

from __future__ import annotations

from typing import Any

from behaviorlab.report.canvas import Canvas, grid
from behaviorlab.report.figures import Figure, Heatmap, Series
from behaviorlab.report.html import esc, note, pct, table

Part = tuple[str, str, str]  # anchor, title, body
REGION = "end to end fails, 1-step learns"
SHORT = {
    REGION: "◆ e2e fails, 1-step learns",
    "both learn": "both learn",
    "both fail": "both fail",
    "end to end learns, 1-step fails": "1-step fails",
}
# The two planes of the phase diagram: the axis drawn down the rows, its field, its levels' order.
PLANES = (("size × examples", "n_train", "training examples"), ("size × model", "model", "model size"))
MODEL_ORDER = {"small": 0, "medium": 1, "large": 2}


def _sessions(study: dict[str, Any]) -> str:
    """`over 2 sessions (5969.2 s; 12.3 s, interrupted)` when the study took more than one."""
    sessions = study.get("sessions") or []
    if len(sessions) < 2:
        return ""
    each = [
        f"{s.get('seconds')} s"
        + (f", {s['runs_trained']} runs trained" if s.get("runs_trained") else "")
        + (", interrupted" if s.get("interrupted") else "")
        for s in sessions
    ]
    return f" over {len(sessions)} sessions ({'; '.join(each)})"


def cost_note(study: dict[str, Any]) -> str:
    """Mode, seeds, wall time, CPU seconds over runs and the load the runs shared the cores with."""
    mode = "quick grid" if study.get("quick") else "full grid"
    if left := study.get("cells_left_out"):
        cells = f"{len(left)} cell{'' if len(left) == 1 else 's'}"
        mode += f", part of it: {cells} left out with --cells {study.get('only_cells')!r}"
    wall = study.get("seconds")
    minutes = f" ({float(wall) / 60:.0f} min)" if wall else ""
    text = f"{mode}; seeds {study.get('seeds')}; {wall} s wall{minutes}{_sessions(study)}"
    if study.get("workers"):
        text += f" on {study['workers']} workers"
    if (cpu := study.get("cpu_seconds")) is not None:
        text += f"; {cpu} CPU-s summed over runs (≈ {cpu / 120:.0f} min on 2 idle cores)"
        if partial := study.get("cpu_partial"):
            text += (
                f", a lower bound: {len(partial)} runs finished training in an earlier, interrupted "
                "session, and their CPU seconds cover only evaluation"
            )
    load = study.get("load") or {}
    if load.get("mean_1min") is not None:
        text += (
            f"; 1-min load {load['mean_1min']} on average ({load['max_1min']} at most) "
            f"on {load['cores']} cores"
        )
    return text + "."


def command_note(study: dict[str, Any]) -> str:
    """The command that made the study (and re-reads it with `--resume`), as HTML."""
    cmd = study.get("command")
    if not cmd:
        return ""
    return (
        f'<p class="muted">Command: <code>{esc(cmd)}</code>; the same command with '
        "<code>--resume</code> re-reads the finished runs with the installed code.</p>"
    )


def _iv(i: dict[str, Any] | None) -> str:
    return "—" if not i else f"{pct(i['mean'])} [{pct(i['lo'])}, {pct(i['hi'])}]"


def _short_iv(i: dict[str, Any] | None) -> str:
    return "—" if not i else f"{100 * i['mean']:.0f}% [{100 * i['lo']:.0f}–{100 * i['hi']:.0f}]"


def _k(k: list[int] | None) -> str:
    return "—" if not k else f"{k[0]}/{k[1]}"


def train_text(r: dict[str, Any]) -> str:
    """Mean training-monitor accuracy of a phase row's two sides: `e2e / 1-step`."""
    t = r.get("train") or {}
    return " / ".join(pct(t[k]["mean"]) if t.get(k) else "—" for k in ("end_to_end", "one_step"))


def _cell_lines(r: dict[str, Any]) -> list[str]:
    return [
        f"e2e {_short_iv(r['end_to_end'])} · {_k(r['end_to_end_learned'])}",
        f"1-step {_short_iv(r['one_step'])} · {_k(r['one_step_learned'])}",
        SHORT.get(r["phase"] or "", "no data"),
    ]


def _phase_figure(
    rows: list[dict[str, Any]],
    trav: str,
    plane: tuple[str, str, str],
    canvas: Canvas,
    left_out: set[tuple[Any, ...]],
) -> str | None:
    name, field, label = plane
    mine = [r for r in rows if r["traversal"] == trav and name in r["planes"]]
    if not mine:
        return None
    sizes = sorted({r["max_size"] for r in mine})
    levels = sorted({r[field] for r in mine}, key=lambda v: MODEL_ORDER.get(v, v) if field == "model" else v)
    at = {(r["max_size"], r[field]): r for r in mine}
    z: list[list[float | None]] = []
    text: list[list[list[str]]] = []
    for level in levels:
        cells = [at.get((s, level)) for s in sizes]
        z.append([c["end_to_end"]["mean"] if c and c["end_to_end"] else None for c in cells])
        text.append(
            [
                _cell_lines(c) if c else ["left out (see below)" if (s, level) in left_out else "no data"]
                for s, c in zip(sizes, cells, strict=True)
            ]
        )
    depth = {r["max_size"]: r["depth"] for r in mine}
    heat = Heatmap(
        z,
        [f"≤ {s} nodes (depth ≤ {depth[s]['max']})" for s in sizes],
        [str(v) for v in levels],
        "trees in training and the ID test",
        label,
        zmin=0.0,
        zmax=1.0,
        cell_text=text,
        value_label="end-to-end ID accuracy",
    )
    title = f"{trav}: {name} (colour: end-to-end ID accuracy)"
    fig = Figure(f"phase-{trav}-{name}", title, heatmap=heat, height=130 + 90 * len(levels))
    return canvas.figure(fig)


def _phase_table(rows: list[dict[str, Any]]) -> str:
    return table(
        [
            {
                "traversal": r["traversal"],
                "max nodes": r["max_size"],
                "depth (mean / max)": f"{r['depth']['mean']} / {r['depth']['max']}",
                "examples": r["n_train"],
                "model": r["model"],
                "parameters": r.get("params"),
                "end to end ID · seeds ≥ 90%": f"{_iv(r['end_to_end'])} · {_k(r['end_to_end_learned'])}",
                "1-step ID · seeds ≥ 90%": f"{_iv(r['one_step'])} · {_k(r['one_step_learned'])}",
                "train accuracy (e2e / 1-step)": train_text(r),
                "phase": r["phase"] or "no data",
            }
            for r in rows
        ],
        limit=None,
    )


def settings_table(study: dict[str, Any]) -> str:
    """Our settings beside the paper's."""
    rows = [
        {"setting": s["setting"], "ours": s["ours"], "the paper": s["paper"]}
        for s in study.get("settings_vs_paper", [])
    ]
    return table(rows, limit=None)


def boundary_parts(study: dict[str, Any], canvas: Canvas) -> list[Part]:
    """The phase diagram, the phase table with the boundary per traversal, settings, cells."""
    rows = study.get("phases") or []
    figs = []
    for plane in PLANES:
        # Points of this plane left out of the grid on purpose: (size, level), level = the plane's axis.
        left_out = {
            (d["max_size"], d[plane[1]])
            for d in study.get("dropped") or []
            if plane[0] in d.get("planes", [])
        }
        for trav in sorted({r["traversal"] for r in rows}):
            if f := _phase_figure(rows, trav, plane, canvas, left_out):
                figs.append(f)
    legend = note(
        "Each cell: end-to-end (e2e) and 1-step ID accuracy, mean [95% interval] over seeds · seeds at "
        "≥ 90%; then the phase (a side learns when most seeds reach 90%). ◆ marks the paper's claim: "
        "end to end fails while 1-step learns."
    )
    sentences = "".join(
        f"<p><strong>{esc(trav)}</strong>: {esc(text)}</p>"
        for trav, text in (study.get("boundary") or {}).items()
    )
    cells = [
        {
            "task": c["task"],
            "max nodes": c["max_size"],
            "examples": c["n_train"],
            "model": c["model"],
            "seeds": c["seeds"],
            "accuracy ID": _iv(c.get("accuracy_id")),
            "ID per seed": ", ".join(pct(v) for v in (c.get("accuracy_id") or {}).get("values", [])),
            "accuracy OOD": _iv(c.get("accuracy_ood")),
            "train accuracy": _iv(c.get("accuracy_train")),
            "steps": ", ".join(map(str, c.get("steps", []))),
        }
        for c in study["cells"]
    ]
    return [
        ("phases", "Phase diagram", legend + (grid(figs) if figs else note("no phases"))),
        ("boundary", "Phases and the boundary", sentences + _phase_table(rows)),
        ("settings", "Our settings beside the paper's", settings_table(study) + _dropped(study)),
        ("cells", "Cells across seeds", table(cells, limit=None)),
    ]


def _dropped(study: dict[str, Any]) -> str:
    """The points left out of the design, then the cells a `--cells` run did not train."""
    rows = study.get("dropped") or []
    out = ""
    if rows:
        out += "<h3>Left out of the grid</h3>" + table(
            [{"setting": d["setting"], "why": d["reason"]} for d in rows], limit=None
        )
    if left := study.get("cells_left_out"):
        why = f"not selected by --cells {study.get('only_cells')!r}"
        out += f"<h3>Cells not run ({len(left)})</h3>" + table(
            [{"cell": k, "why": why} for k in left], limit=None
        )
    return out


def _arch_figure(rows: list[dict[str, Any]], task: str, canvas: Canvas) -> str:
    mine = [r for r in rows if r["task"] == task]
    kinds = [r["kind"] for r in mine]
    series = []
    for key, name in (("accuracy_id", "ID"), ("accuracy_ood", "OOD")):
        ivs = [r[key] for r in mine]
        series.append(
            Series(
                name,
                kinds,
                [i["mean"] if i else None for i in ivs],
                kind="bar",
                dashed=key == "accuracy_ood",
                lo=[i["lo"] if i else None for i in ivs],
                hi=[i["hi"] if i else None for i in ivs],
                hover=[
                    f"lr {r['lr']:g}, n={i['n'] if i else 0} seeds" for r, i in zip(mine, ivs, strict=True)
                ],
            )
        )
    fig = Figure(
        f"arch-{task}", f"{task} (tuned lr per kind)", "model kind", "exact match (mean over seeds)", series
    )
    fig.categorical_x, fig.y_range, fig.wide = True, (0.0, 1.02), False
    return canvas.figure(fig)


def architecture_parts(study: dict[str, Any], canvas: Canvas) -> list[Part]:
    """The kinds at their tuned rates (table and bars), settings, every cell."""
    rows = study.get("comparison") or []
    tuned = table(
        [
            {
                "task": r["task"],
                "kind": r["kind"],
                "tuned lr": f"{r['lr']:g}",
                "parameters": r.get("params"),
                "accuracy val": _iv(r["val"]),
                "accuracy ID": _iv(r["accuracy_id"]),
                "accuracy OOD": _iv(r["accuracy_ood"]),
                "failures predicted (median / worst)": f"{pct(r['fp_median'])} / {pct(r['fp_worst'])}",
                "encoder-decoder is": r["encoder_decoder_is"] or "—",
            }
            for r in rows
        ],
        limit=None,
    )
    figs = [_arch_figure(rows, task, canvas) for task in dict.fromkeys(r["task"] for r in rows)]
    cells = [
        {
            "task": c["task"],
            "kind": c["kind"],
            "lr": f"{c['lr']:g}",
            "seeds": c["seeds"],
            "accuracy val": _iv((c.get("accuracy_by_split") or {}).get("val")),
            "accuracy ID": _iv(c.get("accuracy_id")),
            "accuracy OOD": _iv(c.get("accuracy_ood")),
            "failures predicted (median / worst)": f"{pct((c.get('metamodels') or {}).get('median'))} / "
            f"{pct((c.get('metamodels') or {}).get('worst'))}",
        }
        for c in study["cells"]
    ]
    return [
        ("tuned", "Architectures at their tuned learning rates", tuned + (grid(figs) if figs else "")),
        ("settings", "Our settings beside the paper's", settings_table(study) + _dropped(study)),
        ("cells", "Cells across seeds (every learning rate)", table(cells, limit=None)),
    ]
