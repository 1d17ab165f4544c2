"""Reading what a report shows: one run directory, or a demo/sweep directory of runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from behaviorlab.errors import BadInput
from behaviorlab.io import read_parquet
from behaviorlab.rundir import (
    ANALYSIS,
    METRICS,
    METRICS_LOG,
    PREDICTIONS,
    RESULTS,
    SUMMARY,
    SWEEP,
    RunDir,
    checkpoint_problems,
    read_json_object,
)
from behaviorlab.track import read_metrics

# Per-token log-prob lists are large and not shown; skip them when reading predictions.
_SKIP_COLUMNS = {"logprobs"}


def is_ood(split: str) -> bool:
    """Out-of-distribution splits are named test_ood* (as in behaviorlab.evaluate.metrics)."""
    return split.startswith("test_ood") or split.startswith("ood")


def is_id(split: str) -> bool:
    """In-distribution test splits are named test_id* (or test)."""
    return split.startswith("test_id") or split == "test"


@dataclass
class RunData:
    """Everything a run directory holds that a report can show; absent files stay empty."""

    path: Path
    kind: str = "train"
    summary: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    config_text: str | None = None
    env: dict[str, Any] = field(default_factory=dict)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    has_predictions: bool = False
    results: dict[str, Any] = field(default_factory=dict)  # a probe's or imitation run's tables
    integrity: list[tuple[str, str]] = field(default_factory=list)  # checkpoint files failing sha256

    @property
    def name(self) -> str:
        """The run's name: summary, then config, then the folder name."""
        return str(self.summary.get("name") or self.config.get("name") or self.path.name)

    @property
    def analysis_dir(self) -> Path:
        """Where analysis stages write their results."""
        return self.path / ANALYSIS


@dataclass
class Collection:
    """A demo or sweep directory: headline rows (one per run) and the runs themselves."""

    path: Path
    kind: Literal["demo", "sweep"]
    info: dict[str, Any]
    rows: list[dict[str, Any]]  # label, run_dir (resolved or None), status, accuracy_id/ood, ...
    runs: dict[str, RunData | None]  # label -> run (None when its directory is missing)


def _parquet(path: Path, skip: set[str] | None = None) -> list[dict[str, Any]]:
    return list(read_parquet(path, drop=tuple(skip or ())).to_pylist())


def load_run(path: Path) -> RunData:
    """Read a run directory of any kind through `RunDir` (every file optional)."""
    rd = RunDir.open(path)
    run = RunData(path, rd.kind, rd.summary, rd.config, rd.config_text, rd.env())
    if (path / METRICS).is_file():
        run.metrics = _parquet(path / METRICS)
    elif (path / METRICS_LOG).is_file():  # a run still training: the journal so far
        run.metrics = read_metrics(path)
    if (path / PREDICTIONS).is_file():
        run.predictions = _parquet(path / PREDICTIONS, _SKIP_COLUMNS)
        run.has_predictions = True
    if (path / RESULTS).is_file():
        run.results = read_json_object(path / RESULTS)
    run.integrity = checkpoint_problems(path)
    return run


def _resolve(base: Path, run_dir: Any) -> Path | None:
    """A recorded run directory: relative to the collection first, then as given."""
    if not isinstance(run_dir, str) or not run_dir:
        return None
    p = Path(run_dir)
    for candidate in [p] if p.is_absolute() else [base / p, p]:
        if candidate.is_dir():
            return candidate
    return None


def _collection(
    path: Path, kind: Literal["demo", "sweep"], info: dict[str, Any], rows: list[dict[str, Any]]
) -> Collection:
    runs: dict[str, RunData | None] = {}
    for row in rows:
        where = _resolve(path, row.get("run_dir"))
        row["resolved"] = where
        try:
            runs[row["label"]] = load_run(where) if where is not None else None
        except BadInput as e:
            # One broken run should not hide the others; the page says what was wrong.
            row["error"] = e.one_line()
            runs[row["label"]] = None
    return Collection(path, kind, info, rows, runs)


def load_collection(path: Path) -> Collection | None:
    """A demo (summary.json with a `models` map) or sweep (sweep.json with `runs`), else None."""
    if (path / SWEEP).is_file():
        info = read_json_object(path / SWEEP)
        entries = info.pop("runs", None)
        if not isinstance(entries, list) or not all(isinstance(r, dict) for r in entries):
            raise BadInput(f"{path / SWEEP}: expected a `runs` list of objects")
        rows = [
            {"label": str(r.get("name") or r.get("run_dir") or f"run {i}"), **r}
            for i, r in enumerate(entries)
        ]
        _dedupe(rows)
        return _collection(path, "sweep", info, rows)
    if (path / SUMMARY).is_file():
        info = read_json_object(path / SUMMARY)
        models = info.get("models")
        if isinstance(models, dict):
            info = {k: v for k, v in info.items() if k != "models"}
            rows = [{"label": str(k), **(v if isinstance(v, dict) else {})} for k, v in models.items()]
            return _collection(path, "demo", info, rows)
    return None


def _dedupe(rows: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for r in rows:
        n = seen[r["label"]] = seen.get(r["label"], 0) + 1
        if n > 1:
            r["label"] = f"{r['label']} ({n})"
