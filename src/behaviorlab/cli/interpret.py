"""`behaviorlab interpret …`: thin verbs over behaviorlab.interpret; results go to RUN_DIR/analysis/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from behaviorlab.cli._common import handles_bad_input
from behaviorlab.rundir import ABLATION, ANALYSIS, ATTENTION, PATCHING, PERTURBATION

app = typer.Typer(
    help="Attention maps, head scores, perturbation, ablation and patching of a trained run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RunArg = Annotated[Path, typer.Argument(help="A run directory written by `train`.")]
SplitOpt = Annotated[str, typer.Option(help="Data split to analyse.")]
NOpt = Annotated[int, typer.Option("-n", help="How many examples of the split.")]


def _open(run_dir: Path) -> Any:
    import torch

    from behaviorlab.interpret.notebook import open_run

    torch.set_num_threads(1)  # tiny models: one thread is faster on shared CPUs
    return open_run(run_dir)


def _emit(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))


@app.command("cache", help="Cache activations (globs) to analysis/cache.safetensors + summary.")
@handles_bad_input
def cache_cmd(
    run_dir: RunArg,
    names: Annotated[list[str] | None, typer.Option("--name", help="Hook glob(s).")] = None,
    split: SplitOpt = "test_id",
    n: NOpt = 8,
    generate: Annotated[bool, typer.Option(help="Cache during generation.")] = False,
) -> None:
    """Cache activations."""
    c = _open(run_dir).cache(names or ["*"], split, n, generate=generate, save=True)
    _emit(c.summary())


@app.command("attention", help="Average attention maps per head (grouped) to analysis/attention.json.")
@handles_bad_input
def attention_cmd(
    run_dir: RunArg,
    group_by: Annotated[str | None, typer.Option(help="Metadata field to group by.")] = None,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
) -> None:
    """Attention maps."""
    maps = _open(run_dir).attention(group_by=group_by, split=split, n=n, save=True)
    _emit({"maps": len(maps), "file": str(run_dir / ANALYSIS / ATTENTION)})


@app.command("heads", help="Score heads against hypotheses; flag recursion heads (head_scores.json).")
@handles_bad_input
def heads_cmd(
    run_dir: RunArg,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    top: Annotated[int, typer.Option(help="Heads shown per hypothesis.")] = 3,
) -> None:
    """Head scores."""
    from behaviorlab.interpret.scores import recursion_heads, top_heads

    r = _open(run_dir)
    rows = r.head_scores(split=split, n=n, save=True)
    hyps = list(dict.fromkeys(x["hypothesis"] for x in rows))
    _emit(
        {"recursion_heads": recursion_heads(rows, r.model), "top": {h: top_heads(rows, h, top) for h in hyps}}
    )


@app.command("perturb", help="Random insert/remove/flip edits during generation (perturbation.json).")
@handles_bad_input
def perturb_cmd(
    run_dir: RunArg,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    per_input: Annotated[int, typer.Option(help="Edits per input.")] = 4,
    seed: int = 0,
) -> None:
    """Perturbation summary."""
    from behaviorlab.interpret.perturb import summarize

    r = _open(run_dir)
    summary = summarize(r.perturb(n_random=per_input, split=split, n=n, seed=seed))
    r.save(PERTURBATION, summary)
    _emit(summary)


@app.command("ablate", help="Zero/mean/resample-ablate every head and MLP; accuracy drops (ablation.json).")
@handles_bad_input
def ablate_cmd(
    run_dir: RunArg,
    method: Annotated[str, typer.Option(help="zero|mean|resample")] = "zero",
    split: SplitOpt = "test_id",
    n: NOpt = 200,
) -> None:
    """Ablation table."""
    r = _open(run_dir)
    rows = r.ablate(method=method, split=split, n=n)
    r.save(ABLATION, rows)
    _emit(rows)


@app.command("patch", help="Clean→corrupted patching of every head per step (analysis/patching.json).")
@handles_bad_input
def patch_cmd(
    run_dir: RunArg,
    mode: Annotated[str, typer.Option(help="teacher|generate")] = "teacher",
    split: SplitOpt = "test_id",
    n: NOpt = 100,
) -> None:
    """Patching table."""
    r = _open(run_dir)
    rows = r.patch(mode=mode, split=split, n=n)
    r.save(PATCHING, rows)
    _emit([x for x in rows if x["step"] == -1] or rows[:20])


@app.command("analyze", help="Everything the demo shows: maps, head scores, ablation check, perturbation.")
@handles_bad_input
def analyze_cmd(
    run_dir: RunArg, quick: Annotated[bool, typer.Option(help="Fewer inputs and draws.")] = False
) -> None:
    """Demo analysis."""
    from behaviorlab.interpret.findings import head_findings

    _emit(head_findings(run_dir, quick=quick))
