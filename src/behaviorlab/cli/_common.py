"""Shared CLI plumbing: bad input becomes one line on stderr and exit code 2; user text reaches the
terminal without control characters; numeric options carry the ranges `validate.py` sets; the options
every command spells the same way (CONTRIBUTING, "The command-line vocabulary"; a test checks them)."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import rich
import typer
from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from behaviorlab.errors import BadInput, Interrupted
from behaviorlab.rundir import RunDir
from behaviorlab.validate import COUNT_MAX, SEED_MAX, check_float, printable

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
    "run:DIR (or a run directory), hf:DIR, gguf:FILE, llama:FILE (through llama.cpp), or the alias "
    "smollm2 (SmolLM2-135M-Instruct, installed by make setup)"
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


class SafeConsole(Console):
    """A console that never passes control characters in user text (run names, paths, SQL
    results) to the terminal: strings are escaped before layout (so tables stay aligned), and any
    text segment that still holds one (a Text built elsewhere) is escaped on the way out."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        """Escape, then render as usual."""
        return super().render_str(printable(text), **kwargs)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        # Segments marked `control` are rich's own cursor moves; every other segment is text.
        safe = (seg if seg.control else Segment(printable(seg.text), seg.style) for seg in buffer)
        return super()._render_buffer(safe)


# No markup: run names, file names, SQL results and task strings (`['a'; 'b']`) print as they are.
console = SafeConsole(markup=False, highlight=False)
err_console = SafeConsole(stderr=True, markup=False, highlight=False)


def use_safe_console() -> None:
    """Make the library's progress bars and notes (rich's global console) escape user text too."""
    rich._console = SafeConsole(markup=False, highlight=False)


def one_line(message: str) -> str:
    """A message as one terminal-safe line."""
    return printable(" ".join(message.split()))


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error to stderr and return the Exit to raise."""
    sys.stderr.write("error: " + one_line(message) + "\n")
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
        except OSError as e:  # a full disk, a vanished directory: the failing path in one line
            raise fail(f"{e.filename or 'I/O error'}: {e.strerror or e}") from None
        except MemoryError:
            raise fail("out of memory; lower the sizes this command was given") from None
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


# --- numeric options: every int has a range, every float is finite (tests/unit/test_cli_numbers.py) --


def count(*names: str, help: str, lo: int = 1, hi: int = COUNT_MAX, hidden: bool = False) -> Any:
    """An integer option counting something (at least `lo`); the pre-flight checks the work."""
    return typer.Option(*names, min=lo, max=hi, help=help, hidden=hidden)


def seed_option(help: str = "Seed (0..2^62).") -> Any:
    """A seed option: 0..2^62, what torch, numpy, SQLite and Parquet all accept."""
    return typer.Option("--seed", min=0, max=SEED_MAX, help=help)


def finite(name: str, lo: float | None = None, hi: float | None = None) -> Callable[[str], float]:
    """A Typer `parser` for a float option: a finite number within [lo, hi]."""

    def number(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        try:
            return check_float(name, value, lo, hi)
        except BadInput as e:
            raise ValueError(str(e)) from None

    number.finite = True  # type: ignore[attr-defined]  # what the option test looks for
    return number


def real(*names: str, help: str, lo: float | None = None, hi: float | None = None) -> Any:
    """A float option: finite, within [lo, hi]."""
    return typer.Option(*names, parser=finite(names[0], lo, hi), help=help)
