"""One run of a study, inside a worker process: train (or resume), evaluate, then the analyses the
study asks for (explain, heads); the row it returns, with the run's CPU seconds, is also kept as
RUN/analysis/study_row.json, so a resumed study skips finished runs without redoing any of it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json
from behaviorlab.rundir import ANALYSIS, STUDY_ROW, RunDir, is_run

if TYPE_CHECKING:  # torch is imported inside the worker, not when a study is planned
    from behaviorlab.train import ExperimentConfig

ROW = STUDY_ROW
# Breakdown fields a study table shows, per family.
FIELDS = ("length", "size", "depth")
ANALYSES = ("explain", "heads")  # what may follow evaluation; a study names the ones it needs


def finished_row(run_dir: Path, digest: str, analyses: Sequence[str]) -> dict[str, Any] | None:
    """The recorded row of a finished run of this exact config and these analyses, if any."""
    path = run_dir / ANALYSIS / ROW
    if not path.is_file():
        return None
    try:
        row = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    if not isinstance(row, dict) or row.get("config_digest") != digest:
        return None
    return row if row.get("analyses", list(ANALYSES)) == list(analyses) else None


def _breakdown(result: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """split -> field -> {value: accuracy} for the study's breakdown fields."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for split, s in result["splits"].items():
        out[split] = {
            f: {str(k): v["accuracy"] for k, v in s["by"][f].items()} for f in FIELDS if f in s["by"]
        }
    return out


def run_one(
    cfg_json: str, run_dir: str, quick: bool, analyses: Sequence[str] = ANALYSES, updates: Any = None
) -> dict[str, Any]:
    """Train, evaluate and analyse one (cell, seed); returns its row.

    Failures are rows too (`error`), so one broken run does not end the study."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    import torch

    from behaviorlab.store import record
    from behaviorlab.train import ExperimentConfig, evaluate_run
    from behaviorlab.train.job import train_job
    from behaviorlab.train.run import holds_run_of, open_run

    torch.set_num_threads(1)  # one core per worker
    cfg = ExperimentConfig.model_validate_json(cfg_json)
    path = Path(run_dir)
    if (row := finished_row(path, cfg.digest(), analyses)) is not None:
        return row

    def say(step: int, phase: str) -> None:
        if updates is not None:
            updates.put((cfg.name, step, phase))

    try:
        if not (holds_run_of(path, cfg) and is_run(path) and RunDir.open(path).status == "complete"):
            train_job(cfg, path, on_step=lambda s: say(s, "train"))
        trained = RunDir.open(path).summary
        steps = int(trained.get("steps") or 0)
        say(steps, "evaluate")
        result = evaluate_run(path)
        row = {
            "name": cfg.name,
            "config_digest": cfg.digest(),
            "analyses": list(analyses),
            "steps": steps,
            # Accuracy on the training monitor at the end: tells "did not fit" from "did not generalise".
            "train_accuracy": trained.get("monitor_accuracy"),
            "params": sum(p.numel() for p in open_run(path).model.parameters()),
            "accuracy_id": result["accuracy_id"],
            "accuracy_ood": result["accuracy_ood"],
            "accuracy_by_split": {s: v["accuracy"] for s, v in result["splits"].items()},
            "breakdown": _breakdown(result),
            **_analyse(cfg, path, quick, analyses, lambda phase: say(steps, phase)),
            "error": None,
        }
        record(path)
        row.update(
            cpu_seconds=round(time.process_time() - cpu0, 1),
            wall_seconds=round(time.perf_counter() - wall0, 1),
        )
        atomic_write_json(path / ANALYSIS / ROW, row)
        say(steps, "done")
        return row
    except (BadInput, RuntimeError, ValueError, OSError) as e:
        return {
            "name": cfg.name,
            "config_digest": cfg.digest(),
            "error": f"{type(e).__name__}: {e}",
            "cpu_seconds": round(time.process_time() - cpu0, 1),
        }


def _analyse(
    cfg: ExperimentConfig, path: Path, quick: bool, analyses: Sequence[str], say: Callable[[str], None]
) -> dict[str, Any]:
    """The row's `metamodel` (explain) and `heads` parts, for the analyses asked for."""
    from behaviorlab.interpret.findings import head_findings
    from behaviorlab.interpret.tree_heads import confirm_tree_heads
    from behaviorlab.metamodels.on_run import explain_run
    from behaviorlab.metamodels.portable import portable
    from behaviorlab.tasks.dataset import DatasetSpec
    from behaviorlab.train.data import task_name
    from behaviorlab.train.run import open_run

    out: dict[str, Any] = {}
    if "explain" in analyses:
        say("explain")
        explained = explain_run(path, queries=300 if quick else None, check=300 if quick else None)
        options = dict(cfg.data.options) if isinstance(cfg.data, DatasetSpec) else {}
        out["metamodel"] = portable(explained, task_name(cfg.data), options)
    if "heads" in analyses:
        say("heads")
        if isinstance(cfg.data, DatasetSpec) and cfg.data.task.startswith("tree"):
            # The study's tree hypotheses, confirmed causally (ablation and patching vs random heads).
            heads: dict[str, Any] = {"tree": confirm_tree_heads(open_run(path), n=100, n_random=4)}
        else:  # binary: recursion heads in the final decoder layer, ablation vs random heads
            heads = head_findings(path, quick=True)
        out["heads"] = {k: heads.get(k) for k in ("recursion_heads", "ablation_drop", "perturbation", "tree")}
    return out
