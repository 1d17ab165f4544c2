"""train.compile: compiled runs are bit-identical run to run and across resume; cost reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import torch
from safetensors.torch import load_file

from behaviorlab.train import train
from behaviorlab.train.checkpoint import latest_entry
from behaviorlab.train.config import validate


def _same_weights(a: Path, b: Path) -> bool:
    ea, eb = latest_entry(a / "checkpoints"), latest_entry(b / "checkpoints")
    assert ea is not None and eb is not None
    wa = load_file(a / "checkpoints" / ea["dir"] / "model.safetensors")
    wb = load_file(b / "checkpoints" / eb["dir"] / "model.safetensors")
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def _metrics(run: Path) -> list[dict[str, Any]]:
    return pq.read_table(run / "metrics.parquet").to_pylist()


def test_compiled_runs_are_bit_identical_and_report_compile_time(
    tmp_path: Path, tiny_raw: dict[str, Any]
) -> None:
    tiny_raw["train"]["compile"] = True
    cfg = validate(tiny_raw, "tiny")
    torch._dynamo.reset()  # so this process really compiles, whatever ran before
    first = train(cfg, tmp_path / "a", progress=False)
    assert first["compile_seconds"] > 0
    train(cfg, tmp_path / "b", progress=False)
    train(cfg, tmp_path / "part", progress=False, stop_after=13)
    train(cfg, tmp_path / "part", progress=False, resume=True)
    for other in ("b", "part"):
        assert _same_weights(tmp_path / "a", tmp_path / other), other
        assert _metrics(tmp_path / "a") == _metrics(tmp_path / other), other
    # Another process compiles for itself (or loads inductor's cache): still the same bits.
    cfg_path = tmp_path / "cfg.toml"
    cfg_path.write_text(cfg.to_toml())
    cmd = [sys.executable, "-m", "behaviorlab", "train", str(cfg_path), "--out", str(tmp_path / "c")]
    done = subprocess.run([*cmd, "--no-evaluate"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _same_weights(tmp_path / "a", tmp_path / "c")
    assert json.loads((tmp_path / "c" / "summary.json").read_text())["compile_seconds"] is not None
    # Compiled kernels round differently from eager ones: close, but another run.
    tiny_raw["train"]["compile"] = False
    eager = train(validate(tiny_raw, "tiny"), tmp_path / "eager", progress=False)
    assert eager["compile_seconds"] is None
    assert not _same_weights(tmp_path / "a", tmp_path / "eager")
