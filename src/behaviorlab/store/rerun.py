"""Exact replay: re-run a recorded run (or re-score its predictions) and prove bit-identity.

`replay_run` is the door for runs of every kind: it opens the run once and picks what replaying
means for it (a probe run re-generates its outputs; a training run retrains, or re-scores from its
final checkpoint).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.rundir import ENV, PREDICTIONS, RunDir
from behaviorlab.store.compare import (
    Difference,
    ReplayReport,
    compare_predictions,
    compare_records,
    prediction_splits,
)
from behaviorlab.train import determinism
from behaviorlab.train.config import ExperimentConfig
from behaviorlab.train.run import config_of

EVAL_BATCH_SIZE = 256  # what `evaluate_run` (and so `behaviorlab eval`) decodes with


def replay_run(run_dir: Path, *, from_checkpoint: bool = False, keep: Path | None = None) -> ReplayReport:
    """Replay a run of any kind, with the thread count it was made with (1 for probe runs)."""
    run = RunDir.open(run_dir)
    if run.kind == "probe":
        if from_checkpoint or keep is not None:
            raise BadInput("--from-checkpoint and --out apply to training runs, not to a probe run")
        from behaviorlab.store.probe_replay import replay_probe

        determinism.set_threads(1)
        return replay_probe(run)
    return rescore(run, keep=keep) if from_checkpoint else replay(run, keep=keep)


@dataclass
class _Recorded:
    """A training run opened once for replay: its record, config, checkpoint entries, and the
    report begun with the environment warnings and every checkpoint file checked."""

    run: RunDir
    cfg: ExperimentConfig
    entries: list[dict[str, Any]]
    report: ReplayReport


def _recorded(run: Path | RunDir, mode: str) -> _Recorded:
    """What a replay of a training run reads from its recording, read once (opened when given a
    path)."""
    run = run if isinstance(run, RunDir) else RunDir.open(Path(run))
    if run.kind != "train":
        what = f"replay of a {run.kind} run"
        raise BadInput(f"{run.path}: {what}: use `behaviorlab replay` on its training runs")
    env = run.env() if run.file(ENV).is_file() else None
    entries, problems = run.checkpoints(), run.checkpoint_problems()
    cfg = config_of(run)
    report = ReplayReport(run.path, mode)
    if env is None:
        report.warnings.append(f"{run.file(ENV)}: missing; cannot check the recorded environment")
    else:
        report.warnings += determinism.environment_differences(env, cfg.train.seed, cfg.train.threads)
    report.differences += [Difference(rel, problem) for rel, problem in problems]
    return _Recorded(run, cfg, entries, report)


def replay(run: Path | RunDir, *, keep: Path | None = None, progress: bool = False) -> ReplayReport:
    """Retrain from config.toml (recorded seed and threads); compare every artifact bit for bit."""
    from behaviorlab.train import TrainingFailed, evaluate_run, train

    recorded = _recorded(run, "full")
    cfg, entries, report = recorded.cfg, recorded.entries, recorded.report
    # Replay exactly as far as the recorded run went (it may have been stopped early).
    stop_after = entries[-1]["step"] if entries else None
    splits = prediction_splits(recorded.run.file(PREDICTIONS))
    with tempfile.TemporaryDirectory(prefix="behaviorlab-replay-") as tmp:
        out = keep if keep is not None else Path(tmp) / "run"
        try:
            train(cfg, out, force=keep is None, progress=progress, stop_after=stop_after, sinks=False)
        except TrainingFailed as e:
            recorded_error = recorded.run.summary.get("error")
            report.differences.append(
                Difference("training", f"replay failed: {e.one_line()} (recorded: {recorded_error})")
            )
            return report
        if splits:
            evaluate_run(out, splits, batch_size=EVAL_BATCH_SIZE)
        compared = compare_records(recorded.run.path, entries, out, predictions=bool(splits))
        report.differences += compared.differences
        report.checked += compared.checked
        report.warnings += compared.warnings
        report.replay_dir = keep
    return report


def rescore(run: Path | RunDir, *, keep: Path | None = None) -> ReplayReport:
    """No training: decode the recorded splits again from the final checkpoint and compare."""
    from behaviorlab.evaluate import predict
    from behaviorlab.evaluate.records import prediction_rows, write_predictions
    from behaviorlab.train.run import load_run

    recorded = _recorded(run, "checkpoint")
    report = recorded.report
    report.checked.append("checkpoint files against the manifest (sha256)")
    if report.differences:
        return report  # a tampered checkpoint cannot be trusted to re-score anything
    cfg, path = recorded.cfg, recorded.run.path
    splits = prediction_splits(path / PREDICTIONS)
    if not splits:
        report.differences.append(Difference(PREDICTIONS, "missing; evaluate the run first"))
        return report
    determinism.configure(cfg.train.seed, cfg.train.threads)
    opened = load_run(recorded.run, cfg)
    preds = {s: predict(opened.model, opened.task, opened.splits[s], EVAL_BATCH_SIZE) for s in splits}
    rows = prediction_rows(preds, opened.task.vocab.tokenize)
    with tempfile.TemporaryDirectory(prefix="behaviorlab-rescore-") as tmp:
        out = (keep if keep is not None else Path(tmp)) / PREDICTIONS
        write_predictions(out, rows)
        report.differences += compare_predictions(path / PREDICTIONS, out)
    report.checked.append(f"{PREDICTIONS} (rows, per-token log-probs)")
    report.replay_dir = keep
    return report
