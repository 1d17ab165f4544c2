"""CLI verb `export`: finished runs into TensorBoard, MLflow, CSV or Parquet after the fact."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from behaviorlab.cli._common import console, handles_bad_input


@handles_bad_input
def export_cmd(
    runs: Annotated[
        list[Path], typer.Argument(help="Run directories of any kind (train, probe, imitation).")
    ],
    to: Annotated[
        str, typer.Option("--to", help="A results sink: tensorboard, mlflow, csv, parquet (or a plugin's).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder: OUT/RUN/ for files, OUT/mlflow.db for MLflow.")],
) -> None:
    """Send runs' records (metrics by step, findings, tables, key files) into a results sink."""
    from behaviorlab.track import export_runs

    for folder in export_runs(runs, to, out):
        console.print(f"exported -> {folder}" if to != "mlflow" else f"exported {folder.name} -> MLflow")
