"""Every numeric option of every command is bounded (class 2 of the hardening rules): integers
have a range (int64 at most; seeds 0..2^62), floats go through the finite-number parser. A new
command that adds an unbounded number fails here."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import typer

from behaviorlab.cli import app
from behaviorlab.validate import INT64_MAX, INT64_MIN


def _params(cmd: Any, path: str = "behaviorlab") -> Iterator[tuple[str, Any]]:
    for p in cmd.params:
        yield f"{path} {p.name}", p
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _params(sub, f"{path} {name}")


def _number_type(annotation: Any) -> Any:
    """int or float behind `int | None`, `list[int]`, …; None for anything else."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if args:
        return next((t for a in args if (t := _number_type(a)) is not None), None)
    return annotation if annotation in (int, float) else None


def test_every_number_option_is_bounded() -> None:
    command = typer.main.get_command(app)
    bad = []
    checked = 0
    for where, p in _params(command):
        info = p.type_descriptor.parameter_info
        kind = _number_type(p.type_descriptor.annotation)
        if getattr(info, "parser", None) is not None:
            if not getattr(info.parser, "finite", False):
                bad.append(f"{where}: a custom parser that is not cli._common.finite")
            checked += 1
        elif kind is int:
            lo, hi = info.min, info.max
            if lo is None or hi is None or lo < INT64_MIN or hi > INT64_MAX:
                bad.append(
                    f"{where}: integer range {lo}..{hi} is not bounded within int64 (use count/seed_option)"
                )
            checked += 1
        elif kind is float:
            bad.append(f"{where}: float option without the finite parser (use cli._common.real)")
    assert not bad, "\n".join(bad)
    assert checked >= 20  # the walk found the numeric options (it is not vacuous)
