"""RESULTS.md's sections on the tree-boundary and architectures studies, written from finished
study folders (their study.json), and the recursion claims table's "atomic vs end to end" row
restated with the boundary. Run it after a study finishes (or is re-read with --resume):

    python -m behaviorlab.study.results_md RESULTS.md --tree-boundary DIR --architectures DIR

Each section sits between markers and is replaced on every run; the row keeps its measured text
from the recursion grid and gets the boundary appended."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_text
from behaviorlab.report.study_extra import cost_note
from behaviorlab.rundir import STUDY, read_json_object
from behaviorlab.study.markdown import boundary_md, claims_md, comparison_md, phase_table_md, settings_md
from behaviorlab.study.sessions import command

TITLES = {
    "tree-boundary": "5. Where end to end fails and 1-step learns: the tree-boundary study",
    "architectures": "6. The architecture axis: the architectures study",
}
ATOMIC_ROW = "| Atomic reduction steps are learned; end-to-end tree traversal is not. |"
ATOMIC_MARK = "<!-- study:tree-boundary:atomic -->"
BOUNDARY_LEAD = " Tree-boundary study (§5):"
MODELS = ["small", "medium", "large"]


def read_study(folder: Path, name: str) -> dict[str, Any]:
    """A finished study's study.json, checked to be the study named."""
    study = read_json_object(folder / STUDY)
    if study.get("study") != name:
        raise BadInput(f"{folder / STUDY}: holds the {study.get('study', 'recursion')} study, not {name}")
    return study


def cost_line(study: dict[str, Any]) -> str:
    """What STUDY.md says the study cost (wall time over sessions, CPU seconds, load), and failures."""
    failed = sum(1 for r in study.get("runs", []) if r.get("error"))
    tail = f" {failed} runs failed (listed in STUDY.md)." if failed else ""
    return f"Cost: {cost_note(study)}{tail}"


def _command(study: dict[str, Any]) -> str:
    name = study["study"]
    seeds = tuple(int(s) for s in study.get("seeds", (0, 1, 2)))
    return command(
        name,
        Path("runs") / name,
        bool(study.get("quick")),
        seeds,
        study.get("backend") or "local",
        study.get("only_cells"),
    )


def _provenance(study: dict[str, Any]) -> str:
    name = study["study"]
    return (
        f"(Written from `runs/{name}/study.json` by `python -m behaviorlab.study.results_md RESULTS.md "
        f"--{name} runs/{name}`; STUDY.md and report.html in that folder hold every cell.)"
    )


def _runs(study: dict[str, Any]) -> int:
    """Runs in the grid (failed ones too): every cell's seeds."""
    return sum(int(c.get("seeds") or 0) for c in study.get("cells") or [])


def boundary_section(study: dict[str, Any]) -> list[str]:
    """The tree-boundary study's section: command, cost, grid, boundary, claims, phases, settings."""
    rows = study.get("phases") or []
    settings = {(r["max_size"], r["n_train"], r["model"]) for r in rows}
    models = sorted({r["model"] for r in rows}, key=lambda m: MODELS.index(m) if m in MODELS else 9)
    return [
        "```bash",
        f"{_command(study)}   # {len(settings)} settings × 2 traversals × end to end / 1 step × "
        f"{len(study.get('seeds', []))} seeds = {_runs(study)} runs",
        "```",
        "",
        cost_line(study),
        "",
        "The recursion grid (§1) saw end-to-end traversal learn where the paper says it fails. This grid "
        "moves what could explain that — tree size and with it depth ("
        + ", ".join(f"≤ {s} nodes" for s in sorted({r["max_size"] for r in rows}))
        + "), training examples ("
        + ", ".join(map(str, sorted({r["n_train"] for r in rows})))
        + ") and model size ("
        + ", ".join(models)
        + ") — in two planes through the recursion study's setting, with one learning rate and one budget "
        "for every cell (settings below). A side learns in a setting when most seeds reach 90% exact match "
        "in distribution. The study's report draws the phase diagram: every setting with both sides' "
        "mean, 95% interval over seeds and the seeds that reached 90%. " + _provenance(study),
        "",
        "### The boundary",
        "",
        *boundary_md(study),
        "",
        "### Claims",
        "",
        *claims_md(study),
        "",
        "### Phases",
        "",
        *phase_table_md(study),
        "",
        *settings_md(study, h="###"),
    ]


