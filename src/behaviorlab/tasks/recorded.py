"""Recorded data: Parquet splits of (input, output[, integer metadata]) written elsewhere — a
teacher's outputs, a corpus, pairs written by hand — trained on like a task's samples.

A config names the files; resolving it fixes their absolute paths, their sha256 (the data's
identity, part of the run's config digest) and, for the `words` tokenizer, the vocabulary.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
from pydantic import Field, field_validator

from behaviorlab.errors import BadInput
from behaviorlab.io import read_parquet, sha256_file
from behaviorlab.rundir import split_file
from behaviorlab.tasks.base import Example
from behaviorlab.tasks.text import TextVocab, Tokenizer, word_vocabulary
from behaviorlab.validate import SAFE_NAME, Strict

SPLIT_NAME = SAFE_NAME  # a split's name becomes NAME.parquet in a run's data/


class RecordedSpec(Strict):
    """`[data] files = {train = "a.parquet", test_id = "b.parquet"}` and how to tokenize them."""

    files: dict[str, str] = Field(min_length=1)  # split name -> Parquet path
    sha256: dict[str, str] = Field(default_factory=dict)  # filled when resolved
    tokenizer: Tokenizer = "words"
    pieces: list[str] | None = None  # the `words` vocabulary; derived from every split if absent
    label: str = "recorded"  # what summaries and the catalog call this data

    @field_validator("files")
    @classmethod
    def _names(cls, files: dict[str, str]) -> dict[str, str]:
        import re

        bad = [n for n in files if not re.match(SPLIT_NAME, n)]
        if bad:
            raise ValueError(f"split names must match {SPLIT_NAME}; got {bad}")
        if "train" not in files:
            raise ValueError("needs a split named 'train'")
        return files

    def make_task(self) -> RecordedTask:
        """The data's stand-in for a task: a key and a vocabulary (no reference function)."""
        return RecordedTask(self)


class RecordedTask:
    """What training and evaluation need of recorded data: its name, key and vocabulary."""

    name = "recorded"
    meta_keys: tuple[str, ...] = ()

    def __init__(self, spec: RecordedSpec) -> None:
        self.key = spec.label
        self.options: dict[str, object] = {}
        self.vocab = TextVocab(spec.tokenizer, spec.pieces or (), spec.label)

    def __repr__(self) -> str:
        return f"<RecordedTask {self.key} {len(self.vocab)} tokens>"

    def solve(self, text: str) -> str:
        """Recorded data has no reference function; the recorded output is the target."""
        raise BadInput(f"{self.key}: recorded data has no reference function")


def read_pairs(path: Path) -> list[Example]:
    """(input, output, integer meta) rows of one Parquet file; BadInput names what is wrong."""
    table = read_parquet(path)
    for col in ("input", "output"):
        if col not in table.column_names:
            raise BadInput(f"{path}: needs string columns input and output; has {table.column_names}")
        if not pa.types.is_string(table.schema.field(col).type) and not pa.types.is_large_string(
            table.schema.field(col).type
        ):
            raise BadInput(f"{path}: column {col!r} must hold strings, not {table.schema.field(col).type}")
        if table.column(col).null_count:
            raise BadInput(f"{path}: column {col!r} has {table.column(col).null_count} missing value(s)")
    meta = [
        c
        for c in table.column_names
        if c not in ("input", "output") and pa.types.is_integer(table.schema.field(c).type)
    ]
    rows = table.select(["input", "output", *meta]).to_pylist()
    return [Example(r["input"], r["output"], {k: int(r[k]) for k in meta if r[k] is not None}) for r in rows]


def _locate(spec: RecordedSpec, split: str, fallback: Path | None) -> Path:
    """The file of a split: its recorded path, else the run's own copy with the same sha256."""
    path = Path(spec.files[split])
    if path.is_file():
        return path
    if fallback is not None and split_file(fallback, split).is_file():
        copy = split_file(fallback, split)
        if spec.sha256.get(split) in (None, sha256_file(copy)):
            return copy
    raise BadInput(f"{path}: data file for split {split!r} not found")


def resolve(spec: RecordedSpec, base: Path | None = None, fallback: Path | None = None) -> RecordedSpec:
    """Absolute paths, sha256 of each file (checked when recorded) and the vocabulary.

    `base` is the folder relative paths start from (the config file's); `fallback` a folder
    holding copies of the splits (a run's data/, used when an original file has moved)."""
    files: dict[str, str] = {}
    digests: dict[str, str] = {}
    for split, name in spec.files.items():
        path = Path(name).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        located = _locate(spec.model_copy(update={"files": {split: str(path)}}), split, fallback)
        digest = sha256_file(located)
        recorded = spec.sha256.get(split)
        if recorded is not None and recorded != digest:
            raise BadInput(f"{located}: sha256 {digest[:12]}… differs from the recorded {recorded[:12]}…")
        # A moved original is replaced by the run's own copy (same sha256): replays keep working.
        files[split] = str(located.resolve())
        digests[split] = digest
    resolved = spec.model_copy(update={"files": files, "sha256": digests})
    if spec.tokenizer == "words" and spec.pieces is None:
        splits = load(resolved, fallback)
        texts = (t for ex in splits.values() for e in ex for t in (e.input, e.output))
        resolved = resolved.model_copy(update={"pieces": word_vocabulary(texts)})
    return resolved


def load(spec: RecordedSpec, fallback: Path | None = None) -> dict[str, list[Example]]:
    """Every split's examples (a resolved spec: paths absolute)."""
    out = {split: read_pairs(_locate(spec, split, fallback)) for split in spec.files}
    if not out["train"]:
        raise BadInput(f"{spec.files['train']}: the train split is empty")
    return out


def copy_into(spec: RecordedSpec, data_dir: Path, fallback: Path | None = None) -> None:
    """Copy each split's file into a run's data/ folder byte for byte (the run stays whole)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for split in spec.files:
        src = _locate(spec, split, fallback)
        dst = split_file(data_dir, split)
        if src.resolve() != dst.resolve():
            tmp = data_dir / f".{split}.parquet.tmp"
            shutil.copyfile(src, tmp)
            tmp.replace(dst)
