"""`behaviorlab study …`: whole studies in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from behaviorlab.cli._common import SINK_HELP, console, count, handles_bad_input
from behaviorlab.rundir import REPORT, STUDY_MD

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@app.command("recursion")
@handles_bad_input
def recursion_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder for the study's runs, STUDY.md and report.")],
    quick: Annotated[bool, typer.Option(help="A small grid (same claims, fewer cells): minutes.")] = False,
    backend: Annotated[str, typer.Option(help="local (process pool) or ray.")] = "local",
    workers: Annotated[
        int | None, count("--workers", help="Local pool size (default: one per core).")
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster address to join (--backend ray; default: a local Ray instance)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Finish an interrupted study; finished runs are kept.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Replace an earlier study in OUT (only a study).")] = False,
    seeds: Annotated[int, count("--seeds", help="Seeds per cell.")] = 3,
    sink: Annotated[
        list[str] | None,
        typer.Option(
            "--sink",
            help=SINK_HELP.format("claims"),
        ),
    ] = None,
    allow_long: Annotated[
        bool, typer.Option(help="Start even when the estimated time exceeds the limit (a week).")
    ] = False,
) -> None:
    """The recursion study's grid: binary successor and tree traversal (end to end and 1/2/3-step),
    learning rates, positional encodings and seeds; claims marked reproduced / not / mixed."""
    from behaviorlab.study import run_study

    study = run_study(
        out,
        quick=quick,
        backend=backend,
        workers=workers,
        address=address,
        resume=resume,
        force=force,
        seeds=range(seeds),  # lazy: the study's pre-flight checks the count before anything is built
        console=console,
        allow_long=allow_long,
        sinks=tuple(sink or ()),
    )
    table = Table("claim", "verdict", title=f"recursion study ({study['seconds']} s)")
    for c in study["claims"]:
        table.add_row(c["claim"], c["verdict"])
    console.print(table)
    console.print(f"study: {out / STUDY_MD}  report: {out / REPORT}")
