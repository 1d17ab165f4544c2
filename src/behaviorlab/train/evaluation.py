"""Evaluate a run: predictions.parquet, accuracy by split and metadata, the failure catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.evaluate import predict, summarize
from behaviorlab.evaluate.records import prediction_rows, write_predictions
from behaviorlab.outdir import check_links
from behaviorlab.rundir import PREDICTIONS, RunDir, write_summary
from behaviorlab.train.run import open_run

FAILURE_FIELDS = ("split", "input", "target", "prediction", "first_wrong", "edit_distance")


def evaluate_run(run_dir: Path, splits: list[str] | None = None, batch_size: int = 256) -> dict[str, Any]:
    """Greedy-decode the chosen splits (default: all but train) and record the results."""
    run = open_run(run_dir)
    names = splits or [s for s in run.splits if s != "train"]
    unknown = [s for s in names if s not in run.splits]
    if unknown:
        raise BadInput(f"{run_dir}: unknown split(s) {unknown}; have {sorted(run.splits)}")
    preds = {s: predict(run.model, run.task, run.splits[s], batch_size) for s in names}
    rows = prediction_rows(preds, run.task.vocab.tokenize)
    write_predictions(check_links(run_dir) / PREDICTIONS, rows)
    result = summarize(preds)
    result["failures"] = [
        {
            **{k: r[k] for k in FAILURE_FIELDS},
            **{k[5:]: v for k, v in r.items() if k.startswith("meta_")},
        }
        for r in rows
        if not r["correct"]
    ]
    summary = RunDir.open(run_dir).summary
    summary.update(
        status="complete" if summary.get("status") in ("trained", "complete") else summary.get("status"),
        accuracy_id=result["accuracy_id"],
        accuracy_ood=result["accuracy_ood"],
        accuracy_by_split={s: v["accuracy"] for s, v in result["splits"].items()},
        n_failures=len(result["failures"]),
    )
    write_summary(run_dir, summary)
    return result
