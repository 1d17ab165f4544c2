"""Sweeps on the local process pool: expansion, runs named by digest, skip-if-complete, catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tomli_w

from behaviorlab.errors import BadInput
from behaviorlab.store import list_runs
from behaviorlab.sweep import load_sweep, run_sweep
from behaviorlab.sweep.worker import is_complete, run_one
from behaviorlab.train.config import validate


def write_sweep(tmp_path: Path, tiny_raw: dict[str, Any], **extra: Any) -> Path:
    """A base config file plus a sweep file naming it (relative path) with a 2-run grid."""
    tiny_raw["train"].update(steps=10, eval_every=10, checkpoint_every=10)
    (tmp_path / "base.toml").write_text(tomli_w.dumps(_no_none(tiny_raw)))
    doc = {"base": "base.toml", "name": "tiny-lr", "grid": {"optim.lr": [1e-3, 3e-3]}, **extra}
    path = tmp_path / "sweep.toml"
    path.write_text(tomli_w.dumps(doc))
    return path


def _no_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _no_none(v) for k, v in obj.items() if v is not None}
    return [_no_none(v) for v in obj] if isinstance(obj, list) else obj


def test_expansion_grid_times_list_dedupes_and_validates(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    path = write_sweep(
        tmp_path, tiny_raw, set={"train": {"steps": 5}},
        list=[{"train.seed": 0}, {"train": {"seed": 1}}, {"train.seed": 0}],
    )  # fmt: skip
    sweep = load_sweep(path)
    assert [r.overrides for r in sweep.runs] == [
        {"optim.lr": 1e-3, "train.seed": 0}, {"optim.lr": 1e-3, "train.seed": 1},
        {"optim.lr": 3e-3, "train.seed": 0}, {"optim.lr": 3e-3, "train.seed": 1},
    ]  # fmt: skip
    assert all(r.config.train.steps == 5 for r in sweep.runs)
    assert len({r.digest for r in sweep.runs}) == 4
    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps({"base": "base.toml", "grid": {"optim.lr": ["fast"]}}))
    with pytest.raises(BadInput, match=r"optim.lr=fast.*lr"):
        load_sweep(bad)
    bad.write_text(tomli_w.dumps({"base": "base.toml", "gird": {}}))
    with pytest.raises(BadInput, match="unknown key"):
        load_sweep(bad)
    inline = tmp_path / "inline.toml"
    inline.write_text(tomli_w.dumps({"base": _no_none(tiny_raw), "grid": {"train.seed": [0, 1]}}))
    assert len(load_sweep(inline).runs) == 2


def test_local_sweep_runs_records_and_skips(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    path = write_sweep(tmp_path, tiny_raw)
    out = tmp_path / "out"
    summary = run_sweep(path, out=out, backend="local", progress=False)
    rows = summary["runs"]
    assert [r["status"] for r in rows] == ["complete", "complete"]
    assert json.loads((out / "sweep.json").read_text())["runs"] == rows
    for row, run in zip(rows, load_sweep(path).runs, strict=True):
        assert Path(row["run_dir"]).name == row["digest"] == run.digest
        assert row["overrides"] == run.overrides and row["accuracy_ood"] is not None
    catalogued = list_runs(out / "catalog.sqlite")
    assert sorted(r["config_digest"] for r in catalogued) == sorted(r["digest"] for r in rows)
    again = run_sweep(path, out=out, backend="local", progress=False)
    assert all(r["skipped"] and r["status"] == "complete" for r in again["runs"])
    assert [r["accuracy_id"] for r in again["runs"]] == [r["accuracy_id"] for r in rows]


def test_failed_run_is_reported_not_raised(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    tiny_raw["train"].update(warmup=0, grad_clip=0.0)
    tiny_raw["optim"]["lr"] = 1e30  # diverges within a few steps
    cfg = validate(tiny_raw, "diverges")
    result = run_one(cfg.model_dump_json(), str(tmp_path / cfg.digest()))  # what each worker runs
    assert result["status"] == "failed" and "loss became" in result["error"]
    assert not is_complete(tmp_path / cfg.digest(), cfg.digest())


def test_shipped_sweep_file_expands(tmp_path: Path) -> None:
    sweep = load_sweep(Path(__file__).parents[2] / "configs" / "sweep-binary-lr.toml")
    assert len(sweep.runs) == 6
    assert {r.config.optim.lr for r in sweep.runs} == {5e-4, 1e-3, 3e-3}
    assert all(r.config == validate(r.config.model_dump(), "x") for r in sweep.runs)


def test_recorded_data_paths_are_relative_to_the_base_config(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    pq.write_table(
        pa.table({"input": ["1", "10"], "output": ["10", "11"]}), tmp_path / "data" / "train.parquet"
    )
    (tmp_path / "configs").mkdir()
    base = {"data": {"files": {"train": "../data/train.parquet"}, "tokenizer": "bytes"}}
    (tmp_path / "configs" / "base.toml").write_text(tomli_w.dumps(base))
    (tmp_path / "sweeps").mkdir()
    doc = {"base": "../configs/base.toml", "grid": {"train.seed": [0, 1]}}
    (tmp_path / "sweeps" / "s.toml").write_text(tomli_w.dumps(doc))
    runs = load_sweep(tmp_path / "sweeps" / "s.toml").runs
    assert len(runs) == 2
    assert {r.config.data.files["train"] for r in runs} == {str(tmp_path / "data" / "train.parquet")}  # type: ignore[union-attr]


def test_lm_optimizer_sweep_expands_to_equal_grids(tmp_path: Path) -> None:
    # The shipped sweep and base config, beside a stand-in corpus at the path the base names (the
    # grid's shape is what is tested, not the text).
    shipped = Path(__file__).parents[2] / "configs"
    (tmp_path / "configs").mkdir()
    for name in ("sweep-lm-optimizers.toml", "lm-pydocs.toml"):
        (tmp_path / "configs" / name).write_text((shipped / name).read_text())
    corpus = tmp_path / "runs" / "corpus" / "pydocs"
    corpus.mkdir(parents=True)
    chunks = pa.table({"input": ["", ""], "output": ["def f(x):", "return x"], "doc": [0, 1]})
    for split in ("train", "validation"):
        pq.write_table(chunks, corpus / f"{split}.parquet")
    runs = load_sweep(tmp_path / "configs" / "sweep-lm-optimizers.toml").runs
    per = {n: [r for r in runs if r.config.optim.name == n] for n in ("adamw", "sophia-g", "sophia-h")}
    assert all(len(v) == 27 for v in per.values())  # 3 lr x 3 knob values x 3 seeds each
    steps = {(r.config.train.steps, r.config.train.warmup, r.config.train.schedule) for r in runs}
    assert len(steps) == 1  # the same budget and schedule for everyone
