"""The shipped example configs train models that learn: >= 99% exact match in distribution."""

from __future__ import annotations

from pathlib import Path

import pytest

from behaviorlab.sweep import load_sweep
from behaviorlab.train import evaluate_run, load_config, train
from behaviorlab.train.config import ExperimentConfig

CONFIGS = Path(__file__).parents[2] / "configs"


def assert_learns(cfg: ExperimentConfig, out: Path) -> None:
    train(cfg, out, progress=False)
    names = [s.name for s in cfg.data.splits]
    # peano-add's train split already holds every in-distribution pair; elsewhere test_id.
    split = "test_id" if "test_id" in names else "train"
    acc = evaluate_run(out, splits=[split])["splits"][split]["accuracy"]
    assert acc >= 0.99, f"{cfg.name}: {split} accuracy {acc}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["binary-reverse.toml", "peano-add.toml"])
def test_example_config_learns(tmp_path: Path, name: str) -> None:
    assert_learns(load_config(CONFIGS / name), tmp_path / "run")


@pytest.mark.slow
@pytest.mark.parametrize("index", range(6))
def test_every_run_of_the_example_sweep_learns(tmp_path: Path, index: int) -> None:
    runs = load_sweep(CONFIGS / "sweep-binary-lr.toml").runs
    assert len(runs) == 6
    assert_learns(runs[index].config, tmp_path / "run")
