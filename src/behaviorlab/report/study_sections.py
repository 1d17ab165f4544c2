"""The page of a study folder (study.json): what it cost, the claims table next to the study's
statements, what the study adds (the tree-boundary phase diagram, the architectures at their
tuned rates, our settings beside the paper's), the cells with intervals over seeds, and accuracy
curves by length / size with error bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behaviorlab.report.canvas import Canvas, grid
from behaviorlab.report.figures import Figure, Series
from behaviorlab.report.html import esc, note, pct, section, table
from behaviorlab.report.study_extra import architecture_parts, boundary_parts, command_note, cost_note

# Reuses the status colours: green, red, amber; grey for claims the grid could not test.
VERDICT_CLASS = {"reproduced": "complete", "not reproduced": "failed", "mixed": "running", "no data": "none"}


def _iv(i: dict[str, Any] | None) -> str:
    return "—" if not i else f"{pct(i['mean'])} [{pct(i['lo'])}, {pct(i['hi'])}]"


def claims_table(study: dict[str, Any]) -> str:
    """One row per claim, its verdict highlighted."""
    rows = [
        {
            "claim": esc(c["statement"]),
            "our test": esc(c["test"]),
            "verdict": f'<span class="status status-{VERDICT_CLASS.get(c["verdict"], "muted")}">'
            f"{esc(c['verdict'])}</span>",
            "numbers": esc(c["numbers"] or "—"),
        }
        for c in study["claims"]
    ]
    return table(rows, limit=None, raw=("claim", "our test", "verdict", "numbers"))


def _heads_cell(c: dict[str, Any]) -> str:
    """Binary: seeds with a final-layer recursion head; trees: seeds whose top heads are confirmed."""
    t = c.get("tree_heads")
    if t:
        return f"{t['seeds_confirmed']}/{t['n']} (tree)"
    h = c.get("heads") or {}
    return f"{h.get('seeds_with_recursion_head', '—')}/{h.get('n', '—')}"


def cells_table(study: dict[str, Any]) -> str:
    """One row per cell: accuracies with intervals over seeds, metamodels, heads."""
    rows = []
    for c in study["cells"]:
        m = c.get("metamodels") or {}
        rows.append(
            {
                "task": c["task"],
                "lr": f"{c['lr']:g}",
                "positions": c["pos"],
                "seeds": c["seeds"],
                "accuracy ID": _iv(c.get("accuracy_id")),
                "accuracy OOD": _iv(c.get("accuracy_ood")),
                "failures predicted (median / worst)": f"{pct(m.get('median'))} / {pct(m.get('worst'))}",
                "shortcuts": ", ".join(sorted(set((m.get("programs") or {}).values()))) or "—",
                "heads confirmed": _heads_cell(c),
                "failed": len(c.get("failed", [])),
            }
        )
    return table(rows, limit=None)


def _curve_figure(c: dict[str, Any], field: str, canvas: Canvas) -> str | None:
    series = []
    for split in ("test_id", "test_ood"):
        points = (c.get("curves") or {}).get(f"{split}:{field}")
        if not points:
            continue
        xs = [int(k) for k in points]
        ivs = [points[k] for k in points]
        series.append(
            Series(
                f"{split} (OOD)" if split == "test_ood" else split,
                xs,
                [i["mean"] if i else None for i in ivs],
                dashed=split == "test_ood",
                lo=[i["lo"] if i else None for i in ivs],
                hi=[i["hi"] if i else None for i in ivs],
                hover=[f"n={i['n']} seeds" if i else "" for i in ivs],
            )
        )
    if not series:
        return None
    title = f"{c['task']} · lr {c['lr']:g} · {c['pos']}"
    fig = Figure(f"{c['cell']}-{field}", title, field, "exact match (mean over seeds)", series)
    fig.integer_x, fig.y_range, fig.wide = True, (-0.02, 1.02), False
    return canvas.figure(fig)


def study_page(path: Path, study: dict[str, Any], canvas: Canvas) -> tuple[list[tuple[str, str]], str]:
    """(table of contents, body) of a study folder's page."""
    name = study.get("study", "recursion")
    intro = note(cost_note(study) + " Intervals are 95% t intervals over seeds; error bars likewise.")
    intro += command_note(study)
    parts = [("claims", "Claims of the study", intro + claims_table(study))]
    if name == "tree-boundary":
        parts += boundary_parts(study, canvas)
    elif name == "architectures":
        parts += architecture_parts(study, canvas)
    else:
        figs = [
            f
            for c in study["cells"]
            for f in [_curve_figure(c, "length" if c["family"] == "binary" else "size", canvas)]
            if f
        ]
        parts += [
            ("cells", "Cells across seeds", cells_table(study)),
            (
                "curves",
                "Accuracy by length (binary) and size (tree)",
                grid(figs) if figs else note("no curves"),
            ),
        ]
    failed = [f for c in study["cells"] for f in c.get("failed", [])]
    if failed:
        parts.append(("failed", "Failed runs", table([{"run": f} for f in failed], limit=None)))
    toc = [(a, t) for a, t, _ in parts]
    return toc, "".join(section(a, t, b) for a, t, b in parts)
