"""Synthetic run directories with the files and columns train/evaluate write (also used by the
other report tests), and tests of reading them back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from behaviorlab.errors import BadInput
from behaviorlab.report.rundata import load_collection, load_run

CONFIG = """name = "{name}"

[data]
task = "binary-successor"
seed = 0

[data.options]
order = "reverse"

[train]
seed = 7
steps = 30
"""


def _metrics(sophia: bool) -> list[dict[str, Any]]:
    rows = []
    for step in (10, 20, 30):
        row: dict[str, Any] = {
            "step": step,
            "split": "test_id",
            "loss": 2.0 / step,
            "accuracy": step / 40,
            "lr": 1e-3,
        }
        if sophia:
            row.update(
                win_rate=0.5 + step / 100,
                hessian_mean=1e-3 * step,
                hessian_max=0.1,
                hessian_min=1e-6,
                hessian_updates=float(step // 10),
                hessian_skipped=0.0,
            )
        rows.append(row)
    return rows


def _predictions() -> list[dict[str, Any]]:
    rows = []
    for split, lengths in (("test_id", range(1, 7)), ("test_ood", range(7, 9))):
        for i, n in enumerate(lengths):
            for carry in (0, 1):
                correct = split == "test_id" and (n + carry) % 3 != 0
                target = " ".join("1" * n)
                pred = target if correct else " ".join("0" * (n - 1))
                rows.append(
                    {
                        "split": split,
                        "input": " ".join("1" * n),
                        "target": target,
                        "prediction": pred,
                        "correct": correct,
                        "first_wrong": None if correct else 0,
                        "edit_distance": 0 if correct else n,
                        "tokens": pred.split(),
                        "logprobs": [-0.1] * len(pred.split()),
                        "sum_logprob": -0.1 * i,
                        "meta_length": n,
                        "meta_carry": carry,
                    }
                )
    return rows


def _analysis(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    toks = ["<bos>", "1", "1", "0"]
    attention = [
        {
            "kind": kind,
            "layer": 0,
            "head": h,
            "query_tokens": toks,
            "key_tokens": toks + ["<eos>"],
            # Mostly on the previous key, the rest spread evenly: a recognisable pattern.
            "weights": [[0.6 if k == max(0, q - 1 + h) else 0.1 for k in range(5)] for q in range(4)],
            "group": "carry=1",
        }
        for kind in ("encoder", "cross")
        for h in (0, 1)
    ]
    heads = [
        {"hypothesis": "previous-token", "head": h, "layer": 0, "kind": "encoder", "score": h / 4}
        for h in range(4)
    ]
    files = {
        "attention.json": attention,
        "head_scores.json": heads,
        "ablation.json": [{"component": "enc.0.attn", "accuracy_drop": 0.4}],
        "perturbation.json": [{"edit": "flip bit 0", "accuracy": 0.9}],
        "metamodel.json": {
            "program_text": "if carry then flip else copy",
            "failure_prediction_rate": 0.8,
            "failure_precision": 0.75,
            "metamodel_agreement": 0.95,
            "metamodel_size": 7,
            "mutual_information_bits": 0.42,
        },
        "probes.json": [{"probe": "length", "accuracy": 1.0}],
        "imitation.json": [{"student": "s0", "style": 0.7, "content": 0.6}],
    }
    for name, obj in files.items():
        (folder / name).write_text(json.dumps(obj))


def make_run(
    path: Path,
    *,
    name: str = "tiny",
    sophia: bool = False,
    evaluated: bool = True,
    analysis: bool = False,
) -> Path:
    """A run directory as train (+ evaluate_run when `evaluated`) leaves it."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.toml").write_text(CONFIG.format(name=name))
    (path / "env.json").write_text(json.dumps({"torch": "2.13.0", "python": "3.11.9", "seed": 7}))
    summary: dict[str, Any] = {
        "status": "trained",
        "name": name,
        "task": "binary-successor",
        "config_digest": "ab" * 32,
        "steps": 30,
    }
    pq.write_table(pa.Table.from_pylist(_metrics(sophia)), path / "metrics.parquet")
    if evaluated:
        pq.write_table(pa.Table.from_pylist(_predictions()), path / "predictions.parquet")
        summary.update(status="complete", accuracy_id=0.5, accuracy_ood=0.0)
    (path / "summary.json").write_text(json.dumps(summary))
    if analysis:
        _analysis(path / "analysis")
    return path


def make_demo(path: Path) -> Path:
    """A demo directory: summary.json with a `models` map of run dirs."""
    make_run(path / "run-a", name="run-a")
    make_run(path / "run-b", name="run-b", sophia=True)
    models = {
        "task/a": {"accuracy_id": 0.5, "accuracy_ood": 0.0, "run_dir": "run-a", "steps": 30},
        "task/b": {"accuracy_id": 0.9, "accuracy_ood": 0.3, "run_dir": "run-b", "steps": 30},
    }
    (path / "summary.json").write_text(
        json.dumps({"quick": True, "optimizer": "adamw", "seconds": 1.0, "models": models})
    )
    return path


def test_load_run_reads_every_file(tmp_path: Path) -> None:
    run = load_run(make_run(tmp_path / "r", sophia=True))
    assert run.name == "tiny" and run.env["seed"] == 7 and run.config["data"]["task"] == "binary-successor"
    assert len(run.metrics) == 3 and "win_rate" in run.metrics[0]
    assert run.has_predictions and "logprobs" not in run.predictions[0]  # large, never shown


def test_load_run_rejects_non_run_dirs(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not a run directory"):
        load_run(tmp_path)


def test_garbled_summary_is_bad_input(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r")
    (run / "summary.json").write_text("{nope")
    with pytest.raises(BadInput, match="summary.json: not valid JSON"):
        load_run(run)


def test_collections(tmp_path: Path) -> None:
    demo = load_collection(make_demo(tmp_path / "demo"))
    assert demo is not None and demo.kind == "demo"
    assert [r["label"] for r in demo.rows] == ["task/a", "task/b"]
    assert all(run is not None for run in demo.runs.values())
    sweep = tmp_path / "sweep"
    make_run(sweep / "r0")
    (sweep / "sweep.json").write_text(
        json.dumps(
            {
                "runs": [
                    {
                        "run_dir": "r0",
                        "overrides": {"optim.lr": 1e-3},
                        "accuracy_id": 1.0,
                        "accuracy_ood": 0.5,
                        "status": "complete",
                    },
                    {"run_dir": "gone", "overrides": ["optim.lr=3e-3"], "status": "failed"},
                ]
            }
        )
    )
    coll = load_collection(sweep)
    assert coll is not None and coll.kind == "sweep"
    assert coll.runs["r0"] is not None and coll.runs["gone"] is None
    assert load_collection(make_run(tmp_path / "plain")) is None
