"""`behaviorlab imitate`: a teacher's outputs fine-tune students; content, style and algorithm."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from behaviorlab.cli._common import SINK_HELP, console, count, handles_bad_input


@handles_bad_input
def imitate_cmd(
    config: Annotated[Path, typer.Argument(help="Imitation experiment config (TOML).")],
    out: Annotated[Path, typer.Option("--out", help="The imitation run directory to write.")],
    resume: Annotated[
        bool, typer.Option(help="Continue an interrupted run; finished students are kept.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Replace an existing imitation run directory.")] = False,
    backend: Annotated[str, typer.Option(help="Where training jobs run: local or ray.")] = "local",
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster address to join (--backend ray; default: a local Ray instance)."),
    ] = None,
    workers: Annotated[
        int | None, count("--workers", help="Local worker processes (default: one per core).")
    ] = None,
    allow_long: Annotated[
        bool, typer.Option(help="Start even when the estimated time exceeds the limit (a week).")
    ] = False,
    sink: Annotated[
        list[str] | None,
        typer.Option(
            "--sink",
            help=SINK_HELP.format("results"),
        ),
    ] = None,
) -> None:
    """Train or load the teacher, record its answers, fine-tune the students, write results.json."""
    from behaviorlab.sweep.imitate import imitate

    results = imitate(
        config,
        out,
        backend=backend,
        address=address,
        workers=workers,
        resume=resume,
        force=force,
        allow_long=allow_long,
        say=lambda line: console.print(line),
        sinks=tuple(sink or ()),
    )
    for f in results["findings"]:
        held = {True: "held", False: "did not hold", None: "n/a"}[f["held"]]
        console.print(f"[{held}] {f['name']}: {f['verdict']}")
    console.print(f"wrote {out}/results.json; `behaviorlab report {out}` renders it")
