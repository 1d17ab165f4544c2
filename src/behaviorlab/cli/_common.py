"""Shared CLI plumbing: bad input becomes one line on stderr and exit code 2; the options every
command spells the same way (CONTRIBUTING, "The command-line vocabulary"; a test checks them)."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from behaviorlab.errors import BadInput, Interrupted
from behaviorlab.rundir import RunDir

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

# What a command prints for a person (tables, lines) or for a program (JSON on stdout).
FORMATS = ("text", "json")
FormatOpt = Annotated[
    str, typer.Option("--format", help="text (tables and lines, for reading) or json (for programs).")
]
JsonAlias = Annotated[bool, typer.Option("--json", hidden=True, help="Deprecated: --format json.")]


# Every way to name a model, for help texts (registry.BUILTIN's adapters and aliases; a test keeps
# this in step with it).
MODEL_SPECS = (
    "run:DIR (or a run directory), hf:DIR, gguf:FILE, or the alias smollm2 (SmolLM2-135M-Instruct, "
    "installed by make setup)"
)


SINK_HELP = "Also send the {} to a sink: tensorboard, mlflow, csv, parquet (repeatable; default: none)."


def deprecated(new: T, old: T | None, old_name: str, new_name: str) -> T:
    """The value of an option, taking it from its old spelling (a hidden alias) when that was
    given, with one line on stderr naming the new spelling."""
    if old is None or old is False:
        return new
    sys.stderr.write(f"warning: {old_name} is deprecated; use {new_name}\n")
    return old


def output_format(fmt: str, json_alias: bool = False) -> str:
    """--format's value checked (text or json); the deprecated --json flag means json."""
    fmt = "json" if deprecated(False, json_alias, "--json", "--format json") else fmt
    if fmt not in FORMATS:
        raise fail(f"--format {fmt!r}: expected text or json")
    return fmt


# No markup: run names, file names, SQL results and task strings (`['a'; 'b']`) print as they are.
console = Console(markup=False, highlight=False)
err_console = Console(stderr=True, markup=False, highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error to stderr and return the Exit to raise."""
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")
    return typer.Exit(code)


def handles_bad_input(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command so BadInput (and missing files) exit 2 with one clear line."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except Interrupted as e:
            raise fail(f"{e.one_line()}; continue with the same command and --resume", code=130) from None
        except BadInput as e:
            raise fail(e.one_line()) from None
        except FileNotFoundError as e:
            raise fail(f"file not found: {e.filename or e}") from None
        except PermissionError as e:
            raise fail(f"{e.filename or e}: permission denied") from None
        except KeyboardInterrupt:
            raise fail("interrupted", code=130) from None

    return wrapper


def pin_threads(run_dir: Path | None = None, threads: int = 1) -> None:
    """Pin torch to the thread count a run was trained with (1 without a run) before a model runs.

    Our models are tiny: on a shared CPU, threads fight over cores for small matmuls (explain ran
    nearly twice as long unpinned), and a fixed count keeps float reductions reproducible.
    """
    import torch

    if run_dir is not None:
        with contextlib.suppress(BadInput):  # not a run: the command reports that itself
            threads = int(RunDir.open(run_dir).section("train").get("threads", 1))
    torch.set_num_threads(threads)
