"""One sweep run, executed inside a worker process (a pool process or a Ray task)."""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.rundir import RunDir


def is_complete(run_dir: Path, digest: str) -> bool:
    """True when the run directory holds a finished, evaluated run of this exact config."""
    try:
        summary = RunDir.open(run_dir).summary
    except BadInput:
        return False
    return bool(summary.get("status") == "complete" and summary.get("config_digest") == digest)


def run_one(cfg_json: str, run_dir: str, updates: Any = None) -> dict[str, Any]:
    """Train (resuming a partial run of the same config) and evaluate; never raises.

    With `updates`, sends `(run_dir, step, phase)` progress messages."""
    import torch

    from behaviorlab.train import ExperimentConfig, evaluate_run
    from behaviorlab.train.job import train_job

    torch.set_num_threads(1)  # one core per worker; training sets cfg.train.threads itself
    t0 = time.perf_counter()
    path = Path(run_dir)

    def say(step: int, phase: str) -> None:
        if updates is not None:
            updates.put((run_dir, step, phase))

    try:
        cfg = ExperimentConfig.model_validate_json(cfg_json)
        summary = train_job(cfg, path, on_step=lambda s: say(s, "train"))
        if summary["status"] == "trained":
            say(summary["steps"], "evaluate")
            evaluate_run(path)
        summary = RunDir.open(path).summary
        say(int(summary.get("steps") or 0), "done")
        return {
            "status": summary.get("status"),
            "accuracy_id": summary.get("accuracy_id"),
            "accuracy_ood": summary.get("accuracy_ood"),
            "steps": summary.get("steps"),
            "seconds": round(time.perf_counter() - t0, 2),
            "error": None,
        }
    except Exception as e:  # one failed run must not take the sweep down
        last = traceback.format_exception_only(type(e), e)[-1].strip()
        return {
            "status": "failed",
            "accuracy_id": None,
            "accuracy_ood": None,
            "steps": None,
            "seconds": round(time.perf_counter() - t0, 2),
            "error": last,
        }
