"""One run of the study, inside a worker process: train (or resume), evaluate, explain, open up the
heads; the row it returns is also kept as RUN/analysis/study_row.json, so a resumed study skips
finished runs without redoing any of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json
from behaviorlab.rundir import ANALYSIS, STUDY_ROW, RunDir, is_run

ROW = STUDY_ROW
# Breakdown fields a study table shows, per family.
FIELDS = ("length", "size", "depth")


def _done(run_dir: Path, digest: str) -> dict[str, Any] | None:
    """The recorded row of a finished run of this exact config, if any."""
    path = run_dir / ANALYSIS / ROW
    if not path.is_file():
        return None
    try:
        row = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    return row if isinstance(row, dict) and row.get("config_digest") == digest else None


def _breakdown(result: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """split -> field -> {value: accuracy} for the study's breakdown fields."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for split, s in result["splits"].items():
        out[split] = {
            f: {str(k): v["accuracy"] for k, v in s["by"][f].items()} for f in FIELDS if f in s["by"]
        }
    return out


def run_one(cfg_json: str, run_dir: str, quick: bool, updates: Any = None) -> dict[str, Any]:
    """Train, evaluate, explain and score the heads of one (cell, seed); returns its row.

    Failures are rows too (`error`), so one broken run does not end the study."""
    import torch

    from behaviorlab.interpret.findings import head_findings
    from behaviorlab.interpret.tree_heads import confirm_tree_heads
    from behaviorlab.metamodels.on_run import explain_run
    from behaviorlab.metamodels.portable import portable
    from behaviorlab.store import record
    from behaviorlab.tasks.dataset import DatasetSpec
    from behaviorlab.train import ExperimentConfig, evaluate_run
    from behaviorlab.train.data import task_name
    from behaviorlab.train.job import train_job
    from behaviorlab.train.run import holds_run_of, open_run

    torch.set_num_threads(1)  # one core per worker
    cfg = ExperimentConfig.model_validate_json(cfg_json)
    path = Path(run_dir)
    if (row := _done(path, cfg.digest())) is not None:
        return row

    def say(step: int, phase: str) -> None:
        if updates is not None:
            updates.put((cfg.name, step, phase))

    try:
        if not (holds_run_of(path, cfg) and is_run(path) and RunDir.open(path).status == "complete"):
            train_job(cfg, path, on_step=lambda s: say(s, "train"))
        steps = int(RunDir.open(path).summary.get("steps") or 0)
        say(steps, "evaluate")
        result = evaluate_run(path)
        say(steps, "explain")
        explained = explain_run(path, queries=300 if quick else None, check=300 if quick else None)
        say(steps, "heads")
        if isinstance(cfg.data, DatasetSpec) and cfg.data.task.startswith("tree"):
            # The study's tree hypotheses, confirmed causally (ablation and patching vs random heads).
            heads: dict[str, Any] = {"tree": confirm_tree_heads(open_run(path), n=100, n_random=4)}
        else:  # binary: recursion heads in the final decoder layer, ablation vs random heads
            heads = head_findings(path, quick=True)
        record(path)
        options = dict(cfg.data.options) if isinstance(cfg.data, DatasetSpec) else {}
        row = {
            "name": cfg.name,
            "config_digest": cfg.digest(),
            "steps": steps,
            "accuracy_id": result["accuracy_id"],
            "accuracy_ood": result["accuracy_ood"],
            "breakdown": _breakdown(result),
            "metamodel": portable(explained, task_name(cfg.data), options),
            "heads": {k: heads.get(k) for k in ("recursion_heads", "ablation_drop", "perturbation", "tree")},
            "error": None,
        }
        atomic_write_json(path / ANALYSIS / ROW, row)
        say(steps, "done")
        return row
    except (BadInput, RuntimeError, ValueError, OSError) as e:
        return {"name": cfg.name, "config_digest": cfg.digest(), "error": f"{type(e).__name__}: {e}"}
