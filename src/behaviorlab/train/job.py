"""A pool job's training (sweep, study, imitation): resume a partial run of the same config, else
start it afresh — one way for every worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from behaviorlab.train.config import ExperimentConfig
from behaviorlab.train.loop import train
from behaviorlab.train.run import holds_run_of


def train_job(
    cfg: ExperimentConfig, out: Path, on_step: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Train `cfg` into `out` in a worker: resume a partial run of this very config, else start it
    afresh; no time limit here, the parent checked all its jobs (and --allow-long)."""
    resume = holds_run_of(out, cfg)
    return train(cfg, out, resume=resume, force=not resume, progress=False, on_step=on_step, allow_long=True)
