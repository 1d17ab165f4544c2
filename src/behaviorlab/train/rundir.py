"""The run directory: layout, creation rules (refuse to overwrite), and reading a run back."""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from behaviorlab import tasks
from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json, atomic_write_text
from behaviorlab.models import Seq2SeqModel, build_model
from behaviorlab.tasks import Example, Task
from behaviorlab.train import checkpoint
from behaviorlab.train.config import ExperimentConfig, validate

CONFIG, ENV, SUMMARY, METRICS, PREDICTIONS = (
    "config.toml",
    "env.json",
    "summary.json",
    "metrics.parquet",
    "predictions.parquet",
)


def prepare(out: Path, cfg: ExperimentConfig, *, resume: bool, force: bool) -> None:
    """Create (or, on resume, check) a run directory; nothing is written for a refused run."""
    if resume:
        if not (out / CONFIG).is_file():
            raise BadInput(f"{out}: --resume needs an existing run directory with {CONFIG}")
        recorded = read_config(out)
        if recorded.digest() != cfg.digest():
            raise BadInput(f"{out}: --resume with a config that differs from the recorded one")
        return
    if out.exists() and any(out.iterdir()):
        if not force:
            raise BadInput(f"{out}: output directory exists and is not empty (use --force)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / CONFIG, cfg.to_toml())


def read_config(run_dir: Path) -> ExperimentConfig:
    """The resolved config recorded in a run directory."""
    path = run_dir / CONFIG
    if not path.is_file():
        raise BadInput(f"{run_dir}: not a run directory (no {CONFIG})")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise BadInput(f"{path}: not valid TOML: {e}") from None
    return validate(raw, str(path))


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    """summary.json, atomically."""
    atomic_write_json(run_dir / SUMMARY, summary)


def read_split(path: Path) -> list[Example]:
    """Examples back from a split's Parquet file (meta = every other integer column)."""
    rows = pq.read_table(path).to_pylist()
    return [
        Example(
            r["input"],
            r["output"],
            {k: int(v) for k, v in r.items() if k not in ("input", "output") and v is not None},
        )
        for r in rows
    ]


@dataclass
class Run:
    """A finished (or checkpointed) run, opened for evaluation or analysis."""

    path: Path
    config: ExperimentConfig
    task: Task
    model: Seq2SeqModel
    splits: dict[str, list[Example]]


def new_model(cfg: ExperimentConfig, task: Task) -> Seq2SeqModel:
    """The model a config describes, freshly initialised."""
    v = task.vocab
    return build_model(cfg.model, len(v), v.pad_id, v.bos_id, v.eos_id)


def open_run(run_dir: Path) -> Run:
    """Load a run's config, task, data splits and latest verified weights."""
    cfg = read_config(run_dir)
    task = tasks.get(cfg.data.task, **cfg.data.options)
    data_dir = run_dir / "data"
    if not data_dir.is_dir():
        raise BadInput(f"{run_dir}: no data/ folder (was the run started?)")
    splits = {p.stem: read_split(p) for p in sorted(data_dir.glob("*.parquet"))}
    model = new_model(cfg, task)
    model.load_state_dict(checkpoint.load_weights(run_dir / "checkpoints"))
    model.eval()
    return Run(run_dir, cfg, task, model, splits)
