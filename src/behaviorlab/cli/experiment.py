"""CLI verbs for training, evaluation and the demo; each calls one library function."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from behaviorlab.cli._common import (
    console,
    count,
    deprecated,
    handles_bad_input,
    pin_threads,
    real,
    seed_option,
)


@handles_bad_input
def train_cmd(
    config: Annotated[Path, typer.Argument(help="Experiment TOML (see configs/).")],
    out: Annotated[Path, typer.Option("--out", help="Run directory to write.")],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a config value, e.g. optim.lr=3e-4 (repeatable; default: none)."
        ),
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run bit-identically.")] = False,
    force: Annotated[bool, typer.Option(help="Replace an existing run directory (only a run).")] = False,
    evaluate: Annotated[bool, typer.Option(help="Evaluate all test splits when done.")] = True,
    nproc: Annotated[
        int, count("--nproc", help="Processes for data-parallel training (gloo); torchrun sets its own.")
    ] = 1,
    allow_long: Annotated[
        bool, typer.Option(help="Start even when the estimated time exceeds the limit (a week).")
    ] = False,
) -> None:
    """Train a model from a TOML config into a run directory (one process, N, or under torchrun)."""
    from behaviorlab.train import evaluate_run, load_config, train
    from behaviorlab.train.distributed import join_torchrun, train_distributed, under_torchrun

    cfg = load_config(config, set_ or [])
    if under_torchrun():
        summary = join_torchrun(cfg, out, resume=resume, force=force, allow_long=allow_long)
        if os.environ.get("RANK") != "0":
            return  # rank 0 evaluates and records the run
    elif nproc > 1:
        summary = train_distributed(cfg, out, nproc=nproc, resume=resume, force=force, allow_long=allow_long)
    else:
        summary = train(cfg, out, resume=resume, force=force, progress=True, allow_long=allow_long)
    console.print(f"trained {summary['steps']} steps -> {out}")
    if evaluate:
        pin_threads(out)
        _print_eval(evaluate_run(out), limit=5)
    _record(out)


@handles_bad_input
def eval_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `train`.")],
    split: Annotated[
        list[str] | None,
        typer.Option("--split", help="Split(s) to evaluate (repeatable; default: every split but train)."),
    ] = None,
    n: Annotated[int, count("-n", "--n", lo=0, help="How many failures to list.")] = 10,
    failures: Annotated[int | None, count("--failures", lo=0, hidden=True, help="Deprecated: -n.")] = None,
) -> None:
    """Exact match overall and by length/size/depth, ID vs OOD, and the failure catalog."""
    from behaviorlab.train import evaluate_run

    pin_threads(run_dir)
    _print_eval(evaluate_run(run_dir, split or None), limit=deprecated(n, failures, "--failures", "-n"))
    _record(run_dir)


@handles_bad_input
def samples_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A language-model run (e.g. configs/lm-pydocs.toml).")],
    split: Annotated[str, typer.Option(help="Split whose texts give the prompts.")] = "validation",
    n: Annotated[int, count("-n", "--n", help="How many continuations.")] = 4,
    new_tokens: Annotated[int, count("--new-tokens", help="Tokens to write after each prompt.")] = 96,
    temperature: Annotated[float, real("--temperature", lo=0.0, help="0 decodes greedily.")] = 0.8,
    seed: Annotated[int, seed_option("Seed of the sampler.")] = 0,
) -> None:
    """Continue held-out text with a language model; rows go to RUN/analysis/samples.json."""
    from behaviorlab.train.samples import write_samples

    pin_threads(run_dir)
    rows = write_samples(run_dir, split=split, n=n, new_tokens=new_tokens, temperature=temperature, seed=seed)
    for r in rows:
        console.print(f"{r['prompt']!r} -> {r['continuation']!r}")


def _record(run_dir: Path) -> None:
    """Index the run in the catalog beside it (runs list / show / query)."""
    from behaviorlab.store import record

    record(run_dir)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _print_eval(result: dict, limit: int) -> None:
    t = Table(title="exact match")
    for c in ("split", "n", "accuracy", "by length (acc)"):
        t.add_column(c)
    for name, s in result["splits"].items():
        by_len = s["by"].get("length", s["by"].get("size", {}))
        detail = " ".join(f"{k}:{_pct(v['accuracy'])}" for k, v in by_len.items())
        t.add_row(name, str(s["n"]), _pct(s["accuracy"]), detail)
    console.print(t)
    console.print(
        f"in-distribution {_pct(result['accuracy_id'])}, out-of-distribution {_pct(result['accuracy_ood'])}"
    )
    fails = result["failures"]
    if fails and limit > 0:
        f = Table(title=f"failure catalog ({len(fails)} wrong; first {min(limit, len(fails))})")
        for c in ("split", "input", "target", "prediction", "first wrong", "edit dist"):
            f.add_column(c)
        for r in fails[:limit]:
            f.add_row(
                r["split"],
                r["input"],
                r["target"],
                r["prediction"],
                str(r["first_wrong"]),
                str(r["edit_distance"]),
            )
        console.print(f)


@handles_bad_input
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", help="Directory for the demo's runs and summary.")] = Path(
        "runs/demo"
    ),
    quick: Annotated[bool, typer.Option(help="A shorter version (about 2 minutes) used by tests.")] = False,
    force: Annotated[bool, typer.Option(help="Replace an existing output directory.")] = False,
    resume: Annotated[
        bool, typer.Option(help="Continue an interrupted demo; finished runs are kept.")
    ] = False,
    optimizer: Annotated[str, typer.Option(help="adamw, sophia-g or sophia-h.")] = "adamw",
    backend: Annotated[
        str, typer.Option(help="Where the models train: local (process pool) or ray.")
    ] = "local",
) -> None:
    """The main job: train and evaluate the demo models, write DIR/summary.json."""
    from behaviorlab.demo import run_demo

    run_demo(
        out, quick=quick, force=force, resume=resume, optimizer=optimizer, backend=backend, console=console
    )
