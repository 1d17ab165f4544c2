"""Dataset specs (TOML), disjoint split building, and atomic Parquet writing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, ValidationError, field_validator, model_validator

from behaviorlab.errors import BadInput
from behaviorlab.io import read_parquet, read_toml
from behaviorlab.limits import Need, require
from behaviorlab.rundir import check_output_dir, split_file
from behaviorlab.tasks import get
from behaviorlab.tasks.base import Example, Task
from behaviorlab.validate import SafeName, Seed, Strict

SPEC_METADATA_KEY = b"behaviorlab.spec"
SPLIT_METADATA_KEY = b"behaviorlab.split"
TASK_METADATA_KEY = b"behaviorlab.task"
# Stop a split once this many draws in a row found nothing new (its input space is exhausted).
STALE_DRAWS = 2000


class SplitSpec(Strict):
    """One split: how many examples, and the size/depth/shape distribution they come from."""

    name: SafeName  # becomes NAME.parquet
    n: int = Field(ge=0)
    min_size: int = Field(ge=1)
    max_size: int = Field(ge=1)
    min_depth: int | None = Field(default=None, ge=0)
    max_depth: int | None = Field(default=None, ge=0)
    edge_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    shape: Literal["random", "balanced", "left-spine", "right-spine"] = "random"
    repeat_letters: bool = True


class DatasetSpec(Strict):
    """A task (with options), a seed, and splits; earlier splits win shared inputs."""

    task: str
    options: dict[str, str | int] = Field(default_factory=dict)
    seed: Seed = 0
    splits: list[SplitSpec] = Field(min_length=1)

    @field_validator("splits")
    @classmethod
    def _unique_names(cls, splits: list[SplitSpec]) -> list[SplitSpec]:
        names = [s.name for s in splits]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"split names must be unique; repeated: {', '.join(dupes)}")
        return splits

    @model_validator(mode="after")
    def _task_exists(self) -> DatasetSpec:
        self.make_task()  # BadInput (a ValueError) becomes a validation error naming the task
        return self

    def make_task(self) -> Task:
        """The configured Task."""
        return get(self.task, **self.options)


def load_spec(path: str | Path) -> DatasetSpec:
    """Read a dataset spec from TOML; every problem is a BadInput naming the file and keys."""
    path = Path(path)
    raw = read_toml(path, "dataset config")
    try:
        return DatasetSpec.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in e.errors()
        )
        raise BadInput(f"{path}: invalid dataset spec: {problems}") from None


# Pre-flight floors (limits.py): an Example in memory takes 420-620 bytes and 110-340 µs to draw
# (measured on the three task families); these are below both, so a refusal is certain.
EXAMPLE_BYTES = 300
SAMPLE_SECONDS = 20e-6
PARQUET_BYTES = 8  # an example's compressed share of a split file


def spec_need(spec: DatasetSpec) -> Need:
    """What building the splits needs: every example in memory (a split draws up to twice its
    size at once), the draws' time, the Parquet files."""
    counts = [s.n for s in spec.splits]
    total = sum(counts)
    return Need(
        memory=(total + 2 * max(counts)) * EXAMPLE_BYTES,
        disk=total * PARQUET_BYTES,
        seconds=total * SAMPLE_SECONDS,
        parts=(f"{total:,} examples",),
    )


