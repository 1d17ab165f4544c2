"""`behaviorlab export` after the fact, for a training run, a probe run and an imitation run, read
back with TensorBoard's reader, an MLflow client and pyarrow; `runs export` round-trips through
`behaviorlab.runs(FILE)`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

import behaviorlab
from behaviorlab.cli import main
from behaviorlab.imitation.findings import findings
from behaviorlab.probes import run_probes
from behaviorlab.stats import share
from behaviorlab.store import record
from behaviorlab.train import train
from behaviorlab.train.config import validate
from tests.integration.test_track import _scalars
from tests.unit.probe_fakes import FakeLM


def _imitation_run(path: Path) -> Path:
    """An imitation run's record as the experiment writes it (rows of estimates, checked claims)."""
    content = {"a": share(3, 10).to_json(), "all": share(3, 10).to_json()}
    style = {"template": share(8, 10).to_json(), "abstain_invalid": share(0, 0).to_json()}
    rows = [
        {"name": "teacher (2nd sample)", "role": "teacher", "content": content, "style": style},
        {"name": "base a", "role": "base", "base": "a", "content": content, "style": style},
        {"name": "local-8-a", "role": "student", "setting": "local", "amount": 8, "base": "a"}
        | {"content": {"a": share(9, 10).to_json(), "all": share(9, 10).to_json()}, "style": style},
    ]
    results: dict[str, Any] = {
        "rows": rows,
        "skills": {"local": ["a"], "broad": ["a"], "all": ["a"]},
        "sweeps": {
            "amount": {"local": ["local-8-a"]},
            "base": ["local-8-a"],
            "local_vs_broad": ["local-8-a"],
        },
    }
    for r in rows:
        r["setting"] = r.get("setting", "local")
    results["findings"] = [f.to_json() for f in findings(results)]
    path.mkdir()
    (path / "summary.json").write_text(
        json.dumps({"kind": "imitation", "status": "complete", "name": "imit"})
    )
    (path / "results.json").write_text(json.dumps(results))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from conftest import TINY

    root = tmp_path_factory.mktemp("export")
    train(validate(TINY, "tiny"), root / "train", progress=False)
    run_probes([FakeLM()], root / "probe", probes="copying,repetition", limit=1)
    return [root / "train", root / "probe", _imitation_run(root / "imitation")]


def _export(runs: list[Path], to: str, out: Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(["export", *map(str, runs), "--to", to, "--out", str(out)])
    assert done.value.code == 0


def test_export_to_tensorboard(runs: list[Path], tmp_path: Path) -> None:
    _export(runs, "tensorboard", tmp_path)
    metrics = pq.read_table(runs[0] / "metrics.parquet").to_pylist()
    loss = _scalars(tmp_path / "train" / "tensorboard")["train/loss"]
    assert [s for s, _ in loss] == [r["step"] for r in metrics if r["split"] == "train"]
    probe = _scalars(tmp_path / "probe" / "tensorboard")
    assert {"copying/fake-lm/headline", "repetition/fake-lm/mi_bits"} <= set(probe)
    assert any(tag.startswith("finding-") for tag in _scalars(tmp_path / "imitation" / "tensorboard"))


def test_export_to_mlflow(runs: list[Path], tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    _export(runs, "mlflow", tmp_path)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    found = {
        r.info.run_name: r
        for r in client.search_runs([client.get_experiment_by_name("behaviorlab").experiment_id])
    }
    assert set(found) == {"tiny", "probe", "imit"}
    assert client.get_metric_history(found["tiny"].info.run_id, "train/loss")
    assert "copying/fake-lm/headline" in found["probe"].data.metrics


def test_export_to_parquet_round_trips_the_metrics(runs: list[Path], tmp_path: Path) -> None:
    _export(runs, "parquet", tmp_path)
    got = pd.read_parquet(tmp_path / "train" / "tables" / "metrics.parquet")
    pd.testing.assert_frame_equal(got, pd.read_parquet(runs[0] / "metrics.parquet"))
    assert (tmp_path / "probe" / "tables" / "copying-fake-lm.parquet").is_file()
    assert pq.read_table(tmp_path / "imitation" / "tables" / "findings.parquet").num_rows >= 1


def test_runs_export_round_trips_through_runs(runs: list[Path], tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.sqlite"
    for r in runs:
        record(r, catalog)
    frame = behaviorlab.runs(catalog)
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"runs.{fmt}"
        with pytest.raises(SystemExit) as done:
            main(["runs", "export", "--catalog", str(catalog), "--format", fmt, "--out", str(out)])
        assert done.value.code == 0
        pd.testing.assert_frame_equal(behaviorlab.runs(out), frame)
    assert sorted(frame["kind"]) == ["imitation", "probe", "train"]
    assert list(behaviorlab.runs(tmp_path / "runs.csv", kind="probe")["kind"]) == ["probe"]


def test_a_probe_run_sends_its_findings_live(tmp_path: Path) -> None:
    from behaviorlab.errors import BadInput

    with pytest.raises(BadInput, match="unknown results sink"):
        run_probes([FakeLM()], tmp_path / "bad", probes="copying", limit=1, sinks=["nope"])
    assert not (tmp_path / "bad").exists()
    run_probes([FakeLM()], tmp_path / "p", probes="copying", limit=1, sinks=["parquet"])
    table = pq.read_table(tmp_path / "p" / "tables" / "copying-fake-lm.parquet").to_pylist()
    assert table and {"template", "measure", "rate", "rate_lo", "rate_hi", "rate_n"} <= set(table[0])
