"""CLI verb for the HTML report; calls one library function."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from behaviorlab.cli._common import console, handles_bad_input


@handles_bad_input
def report_cmd(
    path: Annotated[Path, typer.Argument(help="A run (train, probe, imitation), demo, sweep or study.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML file to write (default: DIR/report.html).")
    ] = None,
) -> None:
    """Write a self-contained HTML report (figures also as PNG) for a run, demo or sweep."""
    from behaviorlab.report import render_report

    written = render_report(path, out)
    console.print(f"report -> {written} (PNG figures in {written.parent / 'figures'})")
