"""CLI verb `probe`: black-box probes on one or more models into a probe run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from behaviorlab.cli._common import (
    MODEL_SPECS,
    SINK_HELP,
    console,
    count,
    deprecated,
    handles_bad_input,
    real,
    seed_option,
)


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
    out: Annotated[Path, typer.Option("--out", help="Probe run directory to write.")],
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            help=f"A model: {MODEL_SPECS}. Repeatable: the models are probed side by side "
            "(required unless --models is given).",
        ),
    ] = None,
    models: Annotated[
        Path | None,
        typer.Option(
            "--models",
            help="A zoo file: [[model]] tables with spec and optional name, chat, context, backend "
            "(default: none; the --model specs only).",
        ),
    ] = None,
    probes: Annotated[
        str | None,
        typer.Option("--probes", help="Comma-separated probes to run (default: every registered probe)."),
    ] = None,
    n: Annotated[
        int | None,
        count(
            "-n",
            "--n",
            help="At most N items per condition (faster, wider intervals); default: each probe's own "
            "size (100 behind each headline on our own runs, 6–16 items per condition on open-text models).",
        ),
    ] = None,
    budget: Annotated[
        float | None,
        real(
            "--budget",
            help="Size each probe to fit SECONDS (1 s to a week): a pilot at one item per condition "
            "measures each probe's cost, then each gets the most items it can afford (never more than -n); "
            "the sizes and half-widths are printed and kept in results.json (default: no budget).",
            lo=1.0,
            hi=7 * 24 * 3600.0,
        ),
    ] = None,
    seed: Annotated[int, seed_option("Seed for every prompt set and sampled decoding.")] = 0,
    chat: Annotated[
        bool | None,
        typer.Option(
            "--chat/--no-chat", help="Wrap prompts in the chat template (default: when the model has one)."
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            help="Run each model x probe part as a job: local (process pool) or ray. "
            "default: here, in order; with --models: local.",
        ),
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: a local instance).")
    ] = None,
    workers: Annotated[
        int | None, count("--workers", help="Local pool size (default: one per core).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Replace an earlier probe run in OUT (only a probe run).")
    ] = False,
    resume: Annotated[
        bool, typer.Option(help="Continue an interrupted run; finished parts are kept.")
    ] = False,
    ablate: Annotated[
        str | None,
        typer.Option(
            "--ablate",
            help="Zero-ablate attention heads of every model: dec.3.h5,dec.4.h2, or top:HYPOTHESIS:K "
            "(induction, previous, duplicate, copy; scored on each model, recorded as explicit heads; "
            "default: none).",
        ),
    ] = None,
    sink: Annotated[
        list[str] | None,
        typer.Option(
            "--sink",
            help=SINK_HELP.format("results"),
        ),
    ] = None,
    limit: Annotated[int | None, count("--limit", hidden=True, help="Deprecated: -n.")] = None,
) -> None:
    """Run black-box probes on models; write config, outputs.parquet, results.json, summary.json."""
    from behaviorlab.store import record
    from behaviorlab.sweep.probes import probe

    results = probe(
        model or [],
        out,
        zoo=models,
        backend=backend,
        address=address,
        workers=workers,
        probes=probes,
        limit=deprecated(n, limit, "--limit", "-n"),
        budget=budget,
        seed=seed,
        chat=chat,
        force=force,
        resume=resume,
        progress=True,
        ablate=ablate,
        sinks=sink or (),
    )
    console.print(results_table(results))
    if "budget" in results:
        from behaviorlab.probes.budget import budget_lines

        console.print("\n".join(budget_lines(results["budget"])), markup=False, soft_wrap=True)
    record(out)
    console.print(f"probe run -> {out} (report: behaviorlab report {out})")
