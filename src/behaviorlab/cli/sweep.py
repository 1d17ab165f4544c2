"""CLI verb `sweep`: a grid or list of configs on a local process pool or Ray."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from behaviorlab.cli._common import console, count, fail, handles_bad_input
from behaviorlab.cli.runs import table


@handles_bad_input
def sweep_cmd(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep TOML (base config + [grid] / [[list]]).")],
    backend: Annotated[str, typer.Option(help="local (process pool) or ray.")] = "local",
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster address to join (--backend ray; default: a local Ray instance)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the runs (default runs/NAME).")
    ] = None,
    workers: Annotated[
        int | None, count("--workers", help="Local pool size (default: one per core).")
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option("--catalog", help="Catalog to record the runs in (default: OUT/catalog.sqlite)."),
    ] = None,
    allow_long: Annotated[
        bool, typer.Option(help="Start even when the estimated time exceeds the limit (a week).")
    ] = False,
) -> None:
    """Run a grid/list of configs locally or on Ray; complete runs are skipped."""
    from behaviorlab.sweep import run_sweep

    summary = run_sweep(
        sweep_file,
        out=out,
        backend=backend,
        address=address,
        workers=workers,
        catalog=catalog,
        console=console,
        allow_long=allow_long,
    )
    cols = ["digest", "status", "accuracy_id", "accuracy_ood", "steps", "overrides"]
    rows = [
        [
            r["digest"],
            r["status"] + (" (skipped)" if r.get("skipped") else ""),
            r["accuracy_id"],
            r["accuracy_ood"],
            r["steps"],
            json.dumps(r["overrides"]),
        ]
        for r in summary["runs"]
    ]
    console.print(table(f"sweep {summary['sweep']}: {summary['counts']}", cols, rows))
    failed = [r for r in summary["runs"] if r["status"] == "failed"]
    if failed:
        raise fail(
            f"{len(failed)} run(s) failed, first: {failed[0]['digest']}: {failed[0]['error']}",
            code=1,
        )
