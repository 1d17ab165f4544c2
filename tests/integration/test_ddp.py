"""DistributedDataParallel over 2 local processes matches single-process training step for step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from behaviorlab.errors import BadInput
from behaviorlab.train import evaluate_run, train
from behaviorlab.train.config import validate
from behaviorlab.train.distributed import check_supported, train_distributed


def test_two_processes_match_single_process_losses(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    cfg = validate(tiny_raw, "tiny")  # 30 steps, global batch 16 -> 8 rows per rank
    train(cfg, tmp_path / "single", progress=False)
    summary = train_distributed(cfg, tmp_path / "ddp", nproc=2)
    assert summary["world_size"] == 2 and summary["steps"] == cfg.train.steps
    rows = {d: pq.read_table(tmp_path / d / "metrics.parquet").to_pylist() for d in ("single", "ddp")}
    assert [(r["step"], r["split"]) for r in rows["ddp"]] == [(r["step"], r["split"]) for r in rows["single"]]
    # The monitor split's rows carry the loss (the others are accuracy curves).
    single, ddp = ([r for r in rows[d] if r["split"] == cfg.train.monitor_split] for d in ("single", "ddp"))
    assert [r["step"] for r in ddp] == [r["step"] for r in single] == [10, 20, 30]
    for a, b in zip(single, ddp, strict=True):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-4)
        assert b["lr"] == a["lr"]
    assert ddp[0]["loss"] != ddp[-1]["loss"]  # it actually trained
    env = json.loads((tmp_path / "ddp" / "env.json").read_text())
    assert env["world_size"] == 2
    result = evaluate_run(tmp_path / "ddp")  # a DDP run directory is an ordinary run directory
    assert result["accuracy_ood"] is not None


def test_unsupported_configs_are_refused_before_spawning(tiny_raw: dict[str, Any]) -> None:
    tiny_raw["optim"] = {"name": "sophia-g", "lr": 1e-3}
    with pytest.raises(BadInput, match="Hessian estimator"):
        check_supported(validate(tiny_raw, "tiny"), 2)
    tiny_raw["optim"] = {"name": "adamw", "lr": 1e-3}
    tiny_raw["train"]["batch_size"] = 1
    with pytest.raises(BadInput, match="smaller than 2 processes"):
        check_supported(validate(tiny_raw, "tiny"), 2)
    tiny_raw["train"].update(batch_size=16, compile=True)
    with pytest.raises(BadInput, match="runs eager"):
        check_supported(validate(tiny_raw, "tiny"), 2)


def test_cli_trains_with_nproc_and_under_torchrun(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    import subprocess
    import sys

    cfg = validate(tiny_raw, "tiny")
    (tmp_path / "tiny.toml").write_text(cfg.to_toml())
    bl = [sys.executable, "-m", "behaviorlab", "train", str(tmp_path / "tiny.toml")]
    subprocess.run([*bl, "--out", str(tmp_path / "spawned"), "--nproc", "2"], check=True, capture_output=True)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "behaviorlab"]
    subprocess.run(
        [*torchrun, *bl[3:], "--out", str(tmp_path / "torchrun")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    for name in ("spawned", "torchrun"):
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        assert summary["world_size"] == 2 and summary["status"] == "complete"  # trained and evaluated
    a = pq.read_table(tmp_path / "spawned" / "metrics.parquet").to_pylist()
    b = pq.read_table(tmp_path / "torchrun" / "metrics.parquet").to_pylist()
    assert a == b  # the same processes and the same loop, however they were started
