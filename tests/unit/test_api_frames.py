"""The notebook API returns tables as pandas DataFrames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import behaviorlab
from behaviorlab.store import record
from behaviorlab.train import evaluate_run, train
from behaviorlab.train.config import validate


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import TINY

    out = tmp_path_factory.mktemp("api") / "run"
    train(validate(TINY, "tiny"), out, progress=False)
    evaluate_run(out)
    record(out)
    return out


def test_tables_are_dataframes(run_dir: Path) -> None:
    run: Any = behaviorlab.open(run_dir)
    preds = run.predictions()
    assert isinstance(preds, pd.DataFrame) and "logprobs" not in preds and len(preds) == 80
    fails = run.failures("test_ood")
    assert (
        isinstance(fails, pd.DataFrame) and not fails["correct"].any() and set(fails["split"]) <= {"test_ood"}
    )
    metrics = run.metrics()
    assert list(metrics[metrics["split"] == "train"]["step"]) == [10, 20, 30]
    assert set(metrics["split"]) == {"train", "test_id", "test_ood"}  # ID and OOD curves
    scores = run.head_scores(split="train", n=10)
    assert isinstance(scores, pd.DataFrame) and {"kind", "layer", "head", "hypothesis", "score"} <= set(
        scores
    )
    catalog = behaviorlab.runs(run_dir.parent / "catalog.sqlite")
    assert isinstance(catalog, pd.DataFrame) and list(catalog["kind"]) == ["train"]
    assert behaviorlab.runs(run_dir.parent / "catalog.sqlite", kind="probe").empty
