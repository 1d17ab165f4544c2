"""One training job of the experiment (teacher, base or student), run in a worker process: train
(resuming a partial run of the same config), then answer the evaluation queries (and explain the
algorithm skill) — cached in the run's analysis/ so a resumed experiment skips finished work."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json
from behaviorlab.rundir import ANALYSIS, IMITATION_EVAL, RunDir, read_json_object

EVAL_FILE = IMITATION_EVAL


def eval_digest(request: dict[str, Any]) -> str:
    """The identity of an evaluation request (queries, budget, algorithm inputs)."""
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:16]


def finished(run_dir: Path, digest: str, request: dict[str, Any]) -> dict[str, Any] | None:
    """The cached evaluation of a trained run of this exact config, if there is one."""
    try:
        summary = RunDir.open(run_dir).summary
    except BadInput:
        return None
    cache = run_dir / ANALYSIS / EVAL_FILE
    if summary.get("status") != "trained" or summary.get("config_digest") != digest or not cache.is_file():
        return None
    got = read_json_object(cache)
    return got if got.get("request") == eval_digest(request) else None


def answer(run_dir: Path, request: dict[str, Any]) -> dict[str, Any]:
    """A trained run's greedy answers to the evaluation queries, and its algorithm explained."""
    from behaviorlab.imitation.algorithm import content_model, explain_model
    from behaviorlab.imitation.skills import family
    from behaviorlab.lm.run import open_run_model

    model = open_run_model(run_dir)
    fam = family(request["family"])
    out: dict[str, Any] = {"request": eval_digest(request)}
    out["outputs"] = [c.text for c in model.generate(request["queries"], request["max_new_tokens"])]
    algo = request.get("algorithm")
    if algo:
        view = content_model(fam, algo["skill"], model, request["max_new_tokens"], chat=False)
        out["algorithm"] = explain_model(
            fam, algo["skill"], view, algo["inputs"], algo["seed"], algo["extra_fit"]
        )
    return out


def train_and_answer(
    cfg_json: str, run_dir: str, request: dict[str, Any], updates: Any = None
) -> dict[str, Any]:
    """The job: train (or resume) the run, answer the evaluation request; the cached answers."""
    import torch

    from behaviorlab.train import ExperimentConfig
    from behaviorlab.train.job import train_job

    torch.set_num_threads(1)  # one core per worker; training sets its own thread count
    path, t0 = Path(run_dir), time.perf_counter()
    cfg = ExperimentConfig.model_validate_json(cfg_json)
    name = path.name

    def say(step: int, phase: str) -> None:
        if updates is not None:
            updates.put((name, step, cfg.train.steps, phase))

    cached = finished(path, cfg.digest(), request)
    if cached is not None:
        say(cfg.train.steps, "kept")
        return {**cached, "seconds": 0.0, "kept": True}
    summary = train_job(cfg, path, on_step=lambda s: say(s, "train"))
    if summary["status"] != "trained":
        raise BadInput(f"{path}: training stopped at step {summary['steps']} ({summary['status']})")
    say(cfg.train.steps, "evaluate")
    out = answer(path, request)
    atomic_write_json(path / ANALYSIS / EVAL_FILE, out)
    say(cfg.train.steps, "done")
    return {**out, "seconds": round(time.perf_counter() - t0, 2), "kept": False}
