"""Training: determinism, resume after kill -9, refusals and bad input, tampered checkpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import torch
from safetensors.torch import load_file

from behaviorlab.errors import BadInput
from behaviorlab.train import evaluate_run, load_config, train
from behaviorlab.train.checkpoint import latest_entry
from behaviorlab.train.config import validate


def _weights(run: Path) -> dict[str, torch.Tensor]:
    entry = latest_entry(run / "checkpoints")
    assert entry is not None
    return load_file(run / "checkpoints" / entry["dir"] / "model.safetensors")


def _same_weights(a: Path, b: Path) -> bool:
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def _metrics(run: Path) -> list[dict[str, Any]]:
    return pq.read_table(run / "metrics.parquet").to_pylist()


def test_curves_log_id_and_ood_accuracy_and_change_nothing(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    train(validate(tiny_raw, "tiny"), tmp_path / "a", progress=False)
    tiny_raw["track"] = {"curves": []}
    quiet = validate(tiny_raw, "tiny")
    train(quiet, tmp_path / "b", progress=False)
    # Evaluating more splits draws nothing from any RNG: the same weights, the same monitor rows.
    assert _same_weights(tmp_path / "a", tmp_path / "b")
    rows = _metrics(tmp_path / "a")
    assert [r for r in rows if r["split"] == "train"] == _metrics(tmp_path / "b")
    first = min(r["step"] for r in rows)
    assert [r["split"] for r in rows if r["step"] == first] == ["train", "test_id", "test_ood"]
    assert all(0.0 <= r["accuracy"] <= 1.0 and r["loss"] is None for r in rows if r["split"] != "train")
    from conftest import TINY

    assert quiet.digest() == validate(TINY, "tiny").digest()  # where results go is not the run's identity
    assert (tmp_path / "a" / "metrics.jsonl").read_text().count("\n") == len(rows)  # the journal


def test_same_config_and_seed_is_bit_identical(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    cfg = validate(tiny_raw, "tiny")
    train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", progress=False)
    assert _same_weights(tmp_path / "a", tmp_path / "b")
    assert _metrics(tmp_path / "a") == _metrics(tmp_path / "b")
    tiny_raw["train"]["seed"] = 1
    train(validate(tiny_raw, "tiny"), tmp_path / "c", progress=False)
    assert not _same_weights(tmp_path / "a", tmp_path / "c")


def _predictions(run: Path) -> list[dict[str, Any]]:
    evaluate_run(run)
    return pq.read_table(run / "predictions.parquet").to_pylist()


def test_fused_adamw_is_the_recorded_default_and_bit_identical(
    tmp_path: Path, tiny_raw: dict[str, Any]
) -> None:
    cfg = validate(tiny_raw, "tiny")
    assert cfg.optim.fused and "fused = true" in cfg.to_toml()
    train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", progress=False)
    assert "fused = true" in (tmp_path / "a" / "config.toml").read_text()
    assert _same_weights(tmp_path / "a", tmp_path / "b")
    assert _metrics(tmp_path / "a") == _metrics(tmp_path / "b")
    assert _predictions(tmp_path / "a") == _predictions(tmp_path / "b")
    tiny_raw["optim"]["fused"] = False  # the per-tensor loop: same maths, other rounding
    train(validate(tiny_raw, "tiny"), tmp_path / "loop", progress=False)
    assert not _same_weights(tmp_path / "a", tmp_path / "loop")


def test_resume_in_process_is_bit_identical(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    cfg = validate(tiny_raw, "tiny")
    train(cfg, tmp_path / "full", progress=False)
    train(cfg, tmp_path / "part", progress=False, stop_after=13)  # stops between checkpoints
    train(cfg, tmp_path / "part", progress=False, resume=True)
    assert _same_weights(tmp_path / "full", tmp_path / "part")
    assert _metrics(tmp_path / "full") == _metrics(tmp_path / "part")


def test_kill_9_then_resume_matches_uninterrupted(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    tiny_raw["train"].update(steps=1500, checkpoint_every=20, eval_every=500)
    cfg_path = tmp_path / "cfg.toml"
    cfg_path.write_text(validate(tiny_raw, "tiny").to_toml())
    run = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "behaviorlab",
        "train",
        str(cfg_path),
        "--out",
        str(run),
        "--no-evaluate",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline:
        entry = latest_entry(run / "checkpoints") if (run / "checkpoints").exists() else None
        if entry is not None and entry["step"] >= 40:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    entry = latest_entry(run / "checkpoints")
    assert entry is not None and entry["step"] < 1500, "the run finished before it could be killed"
    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    train(load_config(cfg_path), tmp_path / "straight", progress=False)
    assert _same_weights(run, tmp_path / "straight")
    assert _metrics(run) == _metrics(tmp_path / "straight")


def test_existing_out_dir_is_refused_unless_forced(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(BadInput, match="exists"):
        train(validate(tiny_raw, "tiny"), out, progress=False)
    assert (out / "keep.txt").exists()


def test_config_errors_list_the_problems(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    tiny_raw["train"]["stepz"] = 3
    tiny_raw["model"]["d_model"] = "wide"
    with pytest.raises(BadInput) as e:
        validate(tiny_raw, "cfg.toml")
    assert "stepz" in str(e.value) and "d_model" in str(e.value) and "cfg.toml" in str(e.value)
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [unclosed")
    with pytest.raises(BadInput, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(BadInput, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_unknown_task_model_optimizer_are_rejected(tiny_raw: dict[str, Any]) -> None:
    for section, key, value in [
        ("data", "task", "no-such-task"),
        ("model", "kind", "mamba"),
        ("optim", "name", "lion"),
    ]:
        raw = json.loads(json.dumps(tiny_raw))
        raw[section][key] = value
        with pytest.raises(BadInput):
            validate(raw, "cfg")


def test_tampered_checkpoint_is_detected(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    cfg = validate(tiny_raw, "tiny")
    run = tmp_path / "run"
    train(cfg, run, progress=False)
    entry = latest_entry(run / "checkpoints")
    assert entry is not None
    f = run / "checkpoints" / entry["dir"] / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[-1] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(BadInput, match="sha256 mismatch"):
        evaluate_run(run)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    tiny_raw["optim"]["lr"] = 1e30  # guarantees divergence within a few steps
    tiny_raw["train"].update(warmup=0, grad_clip=0.0, checkpoint_every=1, steps=50)
    with pytest.raises(BadInput, match=r"loss became .* at step \d+"):
        train(validate(tiny_raw, "tiny"), tmp_path / "run", progress=False)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed"


def test_run_directory_is_complete(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    run = tmp_path / "run"
    train(validate(tiny_raw, "tiny"), run, progress=False)
    result = evaluate_run(run)
    for name in (
        "config.toml",
        "env.json",
        "metrics.parquet",
        "predictions.parquet",
        "summary.json",
    ):
        assert (run / name).is_file(), name
    manifest = json.loads((run / "checkpoints" / "manifest.json").read_text())
    assert all(len(d) == 64 for e in manifest["checkpoints"] for d in e["files"].values())
    preds = pq.read_table(run / "predictions.parquet").to_pylist()
    assert {p["split"] for p in preds} == {"test_id", "test_ood"}
    assert all(len(p["logprobs"]) - len(p["tokens"]) in (0, 1) for p in preds)  # + eos if emitted
    assert len(result["failures"]) == sum(not p["correct"] for p in preds)
    reloaded = load_config(run / "config.toml")
    assert reloaded.digest() == validate(tiny_raw, "tiny").digest()


@pytest.mark.parametrize("name", ["sophia-g", "sophia-h"])
def test_sophia_trains_resumes_and_logs_win_rate(tmp_path: Path, tiny_raw: dict[str, Any], name: str) -> None:
    tiny_raw["optim"] = {"name": name, "lr": 3e-3, "hessian_every": 3}
    cfg = validate(tiny_raw, "tiny")
    train(cfg, tmp_path / "full", progress=False)
    train(cfg, tmp_path / "part", progress=False, stop_after=14)
    train(cfg, tmp_path / "part", progress=False, resume=True)
    assert _same_weights(tmp_path / "full", tmp_path / "part")
    rows = _metrics(tmp_path / "full")
    assert rows == _metrics(tmp_path / "part")
    rows = [r for r in rows if r["split"] == "train"]  # the monitor's rows (the others: curves)
    assert all(0.0 <= r["win_rate"] <= 1.0 for r in rows)
    assert all(r["hessian_updates"] >= 1 for r in rows)