def derive_seed(seed: int, *parts: object) -> int:
    """A 63-bit seed from a base seed and labels (stable across processes and platforms)."""
    text = ":".join(str(p) for p in ("behaviorlab", seed, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def build_splits(spec: DatasetSpec) -> dict[str, list[Example]]:
    """Sample every split: inputs unique within a split and never shared across splits (after
    checking they fit this machine)."""
    # Memory binds long before time could (a week of draws is ~10 TB of examples).
    require(f"dataset {spec.task}", spec_need(spec), hint="lower the splits' n", allow_long=True)
    task = spec.make_task()
    seen: set[str] = set()
    out: dict[str, list[Example]] = {}
    for index, split in enumerate(spec.splits):
        out[split.name] = _fill_split(
            _split_task(spec, task, split.name), split, derive_seed(spec.seed, index), seen
        )
    return out


def _split_task(spec: DatasetSpec, task: Task, name: str) -> Task:
    """A task with a `split` option (a pairs file with a split column) draws each split from the
    file's rows of the same name, unless the config fixed the option."""
    option = next((o for o in task.option_specs if o.name == "split"), None)
    if option is None or "split" in spec.options or name not in option.choices:
        return task
    return get(spec.task, **spec.options, split=name)


def _fill_split(task: Task, split: SplitSpec, seed: int, seen: set[str]) -> list[Example]:
    """Draw batches until n new inputs are found or draws stop yielding anything new."""
    examples: list[Example] = []
    stale = drawn = batch_index = 0
    budget = 50 * split.n + STALE_DRAWS  # hard cap on draws, whatever the distribution
    while len(examples) < split.n and stale < STALE_DRAWS and drawn < budget:
        batch = task.sample(
            max(64, 2 * (split.n - len(examples))),
            derive_seed(seed, "batch", batch_index),
            min_size=split.min_size,
            max_size=split.max_size,
            min_depth=split.min_depth,
            max_depth=split.max_depth,
            edge_fraction=split.edge_fraction,
            repeat_letters=split.repeat_letters,
            shape=split.shape,
        )
        batch_index += 1
        drawn += len(batch)
        for ex in batch:
            if ex.input in seen:
                stale += 1
                continue
            stale = 0
            seen.add(ex.input)
            examples.append(ex)
            if len(examples) == split.n:
                break
    return examples


def write_splits(
    splits: dict[str, list[Example]], out_dir: str | Path, spec: DatasetSpec, *, force: bool = False
) -> list[Path]:
    """Write `{name}.parquet` per split (input, output, one int column per meta key), atomically."""
    out = Path(out_dir)
    check_output_dir(out, force, holds_only_splits, "a folder of behaviorlab splits")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        return _write_all(splits, out, spec)
    except OSError as e:
        if created:  # nothing half-written is left behind
            shutil.rmtree(out, ignore_errors=True)
        raise BadInput(f"{e.filename or out}: cannot write the splits: {e.strerror or e}") from None


def _write_all(splits: dict[str, list[Example]], out: Path, spec: DatasetSpec) -> list[Path]:
    task = spec.make_task()
    paths = []
    for name, examples in splits.items():
        table = _to_table(examples, task.meta_keys)
        metadata = {
            SPEC_METADATA_KEY: spec.model_dump_json().encode(),
            SPLIT_METADATA_KEY: name.encode(),
            TASK_METADATA_KEY: json.dumps(
                {
                    "key": task.key,
                    "meta_keys": list(task.meta_keys),
                    "vocab": list(task.vocab.tokens),
                }
            ).encode(),
        }
        table = table.replace_schema_metadata(metadata)
        path = split_file(out, name)
        _write_atomic(table, path)
        paths.append(path)
    return paths


def holds_only_splits(folder: Path) -> bool:
    """True when every file in `folder` is a split this module wrote (safe to overwrite)."""
    for f in folder.iterdir():
        if f.name.startswith("."):
            continue  # temp files of an interrupted write
        if f.suffix != ".parquet" or not f.is_file():
            return False
        try:
            meta = pq.read_schema(f).metadata or {}
        except (pa.ArrowInvalid, OSError):
            return False
        if SPEC_METADATA_KEY not in meta:
            return False
    return True


def _to_table(examples: list[Example], meta_keys: tuple[str, ...]) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "input": pa.array([e.input for e in examples], type=pa.string()),
        "output": pa.array([e.output for e in examples], type=pa.string()),
    }
    for key in meta_keys:
        columns[key] = pa.array([e.meta[key] for e in examples], type=pa.int64())
    return pa.table(columns)


def _write_atomic(table: pa.Table, path: Path) -> None:
    # A reader never sees a half-written file: write beside the target, then rename over it.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_split(path: str | Path) -> tuple[list[Example], DatasetSpec]:
    """Read a split written by `write_splits`: its examples and the spec that built it."""
    table = read_parquet(Path(path))
    meta = table.schema.metadata or {}
    if SPEC_METADATA_KEY not in meta:
        raise BadInput(f"{path}: not a behaviorlab split (no spec in the Parquet metadata)")
    spec = DatasetSpec.model_validate_json(meta[SPEC_METADATA_KEY])
    rows = table.to_pylist()
    keys = [c for c in table.column_names if c not in ("input", "output")]
    return [Example(r["input"], r["output"], {k: r[k] for k in keys}) for r in rows], spec
