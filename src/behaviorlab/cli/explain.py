"""`behaviorlab explain`: the shortcut program behind a trained model, and how well it predicts failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from behaviorlab.cli._common import console, fail, handles_bad_input


@handles_bad_input
def explain_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A trained and evaluated run directory.")],
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    alpha: Annotated[float, typer.Option(help="Weight of H(model | program) in the MDL score.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the fit/held-out split and bootstrap.")] = 0,
    queries: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Extra inputs to ask the model about while fitting (default: 1000; 20 for tree tasks).",
        ),
    ] = None,
) -> None:
    """Search the shortcut program that reproduces the model, and score it; writes analysis/."""
    if format not in ("text", "json"):
        raise fail(f"--format {format!r}: expected text or json")
    from behaviorlab.metamodels.on_run import explain_run

    result = explain_run(run_dir, alpha=alpha, seed=seed, queries=queries)
    if format == "json":
        typer.echo(json.dumps({"program_text": result.program_text, **result.to_json()}, indent=2))
    else:
        console.print(result.render_text(), markup=False, highlight=False)
