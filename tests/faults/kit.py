"""Fault injection helpers: run the CLI as a user would and read what it left behind.

(A plain module, not a conftest: `from conftest import TINY` must keep meaning tests/conftest.py.)"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from behaviorlab.cli import main


@dataclass
class Result:
    """A finished command: exit code and what it printed."""

    code: int
    out: str
    err: str

    def one_line_error(self) -> str:
        """The single `error: …` line on stderr (fails the test otherwise)."""
        lines = self.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), f"stderr was: {self.err!r}"
        assert "Traceback" not in self.err and "Traceback" not in self.out
        return lines[0]


class Cli:
    """Runs `behaviorlab ARGS…` in this process (the console entry point), capturing output."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str | Path) -> Result:
        self.capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)


def refused(r: Result, *words: str) -> str:
    """The one-line error of a refused command (exit 2), which names each of `words`."""
    line = r.one_line_error()
    assert r.code == 2, r
    for w in words:
        assert w in line, line
    return line


def tiny_config(tmp: Path, **train: Any) -> Path:
    """The tests' tiny experiment as a TOML file (train overrides as keywords)."""
    import tomli_w
    from conftest import TINY

    raw = copy.deepcopy(TINY)
    raw["train"] = {k: v for k, v in {**raw["train"], **train}.items() if v is not None}
    path = tmp / "tiny.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


def run_script(code: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Python code in a fresh process (it may be killed); argv[1:] are `args`."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout
    )


def summary(run: Path) -> dict[str, Any]:
    return dict(json.loads((run / "summary.json").read_text()))


@contextmanager
def tmpfs(where: Path, size: str, *options: str) -> Iterator[Path]:
    """A small tmpfs mounted at `where` (root only; the test is skipped otherwise)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    opts = ",".join((f"size={size}", *options))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def trained_tiny(out: Path) -> Path:
    """The tests' tiny config trained and evaluated into `out` (in this process)."""
    from conftest import TINY

    from behaviorlab.train import evaluate_run, train
    from behaviorlab.train.config import validate

    train(validate(TINY, "tiny"), out, progress=False)
    evaluate_run(out)
    return out
