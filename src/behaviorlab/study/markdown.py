"""STUDY.md: what the study cost, the claims table next to the study's statements, the tables the
study adds (phases, tuned architectures, settings beside the paper's), then one row per cell."""

from __future__ import annotations

from typing import Any

from behaviorlab.report.study_extra import cost_note, train_text


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _iv(i: dict[str, Any] | None) -> str:
    return "—" if not i else f"{_pct(i['mean'])} [{_pct(i['lo'])}, {_pct(i['hi'])}]"


def _seeds(i: dict[str, Any] | None) -> str:
    return "—" if not i else ", ".join(_pct(v) for v in i["values"])


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]


def _heads(c: dict[str, Any]) -> str:
    t, h = c.get("tree_heads"), c.get("heads") or {}
    if t:
        return f"{t['seeds_confirmed']}/{t['n']} (tree)"
    return f"{h.get('seeds_with_recursion_head', '—')}/{h.get('n', '—')}"


def _metamodel(c: dict[str, Any]) -> tuple[str, str]:
    m = c.get("metamodels") or {}
    shortcuts = sorted(set((m.get("programs") or {}).values()))
    return f"{_pct(m.get('median'))} / {_pct(m.get('worst'))}", ", ".join(shortcuts) or "—"


def _recursion_cells(cells: list[dict[str, Any]]) -> list[str]:
    header = ["task", "lr", "positions", "seeds", "accuracy ID", "accuracy OOD"]
    header += ["failures predicted (median / worst)", "shortcuts", "heads confirmed"]
    rows = [
        [c["task"], f"{c['lr']:g}", c["pos"], c["seeds"], _iv(c.get("accuracy_id"))]
        + [_iv(c.get("accuracy_ood")), *_metamodel(c), _heads(c)]
        for c in cells
    ]
    return _table(header, rows)


def _boundary_cells(cells: list[dict[str, Any]]) -> list[str]:
    header = ["task", "max nodes", "examples", "model", "seeds", "accuracy ID", "ID per seed"]
    header += ["accuracy OOD", "train accuracy", "steps"]
    rows = [
        [c["task"], c["max_size"], c["n_train"], c["model"], c["seeds"], _iv(c.get("accuracy_id"))]
        + [_seeds(c.get("accuracy_id")), _iv(c.get("accuracy_ood")), _iv(c.get("accuracy_train"))]
        + [", ".join(map(str, c.get("steps", [])))]
        for c in cells
    ]
    return _table(header, rows)


def _arch_cells(cells: list[dict[str, Any]]) -> list[str]:
    header = ["task", "kind", "lr", "parameters", "seeds", "accuracy val", "accuracy ID", "accuracy OOD"]
    header += ["failures predicted (median / worst)", "shortcuts"]
    rows = [
        [c["task"], c["kind"], f"{c['lr']:g}", c.get("params", "—"), c["seeds"]]
        + [_iv((c.get("accuracy_by_split") or {}).get("val")), _iv(c.get("accuracy_id"))]
        + [_iv(c.get("accuracy_ood")), *_metamodel(c)]
        for c in cells
    ]
    return _table(header, rows)


def _learned(k: list[int] | None) -> str:
    return "—" if not k else f"{k[0]}/{k[1]}"


def phase_table_md(study: dict[str, Any]) -> list[str]:
    """Every setting of the tree-boundary study: both sides with seed spread, and its phase."""
    header = ["traversal", "max nodes", "depth (mean / max)", "examples", "model", "planes"]
    header += ["end to end ID", "seeds ≥ 90%", "1-step ID", "seeds ≥ 90%", "train (e2e / 1-step)", "phase"]
    rows = [
        [
            r["traversal"],
            r["max_size"],
            f"{r['depth']['mean']} / {r['depth']['max']}",
            r["n_train"],
            r["model"],
        ]
        + [", ".join(r["planes"]), _iv(r["end_to_end"]), _learned(r["end_to_end_learned"])]
        + [
            _iv(r["one_step"]),
            _learned(r["one_step_learned"]),
            train_text(r),
            f"**{r['phase'] or 'no data'}**",
        ]
        for r in study["phases"]
    ]
    note = "A seed learns at ≥ 90% exact match in distribution; a phase needs most seeds."
    return [note, "", *_table(header, rows)]


