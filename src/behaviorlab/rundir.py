"""The run directory: every file name in one place, and `RunDir`, a run of any kind read once.

A run directory is self-describing: `summary.json` says its `kind` (train, probe, imitation, …)
and `status`, `config.toml` holds the resolved config. Reading a run for a catalog row, a report
or `runs list` goes through `RunDir` and imports no torch: only the standard library here.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json

# Files and folders of a run directory.
CONFIG = "config.toml"  # the resolved config, every default written out
ENV = "env.json"  # versions, platform, seeds, threads, determinism flags, code revision
SUMMARY = "summary.json"  # kind, status and the headline numbers
METRICS = "metrics.parquet"  # step, split, loss, accuracy, lr, optimizer statistics
PREDICTIONS = "predictions.parquet"  # every answer with per-token log-probs
RESULTS = "results.json"  # a probe's or an imitation experiment's tables
DATA = "data"  # the splits, one Parquet file each
CHECKPOINTS = "checkpoints"  # step-N/{model,optimizer,rng}.safetensors + manifest.json
ANALYSIS = "analysis"  # what explain / interpret write (JSON, Parquet, text)
REPORT = "report.html"  # the self-contained report
FIGURES = "figures"  # the report's figures as PNG
# Files of a collection (a folder of runs): a sweep's table, a demo's or study's summary.
SWEEP = "sweep.json"

RUN_MARKERS = (CONFIG, SUMMARY, METRICS, PREDICTIONS)

Kind = Literal["train", "probe", "imitation"]
KINDS: tuple[str, ...] = ("train", "probe", "imitation")
Status = Literal["created", "running", "trained", "stopped", "complete", "failed", "interrupted"]


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file that must hold an object; BadInput names the file otherwise."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise BadInput(f"{path}: expected a JSON object, found {type(obj).__name__}")
    return obj


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; BadInput names the file when it does not parse."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: not valid TOML: {e}") from None


def is_run(path: Path) -> bool:
    """True when `path` is a directory holding at least one run file."""
    return path.is_dir() and any((path / m).exists() for m in RUN_MARKERS)


@dataclass
class RunDir:
    """A run directory opened for reading: its kind, resolved config (as data) and summary."""

    path: Path
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    config_text: str | None = None

    @classmethod
    def open(cls, path: Path) -> RunDir:
        """Read config.toml and summary.json once; BadInput when `path` is not a run directory."""
        path = Path(path)
        if not is_run(path):
            raise BadInput(f"{path}: not a run directory (none of {', '.join(RUN_MARKERS)})")
        summary = read_json_object(path / SUMMARY) if (path / SUMMARY).is_file() else {}
        config_text = (path / CONFIG).read_text(encoding="utf-8") if (path / CONFIG).is_file() else None
        config = read_toml(path / CONFIG) if config_text is not None else {}
        # Runs written before kinds existed are training runs.
        kind = str(summary.get("kind") or config.get("kind") or "train")
        if kind not in KINDS:
            raise BadInput(f"{path / SUMMARY}: unknown run kind {kind!r}; expected one of {', '.join(KINDS)}")
        return cls(path, kind, config, summary, config_text)

    def file(self, name: str) -> Path:
        """A file or folder of this run by its name (one of the constants above)."""
        return self.path / name

    @property
    def name(self) -> str:
        """The run's name: summary, then config, then the folder name."""
        return str(self.summary.get("name") or self.config.get("name") or self.path.name)

    @property
    def status(self) -> str:
        """created / running / trained / stopped / complete / failed / interrupted."""
        return str(self.summary.get("status", "created"))

    @property
    def task(self) -> str | None:
        """The task key a training run learned (None for runs without one)."""
        data = self.config.get("data", {})
        task = self.summary.get("task") or (data.get("task") if isinstance(data, dict) else None)
        return None if task is None else str(task)

    def env(self) -> dict[str, Any]:
        """env.json, or {} when absent."""
        path = self.file(ENV)
        return read_json_object(path) if path.is_file() else {}

    def section(self, name: str) -> dict[str, Any]:
        """A table of the config (`optim`, `train`, …), {} when absent."""
        value = self.config.get(name, {})
        return value if isinstance(value, dict) else {}

    def reload(self) -> RunDir:
        """The same directory read again (after a writer changed it)."""
        return RunDir.open(self.path)


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    """summary.json, atomically (a reader sees the old file or the new one)."""
    atomic_write_json(run_dir / SUMMARY, summary)


def update_summary(run_dir: Path, **fields: Any) -> dict[str, Any]:
    """Merge `fields` into summary.json (created when absent); returns the new summary."""
    path = run_dir / SUMMARY
    summary = read_json_object(path) if path.is_file() else {}
    summary.update(fields)
    write_summary(run_dir, summary)
    return summary
