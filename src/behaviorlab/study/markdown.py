"""STUDY.md: the claims table next to the study's statements, then one row per cell."""

from __future__ import annotations

from typing import Any


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _iv(i: dict[str, Any] | None) -> str:
    return "—" if not i else f"{_pct(i['mean'])} [{_pct(i['lo'])}, {_pct(i['hi'])}]"


def _heads(c: dict[str, Any]) -> str:
    t, h = c.get("tree_heads"), c.get("heads") or {}
    if t:
        return f"{t['seeds_confirmed']}/{t['n']} (tree)"
    return f"{h.get('seeds_with_recursion_head', '—')}/{h.get('n', '—')}"


def _cell_row(c: dict[str, Any]) -> str:
    m = c.get("metamodels") or {}
    shortcuts = sorted(set((m.get("programs") or {}).values()))
    return (
        f"| {c['task']} | {c['lr']:g} | {c['pos']} | {c['seeds']} | {_iv(c.get('accuracy_id'))} | "
        f"{_iv(c.get('accuracy_ood'))} | {_pct(m.get('median'))} / {_pct(m.get('worst'))} | "
        f"{', '.join(shortcuts) or '—'} | "
        f"{_heads(c)} |"
    )


def render_markdown(study: dict[str, Any]) -> str:
    """The study as Markdown (claims first, then the grid)."""
    mode = "quick" if study["quick"] else "full"
    lines = [
        "# The recursion study",
        "",
        f"{mode} grid, seeds {study['seeds']}, {study['seconds']} s; 95% t intervals over seeds.",
        "",
        "## Claims",
        "",
        "| claim | the study says | our test | verdict | numbers |",
        "|---|---|---|---|---|",
    ]
    for c in study["claims"]:
        lines.append(
            f"| {c['claim']} | {c['statement']} | {c['test']} | **{c['verdict']}** | {c['numbers'] or '—'} |"
        )
    lines += [
        "",
        "## Cells",
        "",
        "| task | lr | positions | seeds | accuracy ID | accuracy OOD | failures predicted (median / worst) "
        "| shortcuts | heads confirmed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [_cell_row(c) for c in study["cells"]]
    failed = [f for c in study["cells"] for f in c.get("failed", [])]
    if failed:
        lines += ["", "## Failed runs", "", *[f"- {f}" for f in failed]]
    return "\n".join(lines) + "\n"
