"""`train.init_from`: a run starts from a base run's weights, pinned by sha256 in the resolved
config; mismatched bases are refused in one line before anything is written; replay works."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import torch

from behaviorlab.errors import BadInput
from behaviorlab.rundir import CHECKPOINTS
from behaviorlab.store import replay
from behaviorlab.train import evaluate_run, train
from behaviorlab.train.checkpoint import load_weights
from behaviorlab.train.config import validate
from behaviorlab.train.run import read_config


def _student(tiny_raw: dict[str, Any], base: Path, **model: Any) -> dict[str, Any]:
    raw = copy.deepcopy(tiny_raw)
    raw["name"] = "student"
    raw["train"]["seed"] = 1
    raw["train"]["init_from"] = str(base)
    raw["model"].update(model)
    return raw


@pytest.fixture
def base(tmp_path: Path, tiny_raw: dict[str, Any]) -> Path:
    out = tmp_path / "base"
    train(validate(tiny_raw, "base"), out, progress=False)
    return out


def test_starts_from_the_base_weights_and_records_them(
    tmp_path: Path, tiny_raw: dict[str, Any], base: Path
) -> None:
    cfg = validate(_student(tiny_raw, base), "student")
    assert cfg.train.init_from == str(base.resolve()) and cfg.train.init_sha256 is not None
    out = tmp_path / "student"
    train(cfg, out, progress=False, stop_after=0)  # step 0: the weights are the base's, exactly
    start, theirs = load_weights(out / CHECKPOINTS), load_weights(base / CHECKPOINTS)
    assert all(torch.equal(start[k], theirs[k]) for k in theirs)
    assert read_config(out).train.init_sha256 == cfg.train.init_sha256  # in the resolved config
    fresh = tmp_path / "fresh"
    raw = _student(tiny_raw, base)
    del raw["train"]["init_from"]
    train(validate(raw, "fresh"), fresh, progress=False, stop_after=0)
    assert any(not torch.equal(load_weights(fresh / CHECKPOINTS)[k], theirs[k]) for k in theirs)


def test_replay_of_a_run_started_from_a_base(tmp_path: Path, tiny_raw: dict[str, Any], base: Path) -> None:
    out = tmp_path / "student"
    train(validate(_student(tiny_raw, base), "student"), out, progress=False)
    evaluate_run(out)
    report = replay(out)
    assert report.identical, [str(d) for d in report.differences]


def test_mismatched_bases_are_refused_before_writing(
    tmp_path: Path, tiny_raw: dict[str, Any], base: Path
) -> None:
    out = tmp_path / "never"
    with pytest.raises(BadInput, match=r"model config differs .*d_model 16 -> 32"):
        train(validate(_student(tiny_raw, base, d_model=32), "s"), out, progress=False)
    raw = _student(tiny_raw, base)
    raw["data"]["options"] = {"order": "natural"}
    with pytest.raises(BadInput, match="vocabulary size 5 differs from the base's 6"):
        train(validate(raw, "s"), out, progress=False)
    raw["data"]["task"], raw["data"]["options"] = "peano-add", {}
    with pytest.raises(BadInput, match="same vocabulary size, different tokens"):
        train(validate(raw, "s"), out, progress=False)
    with pytest.raises(BadInput, match="not a training run with a checkpoint"):
        validate(_student(tiny_raw, tmp_path / "nowhere"), "s")
    cfg = validate(_student(tiny_raw, base), "s")
    train(validate(tiny_raw, "base"), base, progress=False, force=True, stop_after=3)  # the base changes
    with pytest.raises(BadInput, match="base run changed"):
        train(cfg, out, progress=False)
    assert not out.exists()
