"""`behaviorlab study …`: whole studies in one command; one command per study, all alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from behaviorlab.cli._common import SINK_HELP, console, count, handles_bad_input
from behaviorlab.errors import BadInput
from behaviorlab.rundir import REPORT, STUDY_MD

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

Out = Annotated[
    Path | None, typer.Option("--out", help="Folder for the study's runs, STUDY.md and report (required).")
]
Quick = Annotated[bool, typer.Option(help="A small grid (same claims, fewer cells): minutes.")]
Backend = Annotated[str, typer.Option(help="local (process pool) or ray.")]
Workers = Annotated[int | None, count("--workers", help="Local pool size (default: one per core).")]
Address = Annotated[
    str | None,
    typer.Option(help="Ray cluster address to join (--backend ray; default: a local Ray instance)."),
]
Resume = Annotated[
    bool,
    typer.Option(
        help="Finish an interrupted study, or re-read a finished one: finished runs are kept, the "
        "cells, claims and pages are computed anew."
    ),
]
Force = Annotated[bool, typer.Option(help="Replace an earlier study in OUT (only a study).")]
Seeds = Annotated[int, count("--seeds", help="Seeds per cell.")]
Sink = Annotated[list[str] | None, typer.Option("--sink", help=SINK_HELP.format("claims"))]
Cells = Annotated[
    str | None,
    typer.Option(
        "--cells",
        help="Run only the cells whose key matches this glob (e.g. '*lr0.003*'; default: every cell); "
        "the study's pages name the cells left out. --list-cells shows the keys.",
    ),
]
ListCells = Annotated[bool, typer.Option("--list-cells", help="Print the grid's cell keys and exit.")]
AllowLong = Annotated[
    bool, typer.Option(help="Start even when the estimated time exceeds the limit (a week).")
]

# The help of each study's command (the study definitions import torch; the CLI must not).
STUDIES = {
    "recursion": "The recursion study's grid: binary successor and tree traversal (end to end and "
    "1/2/3-step), learning rates, positional encodings and seeds; claims marked reproduced / not / mixed.",
    "tree-boundary": "Where end-to-end tree traversal fails while the 1-step reduction learns: preorder "
    "and inorder across tree size, training examples and model size; a phase diagram and the claims.",
    "architectures": "Binary successor and 1-step trees with encoder-decoder, decoder-only, encoder-only "
    "and LSTM models, each tuned alike; accuracy, failure prediction and the claims per architecture.",
}


def _command(study: str) -> Callable[..., None]:
    @handles_bad_input
    def command(
        out: Out = None,
        quick: Quick = False,
        backend: Backend = "local",
        workers: Workers = None,
        address: Address = None,
        resume: Resume = False,
        force: Force = False,
        seeds: Seeds = 3,
        sink: Sink = None,
        allow_long: AllowLong = False,
        cells: Cells = None,
        list_cells: ListCells = False,
    ) -> None:
        from behaviorlab.study import claims_table, run_study, study_cells

        if list_cells:
            console.print("\n".join(study_cells(study, quick)), soft_wrap=True)
            return
        if out is None:
            raise BadInput("missing option --out: the folder for the study's runs, STUDY.md and report")

        result = run_study(
            out,
            study=study,
            quick=quick,
            backend=backend,
            workers=workers,
            address=address,
            resume=resume,
            force=force,
            seeds=range(seeds),  # lazy: the study's pre-flight checks the count before anything is built
            console=console,
            sinks=tuple(sink or ()),
            allow_long=allow_long,
            only=cells,
        )
        console.print(claims_table(result))
        console.print(f"study: {out / STUDY_MD}  report: {out / REPORT}")

    return command


for _name, _help in STUDIES.items():
    app.command(_name, help=_help)(_command(_name))
