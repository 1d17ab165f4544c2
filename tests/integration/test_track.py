"""Results sinks against the real libraries: `train --set 'track.sinks=[...]'` and then
TensorBoard's own event reader finds the loss and monitor curves; an MLflow client on a local
SQLite store reads them back; a sink that fails is one warning line and the run's record is whole."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import tomli_w

from behaviorlab.track import Tracker, open_tracker
from behaviorlab.train import train
from behaviorlab.train.config import validate

BEHAVIORLAB = Path(sys.executable).parent / "behaviorlab"


def _scalars(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series in a TensorBoard log folder, read with TensorBoard's own reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def _same(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> bool:
    """Same steps; values equal to float32 precision (TensorBoard stores float32)."""
    return [s for s, _ in got] == [s for s, _ in want] and [v for _, v in got] == pytest.approx(
        [v for _, v in want], rel=1e-6
    )


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny config trained by the CLI with both sinks on, as the issue's command does."""
    from conftest import TINY

    root = tmp_path_factory.mktemp("track")
    raw = {**TINY, "train": {k: v for k, v in TINY["train"].items() if v is not None}}
    (root / "cfg.toml").write_text(tomli_w.dumps(raw))
    run = root / "run"
    (root / "cwd").mkdir()
    done = subprocess.run(
        [str(BEHAVIORLAB), "train", str(root / "cfg.toml"), "--out", str(run), "--no-evaluate"]
        + ["--set", 'track.sinks=["tensorboard", "mlflow"]'],
        capture_output=True,
        text=True,
        env={"PATH": "", "HOME": str(root), "BEHAVIORLAB_CATALOG": str(root / "catalog.sqlite")},
        cwd=root / "cwd",
    )
    assert done.returncode == 0, done.stderr
    return run


def test_tensorboard_reads_back_the_loss_and_monitor_curves(tracked: Path) -> None:
    series = _scalars(tracked / "tensorboard")
    metrics = pq.read_table(tracked / "metrics.parquet").to_pylist()
    monitor = [r for r in metrics if r["split"] == "train"]
    assert _same(series["train/loss"], [(r["step"], r["loss"]) for r in monitor])
    assert _same(series["train/accuracy"], [(r["step"], r["accuracy"]) for r in monitor])
    ood = [(r["step"], r["accuracy"]) for r in metrics if r["split"] == "test_ood"]
    assert _same(series["test_ood/accuracy"], ood) and len(ood) == len(monitor)
    assert "summary/final_loss" in series


def test_mlflow_reads_back_the_same_curves(tracked: Path) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tracked.parent / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("behaviorlab").experiment_id])
    assert run.info.run_name == "tiny" and run.info.status == "FINISHED"
    monitor = [r for r in pq.read_table(tracked / "metrics.parquet").to_pylist() if r["split"] == "train"]
    loss = client.get_metric_history(run.info.run_id, "train/loss")
    assert _same([(m.step, m.value) for m in loss], [(r["step"], r["loss"]) for r in monitor])
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"config.toml"}
    # MLflow's default artifact root is ./mlruns in the working directory: ours is beside the store.
    assert not any((tracked.parent / "cwd").iterdir())
    assert (tracked.parent / "mlartifacts").is_dir()


class Broken:
    """A sink whose disk is full."""

    def __init__(self, *_: Any) -> None:
        pass

    def log_scalar(self, name: str, value: float, step: int) -> None:
        raise OSError(28, "No space left on device")

    def log_table(self, name: str, rows: Any) -> None: ...

    def log_artifact(self, path: Path) -> None: ...

    def close(self) -> None: ...


def test_a_failing_sink_is_one_line_and_the_record_stays_whole(
    tmp_path: Path,
    tiny_raw: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from behaviorlab import registry

    monkeypatch.setitem(registry.BUILTIN["sink"], "full-disk", f"{__name__}:Broken")
    monkeypatch.setitem(sys.modules, "tensorboard_missing", None)  # `import` of it fails
    monkeypatch.setitem(registry.BUILTIN["sink"], "no-library", "tensorboard_missing:Sink")
    registry.reset()
    try:
        tiny_raw["track"] = {"sinks": ["full-disk"]}
        train(validate(tiny_raw, "tiny"), tmp_path / "a", progress=False)
        tiny_raw["track"] = {}
        train(validate(tiny_raw, "tiny"), tmp_path / "b", progress=False)
    finally:
        registry.reset()
    warned = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("warning: results sink")]
    assert (
        len(warned) == 1 and "full-disk failed (OSError" in warned[0] and "keeps the full record" in warned[0]
    )
    same = [pq.read_table(tmp_path / d / "metrics.parquet").to_pylist() for d in "ab"]
    assert (
        same[0] == same[1]
        and json.loads((tmp_path / "a" / "summary.json").read_text())["status"] == "trained"
    )
    said: list[str] = []
    tracker = open_tracker(["no-library"], tmp_path, "x", {}, say=said.append)
    assert not tracker.sinks and len(said) == 1 and "no-library failed" in said[0]


def test_unknown_sink_is_refused_before_anything_runs(tmp_path: Path) -> None:
    from behaviorlab.errors import BadInput

    with pytest.raises(BadInput, match="unknown results sink.*nope; expected some of tensorboard"):
        open_tracker(["nope"], tmp_path, "x", {})
    assert Tracker().sinks == {}