def architectures_section(study: dict[str, Any]) -> list[str]:
    """The architectures study's section: command, cost, the rule, claims, the tuned table, settings."""
    cells = study.get("cells") or []
    tasks = list(dict.fromkeys(c["task"] for c in cells))
    kinds = list(dict.fromkeys(c["kind"] for c in cells))
    rates = sorted({c["lr"] for c in cells})
    lrs = f"{len(rates)} learning rate{'' if len(rates) == 1 else 's'}"
    return [
        "```bash",
        f"{_command(study)}   # {len(tasks)} tasks × {len(kinds)} kinds × {lrs} × "
        f"{len(study.get('seeds', []))} seeds = {_runs(study)} runs",
        "```",
        "",
        cost_line(study),
        "",
        "The paper's Appendix E says encoder-only and decoder-only models did worse than encoder-decoders "
        "on these tasks. Here " + ", ".join(tasks) + " are trained with " + ", ".join(kinds) + " models on "
        "the recursion study's data. " + _rule(rates, study) + " Each run is explained (shortcut "
        "program, failure prediction on a fresh check). " + _provenance(study),
        "",
        "### Claims",
        "",
        *claims_md(study),
        "",
        *comparison_md(study, h="###"),
        "",
        *settings_md(study, h="###"),
    ]


def _rule(rates: list[float], study: dict[str, Any]) -> str:
    """The tuning rule as run: several rates and the best on validation, or one rate and no tuning."""
    if len(rates) == 1:
        left = len(study.get("cells_left_out") or [])
        cells = f"{left} cell{'' if left == 1 else 's'}"
        why = f" ({cells} at other rates were left out with `--cells`; listed below)" if left else ""
        return f"One learning rate for every kind, {rates[0]:g}, so no tuning{why}."
    return (
        "One tuning rule for every kind: each learning rate ("
        + ", ".join(f"{lr:g}" for lr in rates)
        + ") is trained for every seed, and the rate with the best mean accuracy on a validation split "
        "drawn like training (never a test split) is the one reported."
    )


def atomic_row(old: str, study: dict[str, Any]) -> str:
    """The recursion claims table's atomic row: its measured text kept, the boundary appended."""
    cells = [c.strip() for c in old.strip().strip("|").split("|")]
    measured = cells[2].replace(ATOMIC_MARK, "").split(BOUNDARY_LEAD, 1)[0].strip()
    verdicts = {c["claim"]: c["verdict"] for c in study["claims"] if c["claim"].startswith("atomic-")}
    held = [v for v in verdicts.values() if v in ("reproduced", "mixed")]
    if not verdicts or all(v == "no data" for v in verdicts.values()):
        verdict = "no data"
    elif not held:
        verdict = "not reproduced in any setting tried"
    elif all(v == "reproduced" for v in verdicts.values()):
        verdict = "reproduced"
    else:
        verdict = "holds only past a boundary"
    where = " ".join(f"{trav}: {text}" for trav, text in (study.get("boundary") or {}).items())
    return f"{ATOMIC_ROW} **{verdict}** | {measured}{BOUNDARY_LEAD} {where} {ATOMIC_MARK} |"


def _replace_block(text: str, name: str, body: list[str]) -> str:
    begin, end = f"<!-- study:{name}:begin -->", f"<!-- study:{name}:end -->"
    block = "\n".join([begin, f"## {TITLES[name]}", "", *body, end])
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def update_results(text: str, boundary: dict[str, Any] | None, architectures: dict[str, Any] | None) -> str:
    """RESULTS.md with the studies' sections written (or rewritten) and the atomic row restated."""
    if boundary is not None:
        text = _replace_block(text, "tree-boundary", boundary_section(boundary))
        lines = text.split("\n")
        at = [i for i, ln in enumerate(lines) if ln.startswith(ATOMIC_ROW)]
        if not at:
            raise BadInput(f"RESULTS.md: no claims-table row starting {ATOMIC_ROW!r}")
        lines[at[0]] = atomic_row(lines[at[0]], boundary)
        text = "\n".join(lines)
    if architectures is not None:
        text = _replace_block(text, "architectures", architectures_section(architectures))
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite RESULTS (in place) from the finished study folders given."""
    parser = argparse.ArgumentParser(prog="python -m behaviorlab.study.results_md", description=__doc__)
    parser.add_argument("results", type=Path, help="RESULTS.md to update in place")
    parser.add_argument("--tree-boundary", type=Path, help="a finished tree-boundary study folder")
    parser.add_argument("--architectures", type=Path, help="a finished architectures study folder")
    args = parser.parse_args(argv)
    try:
        if args.tree_boundary is None and args.architectures is None:
            raise BadInput("give --tree-boundary DIR and/or --architectures DIR")
        boundary = read_study(args.tree_boundary, "tree-boundary") if args.tree_boundary else None
        arch = read_study(args.architectures, "architectures") if args.architectures else None
        text = update_results(args.results.read_text(encoding="utf-8"), boundary, arch)
    except (BadInput, OSError) as e:
        message = e.one_line() if isinstance(e, BadInput) else f"{e.filename or args.results}: {e.strerror}"
        sys.stderr.write(f"error: {message}\n")
        return 2
    atomic_write_text(args.results, text)
    print(f"updated {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
