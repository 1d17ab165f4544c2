"""CLI verb `probe`: black-box probes on one or more models into a probe run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from behaviorlab.cli._common import console, handles_bad_input


def _cell(res: dict[str, Any]) -> str:
    from behaviorlab.results import headline_number

    return f"{res.get('label', '')}: {headline_number(res.get('headline'))}\n{res.get('verdict', '')}"


def results_table(results: dict[str, Any]) -> Table:
    """Probes as rows, models as columns: one headline number and the verdict per cell."""
    names = [m["name"] for m in results.get("models", [])]
    t = Table(title="probe results (95% intervals)", show_lines=True)
    t.add_column("probe")
    for n in names:
        t.add_column(n, overflow="fold")
    for probe, per in results.get("probes", {}).items():
        t.add_row(probe, *(_cell(per[n]) for n in names))
    mapping = results.get("mapping", {})
    if mapping:
        cells = [mapping.get(n, {}).get("verdict") or mapping.get(n, {}).get("skipped") or "—" for n in names]
        t.add_row("data vs outputs", *cells)
    return t


@handles_bad_input
def probe_cmd(
    model: Annotated[
        list[str],
        typer.Option(
            "--model", help="Model spec: run:DIR (or a run directory), hf:DIR, gguf:FILE. Repeatable."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Probe run directory to write.")],
    probes: Annotated[
        str | None,
        typer.Option("--probes", help="Comma-separated probes to run (default: every registered probe)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most N items per condition (faster, wider intervals).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for every prompt set and sampled decoding.")] = 0,
    chat: Annotated[
        bool | None,
        typer.Option(
            "--chat/--no-chat", help="Wrap prompts in the chat template (default: when the model has one)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Replace an earlier probe run in OUT (only a probe run).")
    ] = False,
    resume: Annotated[
        bool, typer.Option(help="Continue an interrupted run; finished parts are kept.")
    ] = False,
    sink: Annotated[
        list[str] | None,
        typer.Option("--sink", help="Also send the results to a sink: tensorboard, mlflow, csv, parquet."),
    ] = None,
) -> None:
    """Run black-box probes on models; write config, outputs.parquet, results.json, summary.json."""
    from behaviorlab.probes import run_probes
    from behaviorlab.store import record

    results = run_probes(
        model,
        out,
        probes=probes,
        limit=limit,
        seed=seed,
        chat=chat,
        force=force,
        resume=resume,
        progress=True,
        sinks=sink or (),
    )
    console.print(results_table(results))
    record(out)
    console.print(f"probe run -> {out} (report: behaviorlab report {out})")
