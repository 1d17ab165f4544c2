"""`behaviorlab interpret …`: thin verbs over behaviorlab.interpret; results go to RUN_DIR/analysis/
as JSON, and the terminal gets a short table of the main rows and the file's path (--format json
prints the full JSON instead)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from behaviorlab.cli._common import FormatOpt, console, count, handles_bad_input, output_format, seed_option
from behaviorlab.cli.runs import table
from behaviorlab.rundir import (
    ABLATION,
    ANALYSIS,
    ATTENTION,
    CACHE_SUMMARY,
    HEAD_SCORES,
    PATCHING,
    PERTURBATION,
)

app = typer.Typer(
    help="Attention maps, head scores, perturbation, ablation and patching of a trained run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RunArg = Annotated[Path, typer.Argument(help="A run directory written by `train`.")]
SplitOpt = Annotated[str, typer.Option(help="Data split to analyse.")]
NOpt = Annotated[int, count("-n", "--n", help="How many examples of the split.")]
SHOWN = 12  # rows of a table printed to the terminal; the file has them all


def _open(run_dir: Path) -> Any:
    import torch

    from behaviorlab.interpret.notebook import open_run

    torch.set_num_threads(1)  # tiny models: one thread is faster on shared CPUs
    return open_run(run_dir)


def _emit(obj: Any, fmt: str, title: str, rows: list[dict[str, Any]], cols: list[str], path: Path) -> None:
    """--format json: `obj` as JSON; text: the first SHOWN `rows` as a table and where the file is."""
    if output_format(fmt) == "json":
        typer.echo(json.dumps(obj, indent=2, default=str))
        return
    more = f" (first {SHOWN} of {len(rows)})" if len(rows) > SHOWN else ""
    console.print(table(title + more, cols, [[r.get(c) for c in cols] for r in rows[:SHOWN]]))
    console.print(f"-> {path}")


@app.command("cache", help="Cache activations (globs) to analysis/cache.safetensors + summary.")
@handles_bad_input
def cache_cmd(
    run_dir: RunArg,
    names: Annotated[
        list[str] | None, typer.Option("--name", help="Hook glob(s) (repeatable; default: every hook).")
    ] = None,
    split: SplitOpt = "test_id",
    n: NOpt = 8,
    generate: Annotated[bool, typer.Option(help="Cache during generation.")] = False,
    fmt: FormatOpt = "text",
) -> None:
    """Cache activations."""
    c = _open(run_dir).cache(names or ["*"], split, n, generate=generate, save=True)
    rows = c.summary()
    cols = ["name", "shape", "mean", "std", "mean_abs"]
    _emit(rows, fmt, f"{len(rows)} cached tensors", rows, cols, run_dir / ANALYSIS / CACHE_SUMMARY)


@app.command("attention", help="Average attention maps per head (grouped) to analysis/attention.json.")
@handles_bad_input
def attention_cmd(
    run_dir: RunArg,
    group_by: Annotated[
        str | None, typer.Option(help="Metadata field to group by (default: none, one map per head).")
    ] = None,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    fmt: FormatOpt = "text",
) -> None:
    """Attention maps."""
    maps = _open(run_dir).attention(group_by=group_by, split=split, n=n, save=True)
    path = run_dir / ANALYSIS / ATTENTION
    counts: dict[tuple[str, str], int] = {}
    for m in maps:
        counts[(m.kind, m.group)] = counts.get((m.kind, m.group), 0) + 1
    rows = [{"kind": k, "group": g, "maps": c} for (k, g), c in counts.items()]
    _emit(
        {"maps": len(maps), "file": str(path)},
        fmt,
        f"{len(maps)} attention maps",
        rows,
        ["kind", "group", "maps"],
        path,
    )


@app.command("heads", help="Score heads against hypotheses; flag recursion heads (head_scores.json).")
@handles_bad_input
def heads_cmd(
    run_dir: RunArg,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    top: Annotated[int, count("--top", help="Heads shown per hypothesis.")] = 3,
    fmt: FormatOpt = "text",
) -> None:
    """Head scores."""
    from behaviorlab.interpret.scores import recursion_heads, top_heads

    r = _open(run_dir)
    rows = r.head_scores(split=split, n=n, save=True)
    hyps = list(dict.fromkeys(x["hypothesis"] for x in rows))
    found = recursion_heads(rows, r.model)
    best = {h: top_heads(rows, h, top) for h in hyps}
    flagged = {(x["kind"], x["layer"], x["head"], x["hypothesis"]) for x in found}
    shown = [
        {**x, "recursion head": "yes" if (x["kind"], x["layer"], x["head"], h) in flagged else ""}
        for h in hyps
        for x in best[h][:1]  # the best head per hypothesis; --format json for the top `top`
    ]
    cols = ["hypothesis", "kind", "layer", "head", "score", "baseline", "recursion head"]
    title = f"best head per hypothesis ({len(found)} recursion heads)"
    _emit({"recursion_heads": found, "top": best}, fmt, title, shown, cols, run_dir / ANALYSIS / HEAD_SCORES)


@app.command("perturb", help="Random insert/remove/flip edits during generation (perturbation.json).")
@handles_bad_input
def perturb_cmd(
    run_dir: RunArg,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    per_input: Annotated[int, count("--per-input", help="Edits per input.")] = 4,
    seed: Annotated[int, seed_option("Seed of the random edits.")] = 0,
    fmt: FormatOpt = "text",
) -> None:
    """Perturbation summary."""
    from behaviorlab.interpret.perturb import summarize

    r = _open(run_dir)
    summary = summarize(r.perturb(n_random=per_input, split=split, n=n, seed=seed))
    path = r.save(PERTURBATION, summary)
    cols = ["op", "n", "changed_rate", "follows_edit_rate", "correct_rate"]
    _emit(summary, fmt, "perturbation by edit", summary, cols, path)


@app.command("ablate", help="Zero/mean/resample-ablate every head and MLP; accuracy drops (ablation.json).")
@handles_bad_input
def ablate_cmd(
    run_dir: RunArg,
    method: Annotated[str, typer.Option(help="zero|mean|resample")] = "zero",
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    fmt: FormatOpt = "text",
) -> None:
    """Ablation table."""
    r = _open(run_dir)
    rows = r.ablate(method=method, split=split, n=n)
    path = r.save(ABLATION, rows)
    worst = sorted(rows, key=lambda x: -x["drop"])
    cols = ["component", "method", "accuracy", "base_accuracy", "drop"]
    _emit(rows, fmt, "components by accuracy drop", worst, cols, path)


@app.command("patch", help="Clean→corrupted patching of every head per step (analysis/patching.json).")
@handles_bad_input
def patch_cmd(
    run_dir: RunArg,
    mode: Annotated[str, typer.Option(help="teacher|generate")] = "teacher",
    split: SplitOpt = "test_id",
    n: NOpt = 100,
    fmt: FormatOpt = "text",
) -> None:
    """Patching table."""
    r = _open(run_dir)
    rows = r.patch(mode=mode, split=split, n=n)
    path = r.save(PATCHING, rows)
    overall = [x for x in rows if x["step"] == -1] or rows  # -1: every step together
    best = sorted(overall, key=lambda x: -(x["recovered"] if x["recovered"] == x["recovered"] else -1e9))
    cols = ["component", "step", "recovered", "clean_diff", "corrupted_diff", "n"]
    _emit(rows, fmt, "components by logit difference recovered", best, cols, path)


def _random(abl: dict[str, Any]) -> str | None:
    """The random draws' drops as their median, range and the rank p-value (never their mean)."""
    if abl.get("random_median") is None:
        return None
    return (
        f"{abl['random_median']:.3g} [{abl['random_low']:.3g}, {abl['random_high']:.3g}] "
        f"over {abl['n_random']} draws; rank p = {abl['p_value']:.2g}"
    )


