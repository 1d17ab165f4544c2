"""Dataset specs, disjoint splits, and Parquet output with the spec in the schema metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from behaviorlab.errors import BadInput
from behaviorlab.tasks.dataset import (
    SPEC_METADATA_KEY,
    DatasetSpec,
    SplitSpec,
    build_splits,
    load_spec,
    read_split,
    write_splits,
)

REPO = Path(__file__).resolve().parents[2]


def small_spec(**changes: object) -> DatasetSpec:
    data: dict[str, object] = {
        "task": "binary-successor",
        "options": {"order": "natural"},
        "seed": 3,
        "splits": [
            {"name": "train", "n": 40, "min_size": 1, "max_size": 7},
            {"name": "test_id", "n": 30, "min_size": 1, "max_size": 7},
            {"name": "test_ood", "n": 20, "min_size": 8, "max_size": 9, "edge_fraction": 0.2},
        ],
    }
    data.update(changes)
    return DatasetSpec.model_validate(data)


def test_splits_are_disjoint_unique_and_deterministic() -> None:
    spec = small_spec()
    splits = build_splits(spec)
    assert {k: len(v) for k, v in splits.items()} == {"train": 40, "test_id": 30, "test_ood": 20}
    inputs = [{e.input for e in exs} for exs in splits.values()]
    assert [len(s) for s in inputs] == [40, 30, 20]  # unique within a split
    assert not (inputs[0] & inputs[1]) and not (inputs[0] & inputs[2])
    assert not (inputs[1] & inputs[2])
    assert all(8 <= e.meta["size"] <= 9 for e in splits["test_ood"])
    assert build_splits(spec) == splits
    assert build_splits(small_spec(seed=4)) != splits


def test_exhausted_space_returns_fewer() -> None:
    spec = small_spec(
        splits=[
            {"name": "a", "n": 5, "min_size": 1, "max_size": 3},
            {"name": "b", "n": 50, "min_size": 1, "max_size": 3},
        ]
    )
    splits = build_splits(spec)
    assert len(splits["a"]) == 5
    assert len(splits["b"]) == 7 - 5  # only 7 numbers have at most 3 bits


def test_write_and_read_parquet(tmp_path: Path) -> None:
    spec = small_spec(task="tree-inorder", options={"steps": 2})
    splits = build_splits(
        spec.model_copy(
            update={
                "splits": [
                    SplitSpec(name="train", n=25, min_size=1, max_size=5),
                    SplitSpec(name="test_ood", n=10, min_size=6, max_size=8, min_depth=5),
                ]
            }
        )
    )
    out = tmp_path / "data"
    paths = write_splits(splits, out, spec)
    assert [p.name for p in paths] == ["train.parquet", "test_ood.parquet"]
    table = pq.read_table(paths[0])
    assert table.column_names == [
        "input",
        "output",
        "length",
        "output_length",
        "size",
        "depth",
        "t",
        "pending_calls",
        "remaining_steps",
    ]
    assert str(table.schema.field("t").type) == "int64"
    stored = json.loads(table.schema.metadata[SPEC_METADATA_KEY])
    assert stored["task"] == "tree-inorder" and stored["options"] == {"steps": 2}
    examples, spec_back = read_split(paths[1])
    assert examples == splits["test_ood"] and spec_back == spec
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(BadInput, match="not empty"):
        write_splits(splits, out, spec)
    assert write_splits(splits, out, spec, force=True) == paths


def test_empty_split_still_has_columns(tmp_path: Path) -> None:
    spec = small_spec()
    paths = write_splits({"none": []}, tmp_path / "x", spec)
    assert "carry" in pq.read_table(paths[0]).column_names


def test_load_shipped_configs() -> None:
    for name in ("tasks-binary-reverse.toml", "tasks-tree-inorder.toml"):
        spec = load_spec(REPO / "configs" / name)
        assert [s.name for s in spec.splits] == ["train", "test_id", "test_ood"]
        ood, train = spec.splits[2], spec.splits[0]
        assert ood.min_size > train.max_size


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ('task = "peano-add"\nsplits = [', "not valid TOML"),
        (
            'task = "peano-add"\ncolour = 1\n[[splits]]\nname="a"\nn=1\nmin_size=1\nmax_size=2',
            "colour: Extra inputs are not permitted",
        ),
        (
            'task = "peano-add"\n[[splits]]\nname="a"\nn="many"\nmin_size=1\nmax_size=2',
            r"splits\.0\.n",
        ),
        (
            'task = "peano-add"\n[[splits]]\nname="a"\nn=1\nmin_size=1\nmax_size=2\nsize=3',
            r"splits\.0\.size: Extra inputs",
        ),
        (
            'task = "peano-add"\n[[splits]]\nname="a/b"\nn=1\nmin_size=1\nmax_size=2',
            r"splits\.0\.name",
        ),
        (
            'task = "peano-add"\n[options]\norder="natural"\n[[splits]]\nname="a"\nn=1\n'
            "min_size=1\nmax_size=2",
            "unknown option order",
        ),
        (
            'task = "peano-add"\n[[splits]]\nname="a"\nn=1\nmin_size=1\nmax_size=2\n'
            '[[splits]]\nname="a"\nn=1\nmin_size=1\nmax_size=2',
            "repeated: a",
        ),
        ('task = "peano-add"', "splits: Field required"),
    ],
)
def test_load_spec_errors_name_file_and_keys(tmp_path: Path, text: str, pattern: str) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    with pytest.raises(BadInput, match=pattern) as info:
        load_spec(path)
    assert str(path) in str(info.value)


def test_load_spec_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not found"):
        load_spec(tmp_path / "absent.toml")
