"""Training from recorded data: Parquet (input, output) pairs written by hand train with the same
loop, evaluate, and replay bit for bit; bad files are one-line errors and nothing is written."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from behaviorlab.errors import BadInput
from behaviorlab.rundir import DATA, RunDir
from behaviorlab.store import replay
from behaviorlab.train import evaluate_run, load_config, train
from behaviorlab.train.config import validate

# Written by hand: a wrapper template around the successor of a binary number (natural order).
PAIRS = [(f"{n:b}", f"answer: {n + 1:b}.") for n in range(1, 40)]
HELD = [(f"{n:b}", f"answer: {n + 1:b}.") for n in range(40, 52)]


def _write(path: Path, pairs: list[tuple[str, str]], **cols: list[Any]) -> Path:
    strings = {
        "input": pa.array([a for a, _ in pairs], pa.string()),
        "output": pa.array([b for _, b in pairs], pa.string()),
    }
    table = pa.table({**strings, **cols})
    pq.write_table(table, path)
    return path


def _raw(tmp: Path, tokenizer: str = "words") -> dict[str, Any]:
    from conftest import TINY

    raw = copy.deepcopy(TINY)
    raw["name"] = f"recorded-{tokenizer}"
    lengths = [len(a) for a, _ in PAIRS]
    raw["data"] = {
        "files": {
            "train": str(_write(tmp / "train.parquet", PAIRS, length=lengths)),
            "test_id": str(_write(tmp / "test.parquet", HELD)),
        },
        "tokenizer": tokenizer,
    }
    raw["model"]["max_len"] = 40
    return raw


@pytest.mark.parametrize("tokenizer", ["words", "bytes"])
def test_train_on_hand_written_pairs_and_replay(tmp_path: Path, tokenizer: str) -> None:
    cfg = validate(_raw(tmp_path, tokenizer), "recorded")
    assert cfg.data.sha256.keys() == {"train", "test_id"}  # type: ignore[union-attr]
    out = tmp_path / "run"
    summary = train(cfg, out, progress=False)
    assert summary["task"] == "recorded" and summary["steps"] == 30
    result = evaluate_run(out)
    assert set(result["splits"]) == {"test_id"}
    assert result["splits"]["test_id"]["n"] == len(HELD)
    # The run holds its data byte for byte; meta columns (length) ride along.
    assert pq.read_table(out / DATA / "train.parquet").column_names == ["input", "output", "length"]
    assert RunDir.open(out).kind == "train"
    report = replay(out)
    assert report.identical, [str(d) for d in report.differences]


def test_replay_uses_the_runs_copy_when_the_original_moved(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    cfg = validate(_raw(src), "recorded")
    out = tmp_path / "run"
    train(cfg, out, progress=False)
    evaluate_run(out)
    shutil.rmtree(src)
    report = replay(out)
    assert report.identical, [str(d) for d in report.differences]


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    _write(tmp_path / "pairs.parquet", PAIRS)
    (tmp_path / "exp.toml").write_text(
        '[data]\nfiles = { train = "pairs.parquet" }\n[model]\nmax_len = 40\n[train]\nsteps = 2\n'
    )
    cfg = load_config(tmp_path / "exp.toml")
    assert cfg.data.files["train"] == str((tmp_path / "pairs.parquet").resolve())  # type: ignore[union-attr]
    assert {"answer", ":", "."} <= set(cfg.data.pieces or [])  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"input": ["1"], "answer": ["1 0"]}, "needs string columns input and output"),
        ({"input": [1], "output": ["1 0"]}, "must hold strings"),
        ({"input": ["1", None], "output": ["1 0", "x"]}, "missing value"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path: Path, table: dict[str, Any], message: str) -> None:
    pq.write_table(pa.table(table), tmp_path / "bad.parquet")
    raw = _raw(tmp_path)
    raw["data"]["files"] = {"train": str(tmp_path / "bad.parquet")}
    with pytest.raises(BadInput, match=message):
        validate(raw, "recorded")


def test_missing_file_changed_file_and_empty_split(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    raw["data"]["files"]["train"] = str(tmp_path / "nope.parquet")
    with pytest.raises(BadInput, match="not found"):
        validate(raw, "recorded")
    raw = _raw(tmp_path)
    cfg = validate(raw, "recorded")
    _write(tmp_path / "train.parquet", PAIRS[:3])  # the file changes after the config was resolved
    with pytest.raises(BadInput, match="differs from the recorded"):
        validate(cfg.model_dump(mode="json"), "recorded")
    _write(tmp_path / "empty.parquet", [])
    raw["data"]["files"] = {"train": str(tmp_path / "empty.parquet")}
    out = tmp_path / "never"
    with pytest.raises(BadInput, match="train split is empty"):
        train(validate(raw, "recorded"), out, progress=False)
    assert not out.exists()  # refused before anything was written


def test_outputs_longer_than_the_model_are_refused_before_writing(tmp_path: Path) -> None:
    raw = _raw(tmp_path)
    raw["model"]["max_len"] = 4
    out = tmp_path / "never"
    with pytest.raises(BadInput, match="max_len=4"):
        train(validate(raw, "recorded"), out, progress=False)
    assert not out.exists()