@app.command("analyze", help="Everything the demo shows: maps, head scores, ablation check, perturbation.")
@handles_bad_input
def analyze_cmd(
    run_dir: RunArg,
    quick: Annotated[bool, typer.Option(help="Fewer inputs and draws.")] = False,
    fmt: FormatOpt = "text",
) -> None:
    """Demo analysis."""
    from behaviorlab.interpret.findings import head_findings

    found = head_findings(run_dir, quick=quick)
    abl = found.get("ablation_drop") or {}
    rows: list[dict[str, Any]] = [
        {"finding": "recursion heads (top)", "value": ", ".join(
            f"{h['kind']}.{h['layer']}.{h['head']}{' ✓' if h.get('flagged') else ''}"
            for h in found["recursion_heads"][:3]) or "—"},
        {"finding": "ablation drop: found heads", "value": abl.get("found_heads")},
        {"finding": "ablation drop: random heads (median, range)", "value": _random(abl)},
        *({"finding": f"perturbation {op}: changed", "value": p["changed_rate"]}
          for op, p in found["perturbation"].items()),
        {"finding": "attention maps", "value": found["attention_maps"]},
    ]  # fmt: skip
    _emit(found, fmt, f"analysis of {run_dir}", rows, ["finding", "value"], run_dir / ANALYSIS)
