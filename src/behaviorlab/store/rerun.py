"""Exact replay: re-run a recorded run (or re-score its predictions) and prove bit-identity."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.io import read_parquet
from behaviorlab.rundir import CHECKPOINTS, DATA, ENV, METRICS, PREDICTIONS, RunDir, read_json_object
from behaviorlab.store.compare import (
    Difference,
    compare_checkpoints,
    compare_rows,
    verify_on_disk,
)
from behaviorlab.train import determinism
from behaviorlab.train.checkpoint import latest_entry
from behaviorlab.train.run import read_config

ENV_KEYS = ("torch", "python", "numpy", "platform", "machine", "threads")
EVAL_BATCH_SIZE = 256  # what `evaluate_run` (and so `behaviorlab eval`) decodes with


@dataclass
class ReplayReport:
    """What a replay compared, what differed, and environment warnings."""

    run_dir: Path
    mode: str  # "full" (retrain) or "checkpoint" (re-score from the stored final checkpoint)
    checked: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    replay_dir: Path | None = None  # kept only when asked

    @property
    def identical(self) -> bool:
        """True when every compared artifact is bit-identical."""
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "run_dir": str(self.run_dir),
            "mode": self.mode,
            "identical": self.identical,
            "checked": self.checked,
            "differences": [{"artifact": d.artifact, "detail": d.detail} for d in self.differences],
            "warnings": self.warnings,
            "replay_dir": str(self.replay_dir) if self.replay_dir else None,
        }


def environment_warnings(run_dir: Path, threads: int, seed: int) -> list[str]:
    """Differences between the recorded env.json and this process (bit-identity may not hold)."""
    path = run_dir / ENV
    if not path.is_file():
        return [f"{path}: missing; cannot check the recorded environment"]
    recorded = read_json_object(path)
    here = determinism.environment(seed, threads)
    return [
        f"{k} differs: recorded {recorded.get(k)!r}, here {here.get(k)!r}"
        for k in ENV_KEYS
        if recorded.get(k) != here.get(k)
    ]


def _training_run(run_dir: Path) -> RunDir:
    run = RunDir.open(run_dir)
    if run.kind != "train":
        raise BadInput(
            f"{run_dir}: replay of a {run.kind} run: use `behaviorlab replay` on its training runs"
        )
    return run


def _recorded_splits(run_dir: Path) -> list[str]:
    """The splits the recorded predictions cover, in file order."""
    table = read_parquet(run_dir / PREDICTIONS, columns=["split"])
    return list(dict.fromkeys(table.column("split").to_pylist()))


def replay(run_dir: Path, *, keep: Path | None = None, progress: bool = False) -> ReplayReport:
    """Retrain from config.toml (recorded seed and threads); compare every artifact bit for bit."""
    from behaviorlab.train import TrainingFailed, evaluate_run, train

    recorded = _training_run(run_dir)
    cfg = read_config(run_dir)
    report = ReplayReport(run_dir, "full")
    report.warnings = environment_warnings(run_dir, cfg.train.threads, cfg.train.seed)
    report.differences += verify_on_disk(run_dir)
    last = latest_entry(run_dir / CHECKPOINTS)
    # Replay exactly as far as the recorded run went (it may have been stopped early).
    stop_after = last["step"] if last is not None else None
    with tempfile.TemporaryDirectory(prefix="behaviorlab-replay-") as tmp:
        out = keep if keep is not None else Path(tmp) / "run"
        try:
            train(cfg, out, force=keep is None, progress=progress, stop_after=stop_after)
        except TrainingFailed as e:
            recorded_error = recorded.summary.get("error")
            report.differences.append(
                Difference("training", f"replay failed: {e.one_line()} (recorded: {recorded_error})")
            )
            return report
        notes: list[str] = []
        diffs, n_files = compare_checkpoints(run_dir, out, notes)
        report.differences += diffs
        if notes:  # safetensors metadata order is not deterministic across processes
            report.warnings.append(
                f"{len(notes)} checkpoint file(s) match tensor for tensor but not byte for byte "
                "(safetensors metadata key order), e.g. " + notes[0]
            )
        report.checked.append(f"{n_files} checkpoint files (sha256)")
        for split in sorted(p.name for p in (run_dir / DATA).glob("*.parquet")):
            report.differences += compare_rows(f"{DATA}/{split}", run_dir / DATA / split, out / DATA / split)
        report.checked.append("data splits (rows)")
        report.differences += compare_rows(METRICS, run_dir / METRICS, out / METRICS)
        report.checked.append(f"{METRICS} (rows)")
        if (run_dir / PREDICTIONS).is_file():
            evaluate_run(out, _recorded_splits(run_dir), batch_size=EVAL_BATCH_SIZE)
            report.differences += compare_rows(PREDICTIONS, run_dir / PREDICTIONS, out / PREDICTIONS)
            report.checked.append(f"{PREDICTIONS} (rows, per-token log-probs)")
        report.replay_dir = keep
    return report


def rescore(run_dir: Path, *, keep: Path | None = None) -> ReplayReport:
    """No training: decode the recorded splits again from the final checkpoint and compare."""
    from behaviorlab.evaluate import predict
    from behaviorlab.evaluate.records import prediction_rows, write_predictions
    from behaviorlab.train.run import open_run

    _training_run(run_dir)
    cfg = read_config(run_dir)
    report = ReplayReport(run_dir, "checkpoint")
    report.warnings = environment_warnings(run_dir, cfg.train.threads, cfg.train.seed)
    report.differences += verify_on_disk(run_dir)
    report.checked.append("checkpoint files against the manifest (sha256)")
    if report.differences:
        return report  # a tampered checkpoint cannot be trusted to re-score anything
    if not (run_dir / PREDICTIONS).is_file():
        report.differences.append(Difference(PREDICTIONS, "missing; evaluate the run first"))
        return report
    determinism.configure(cfg.train.seed, cfg.train.threads)
    run = open_run(run_dir)
    names = _recorded_splits(run_dir)
    preds = {s: predict(run.model, run.task, run.splits[s], EVAL_BATCH_SIZE) for s in names}
    rows = prediction_rows(preds, run.task.vocab.tokenize)
    with tempfile.TemporaryDirectory(prefix="behaviorlab-rescore-") as tmp:
        out = (keep if keep is not None else Path(tmp)) / PREDICTIONS
        write_predictions(out, rows)
        report.differences += compare_rows(PREDICTIONS, run_dir / PREDICTIONS, out)
    report.checked.append(f"{PREDICTIONS} (rows, per-token log-probs)")
    report.replay_dir = keep
    return report
