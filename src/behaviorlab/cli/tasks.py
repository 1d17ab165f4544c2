"""`behaviorlab tasks …`: list, sample, solve and build datasets for the exact recursive tasks."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from behaviorlab import tasks
from behaviorlab.cli._common import console, count, handles_bad_input, real, seed_option
from behaviorlab.tasks.base import Task
from behaviorlab.tasks.dataset import build_splits, load_spec, write_splits

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


class Format(StrEnum):
    """Output formats of `tasks sample`."""

    jsonl = "jsonl"
    text = "text"


ORDER = typer.Option(None, "--order", help="binary-successor: natural | reverse (default reverse).")
STEPS = typer.Option(None, "--steps", help="tree tasks: 1 | 2 | 3 | all (default all).")
START = typer.Option(None, "--start", help="tree tasks: 0 forces step-0 inputs (default: any step).")


def _task(name: str, order: str | None, steps: str | None, start: str | None) -> Task:
    # Only options actually given are passed, so e.g. --order on peano-add is reported as unknown.
    return tasks.get(name, order=order, steps=steps, start=start)


@app.command("list")
@handles_bad_input
def list_tasks() -> None:
    """List the tasks with their options."""
    table = Table(title="behaviorlab tasks")
    table.add_column("name", style="bold")
    table.add_column("options")
    table.add_column("description")
    for name in tasks.names():
        cls = tasks.task_class(name)
        options = "; ".join(
            f"{o.name}: {' | '.join(str(c) for c in o.choices if c is not None)} (default {o.default})"
            for o in cls.option_specs
        )
        table.add_row(name, options or "-", cls.description)
    console.print(table)


@app.command()
@handles_bad_input
def sample(
    task: str = typer.Argument(..., help="Task name (see `tasks list`)."),
    n: Annotated[int, count("-n", "--n", lo=0, help="Number of examples (streamed: any count).")] = 10,
    seed: Annotated[int, seed_option("Random seed (same seed, same examples).")] = 0,
    order: str | None = ORDER,
    steps: str | None = STEPS,
    start: str | None = START,
    min_size: Annotated[
        int | None, count("--min-size", help="Smallest size (default: the task's own range).")
    ] = None,
    max_size: Annotated[
        int | None, count("--max-size", help="Largest size (default: the task's own range).")
    ] = None,
    min_depth: Annotated[
        int | None, count("--min-depth", lo=0, help="tree tasks: least depth (default: any).")
    ] = None,
    max_depth: Annotated[
        int | None, count("--max-depth", lo=0, help="tree tasks: most depth (default: any).")
    ] = None,
    edge_fraction: Annotated[
        float, real("--edge-fraction", lo=0.0, hi=1.0, help="Share of edge cases.")
    ] = 0.0,
    shape: str = typer.Option(
        "random", "--shape", help="tree tasks: random | balanced | left-spine | right-spine."
    ),
    distinct_letters: bool = typer.Option(
        False, "--distinct-letters", help="tree tasks: no letter twice in a tree."
    ),
    fmt: Format = typer.Option(Format.jsonl, "--format", help="jsonl or text (input<TAB>output)."),
) -> None:
    """Print random examples as JSON lines (input, output, meta) or input<TAB>output text.

    Examples stream as they are drawn, so any -n runs in bounded memory."""
    examples = _task(task, order, steps, start).stream(
        n,
        seed,
        min_size=min_size,
        max_size=max_size,
        min_depth=min_depth,
        max_depth=max_depth,
        edge_fraction=edge_fraction,
        repeat_letters=not distinct_letters,
        shape=shape,
    )
    try:
        for ex in examples:
            line = json.dumps(ex.to_dict()) if fmt is Format.jsonl else f"{ex.input}\t{ex.output}"
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@app.command()
@handles_bad_input
def solve(
    task: str = typer.Argument(..., help="Task name (see `tasks list`)."),
    text: str = typer.Argument(..., metavar="INPUT", help="A canonical input string."),
    order: str | None = ORDER,
    steps: str | None = STEPS,
    start: str | None = START,
) -> None:
    """Print the canonical output for one input."""
    sys.stdout.write(_task(task, order, steps, start).solve(text) + "\n")


@app.command()
@handles_bad_input
def build(
    config: Path = typer.Argument(..., help="Dataset spec (TOML), e.g. configs/tasks-*.toml."),
    out: Path = typer.Option(..., "--out", help="Directory for the split Parquet files."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty directory."),
) -> None:
    """Build disjoint splits from a dataset spec and write one Parquet file per split."""
    spec = load_spec(config)
    splits = build_splits(spec)
    paths = write_splits(splits, out, spec, force=force)
    table = Table(title=f"{spec.make_task().key} -> {out}")
    for column in ("split", "examples", "requested", "sizes", "file"):
        table.add_column(column)
    for split, path in zip(spec.splits, paths, strict=True):
        got = len(splits[split.name])
        table.add_row(
            split.name,
            Text(str(got), style="" if got == split.n else "yellow"),
            str(split.n),
            f"{split.min_size}..{split.max_size}",
            str(path),
        )
    console.print(table)


@app.command("lm-corpus")
@handles_bad_input
def lm_corpus(
    out: Path = typer.Option(Path("runs/corpus/pydocs"), "--out", help="Directory for the Parquet splits."),
    root: Path = typer.Option(None, "--root", help="HTML folder (default: Debian's python3-doc)."),
    chunk_bytes: Annotated[
        int, count("--chunk-bytes", lo=8, help="Bytes per example (an LM context).")
    ] = 128,
    validation_fraction: Annotated[
        float, real("--validation-fraction", lo=0.0, hi=1.0, help="Share of documents, in (0, 1).")
    ] = 0.1,
    validation_chunks: Annotated[
        int, count("--validation-chunks", lo=0, help="Held-out chunks kept (at most).")
    ] = 2048,
    force: bool = typer.Option(False, "--force", help="Replace an existing corpus directory."),
) -> None:
    """Build a byte-level LM corpus from the Python docs: train/validation split by document."""
    from behaviorlab.tasks.corpus import PYDOCS_ROOT, build_corpus

    stats = build_corpus(
        out,
        root or PYDOCS_ROOT,
        chunk_bytes=chunk_bytes,
        validation_fraction=validation_fraction,
        validation_chunks=validation_chunks,
        force=force,
    )
    table = Table(title=f"LM corpus -> {out}")
    for column in ("split", "documents", "chunks", "bytes"):
        table.add_column(column)
    for split in stats.chunks:
        table.add_row(split, str(stats.documents[split]), str(stats.chunks[split]), f"{stats.bytes[split]:,}")
    console.print(table)
