"""The same sweep file on a local Ray instance: same runs, same digests, same numbers as local."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from behaviorlab.store import list_runs
from behaviorlab.sweep import load_sweep, run_sweep
from behaviorlab.train import train

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'behaviorlab[ray]')")


def test_ray_sweep_matches_in_process_training(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    from test_sweep_local import write_sweep

    path = write_sweep(tmp_path, tiny_raw)
    out = tmp_path / "out"
    summary = run_sweep(path, out=out, backend="ray", progress=False)  # starts and stops Ray
    assert not ray.is_initialized()
    rows = summary["runs"]
    assert [r["status"] for r in rows] == ["complete", "complete"], rows
    assert json.loads((out / "sweep.json").read_text())["backend"] == "ray"
    assert {r["config_digest"] for r in list_runs(out / "catalog.sqlite")} == {r["digest"] for r in rows}
    # A Ray worker's run is bit-identical to training the same config in this process.
    first = load_sweep(path).runs[0]
    train(first.config, tmp_path / "here", progress=False)
    ray_metrics = pq.read_table(out / first.digest / "metrics.parquet").to_pylist()
    assert ray_metrics == pq.read_table(tmp_path / "here" / "metrics.parquet").to_pylist()
