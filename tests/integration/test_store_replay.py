"""Exact replay: a run re-executes bit-identically; tampered artifacts are found and named."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from behaviorlab.store import replay, rescore
from behaviorlab.store.compare import same_value
from behaviorlab.train import evaluate_run, train
from behaviorlab.train.checkpoint import latest_entry
from behaviorlab.train.config import validate


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny trained and evaluated run, shared read-only (tests tamper with copies)."""
    from conftest import TINY

    out = tmp_path_factory.mktemp("replay") / "run"
    train(validate(TINY, "tiny"), out, progress=False)
    evaluate_run(out)
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(run, dst)
    return dst


def _cli() -> typer.Typer:
    from behaviorlab.cli.runs import replay_cmd

    app = typer.Typer()
    app.command()(replay_cmd)
    return app


def test_replay_is_bit_identical(run: Path, tmp_path: Path) -> None:
    report = replay(run, keep=tmp_path / "again")
    assert report.identical, [str(d) for d in report.differences]
    assert any("checkpoint files" in c for c in report.checked)
    assert any("predictions" in c for c in report.checked)
    assert not [w for w in report.warnings if "differs:" in w]  # same machine, same versions
    preds = pq.read_table(tmp_path / "again" / "predictions.parquet").to_pylist()
    assert preds and all(p["logprobs"] for p in preds)


def test_tampered_checkpoint_is_detected_by_replay(run: Path, tmp_path: Path) -> None:
    copy = _copy(run, tmp_path)
    entry = latest_entry(copy / "checkpoints")
    assert entry is not None
    f = copy / "checkpoints" / entry["dir"] / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[-1] ^= 0x01
    f.write_bytes(bytes(data))
    report = replay(copy)
    assert not report.identical
    assert any("model.safetensors" in d.artifact and "tampered" in d.detail for d in report.differences)
    result = CliRunner().invoke(_cli(), [str(copy), "--from-checkpoint"])
    assert result.exit_code == 1 and "DIFFERS" in result.stdout


def _nudge(x: float) -> float:
    """The next float64 after x: the smallest possible change."""
    (bits,) = struct.unpack("<q", struct.pack("<d", x))
    (y,) = struct.unpack("<d", struct.pack("<q", bits + 1))
    return float(y)


def test_rescore_from_checkpoint_detects_one_ulp(run: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(_cli(), [str(run), "--from-checkpoint", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["identical"] is True
    copy = _copy(run, tmp_path)
    rows: list[dict[str, Any]] = pq.read_table(copy / "predictions.parquet").to_pylist()
    rows[3]["logprobs"][0] = _nudge(rows[3]["logprobs"][0])
    pq.write_table(pa.Table.from_pylist(rows), copy / "predictions.parquet")
    report = rescore(copy)
    assert [d.detail.split(":")[0] for d in report.differences] == ["row 3 column 'logprobs'"]


def test_replay_detects_changed_metrics(run: Path, tmp_path: Path) -> None:
    copy = _copy(run, tmp_path)
    table = pq.read_table(copy / "metrics.parquet").to_pylist()
    last = max(i for i, r in enumerate(table) if r["loss"] is not None)  # test-split curve rows have none
    table[last]["loss"] = _nudge(table[last]["loss"])
    pq.write_table(pa.Table.from_pylist(table), copy / "metrics.parquet")
    report = replay(copy)
    assert [d.artifact for d in report.differences] == ["metrics.parquet"]


def test_same_value_is_bitwise() -> None:
    assert same_value(float("nan"), float("nan"))
    assert not same_value(0.0, -0.0)
    assert not same_value([1.0, 2.0], [1.0, _nudge(2.0)])
    assert not same_value(1, True)