def boundary_md(study: dict[str, Any]) -> list[str]:
    """The boundary per traversal, one bullet each."""
    return [f"- **{trav}**: {text}" for trav, text in (study.get("boundary") or {}).items()]


def phases_md(study: dict[str, Any], h: str = "##") -> list[str]:
    """The phase table and the boundary per traversal (tree-boundary), under `h` headings."""
    return [f"{h} Phases", "", *phase_table_md(study), "", f"{h} The boundary", "", *boundary_md(study)]


def comparison_md(study: dict[str, Any], h: str = "##") -> list[str]:
    """Each task and kind at its tuned rate (architectures), under an `h` heading."""
    header = ["task", "kind", "tuned lr", "parameters", "accuracy val", "accuracy ID", "accuracy OOD"]
    header += ["failures predicted (median / worst)", "encoder-decoder is"]
    rows = [
        [r["task"], r["kind"], f"{r['lr']:g}", r["params"] or "—", _iv(r["val"]), _iv(r["accuracy_id"])]
        + [_iv(r["accuracy_ood"]), f"{_pct(r['fp_median'])} / {_pct(r['fp_worst'])}"]
        + [r["encoder_decoder_is"] or "—"]
        for r in study["comparison"]
    ]
    return [f"{h} At the tuned learning rates", "", *_table(header, rows)]


def settings_md(study: dict[str, Any], h: str = "##") -> list[str]:
    """Our settings beside the paper's, then the points left out of the grid and why."""
    rows = [[s["setting"], s["ours"], s["paper"]] for s in study.get("settings_vs_paper", [])]
    lines = []
    if rows:
        lines += [
            f"{h} Our settings beside the paper's",
            "",
            *_table(["setting", "ours", "the paper"], rows),
            "",
        ]
    if study.get("dropped"):
        lines += [
            f"{h} Left out of the grid",
            "",
            *[f"- {d['setting']}: {d['reason']}" for d in study["dropped"]],
            "",
        ]
    if left := study.get("cells_left_out"):
        lines += [
            f"{h} Cells not run (--cells {study.get('only_cells')!r})",
            "",
            f"{len(left)} of the grid's cells were left out of this run: "
            + ", ".join(f"`{k}`" for k in left),
            "",
        ]
    return lines


def claims_md(study: dict[str, Any], with_test: bool = True) -> list[str]:
    """The claims table: what the study says, our test, the verdict and the numbers."""
    header = ["claim", "the study says", "our test", "verdict", "numbers"]
    rows = [
        [c["claim"], c["statement"], c["test"], f"**{c['verdict']}**", c["numbers"] or "—"]
        for c in study["claims"]
    ]
    if not with_test:
        header, rows = [header[1], *header[3:]], [[r[1], *r[3:]] for r in rows]
    return _table(header, rows)


def render_markdown(study: dict[str, Any]) -> str:
    """The study as Markdown (claims first, then what the study adds, then the grid)."""
    name = study.get("study", "recursion")
    lines = [
        f"# The {study.get('title', 'recursion study')}",
        "",
        f"{cost_note(study)} 95% t intervals over seeds.",
        "",
        *(
            [
                f"Command: `{study['command']}` (add `--resume` to re-read the finished runs with the "
                "installed code).",
                "",
            ]
            if study.get("command")
            else []
        ),
        "## Claims",
        "",
        *claims_md(study),
        "",
    ]
    if name == "tree-boundary":
        lines += [*phases_md(study), ""]
    if name == "architectures":
        lines += [*comparison_md(study), ""]
    lines += settings_md(study)
    cells = {"tree-boundary": _boundary_cells, "architectures": _arch_cells}.get(name, _recursion_cells)
    lines += ["## Cells", "", *cells(study["cells"])]
    failed = [f for c in study["cells"] for f in c.get("failed", [])]
    if failed:
        lines += ["", "## Failed runs", "", *[f"- {f}" for f in failed]]
    return "\n".join(lines) + "\n"
