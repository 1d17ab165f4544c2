"""A task defined by a file of input -> output pairs (JSONL or Parquet), the way lm-eval takes a
task file by path: `[data] task = "pairs.jsonl"`, `explain --model SPEC --task pairs.parquet`.

Columns: `input`, `output` (space-separated tokens), optionally `split` (the option `split` then
keeps one split's rows) and integer metadata columns (kept as failure-analysis metadata beside
`length`). The file is the reference: `solve` looks an input up (an input the file does not hold
is BadInput), and the sampler draws the file's rows of the asked sizes. The task's key carries the
file's sha256, so a run records which file it learned.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.json as pj

from behaviorlab.errors import BadInput
from behaviorlab.io import read_parquet, sha256_file
from behaviorlab.tasks.base import Example, Option, SampleParams, Task
from behaviorlab.tasks.custom import TokenTask, check_tokens

SUFFIXES = (".jsonl", ".json", ".parquet")


def is_pairs_file(ref: str) -> bool:
    """A task name that names a pairs file (by its suffix)."""
    return Path(ref).suffix.lower() in SUFFIXES


def _read(path: Path) -> pa.Table:
    if not path.is_file():
        raise BadInput(f"{path}: task file not found")
    if path.suffix.lower() == ".parquet":
        table = read_parquet(path)
    else:
        try:
            table = pj.read_json(path)
        except (pa.ArrowInvalid, OSError) as e:
            raise BadInput(f"{path}: not a readable {path.suffix} file of pairs: {e}") from None
    missing = [c for c in ("input", "output") if c not in table.column_names]
    if missing:
        raise BadInput(f"{path}: needs columns input and output; missing {', '.join(missing)}")
    for c in ("input", "output"):  # a null would become the text "None"
        if (nulls := table.column(c).null_count) > 0:
            raise BadInput(f"{path}: {nulls} row(s) without an {c}")
    return table


class PairsTask(TokenTask):
    """A task whose reference is a table of pairs; built per file by `pairs_task`."""

    rows: ClassVar[list[dict[str, Any]]]
    meta_columns: ClassVar[tuple[str, ...]]
    path: ClassVar[Path]

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        split = self.options.get("split")
        self.kept = [r for r in self.rows if split is None or r.get("split") == split]
        self.table = {r["input"]: r for r in self.kept}

    def make_key(self) -> str:
        split = self.options.get("split")
        return self.name if split is None else f"{self.name}/{split}"

    def solve(self, text: str) -> str:
        canonical = self.print(self.parse(text))
        row = self.table.get(canonical)
        if row is None:
            where = f"{canonical!r} is not an input of {self.path}"
            raise BadInput(f"{self.label}: {where} (a file task knows only its rows)")
        return str(row["output"])

    def meta(self, text: str) -> dict[str, int]:
        row = self.table.get(" ".join(text.split()), {})
        return {
            "length": self.size_of(text),
            **{c: int(row[c]) for c in self.meta_columns if row.get(c) is not None},
        }

    def draw(self, rng: random.Random, params: SampleParams) -> Example:
        pool = [r for r in self.kept if params.min_size <= self.size_of(r["input"]) <= params.max_size]
        if not pool:
            sizes = f"{params.min_size}..{params.max_size}"
            raise BadInput(f"{self.label}: no row of {self.path} has an input of {sizes} tokens")
        row = rng.choice(pool)
        return Example(row["input"], row["output"], self.meta(row["input"]))


def pairs_task(ref: str) -> type[Task]:
    """A Task class for a pairs file: its tokens, metadata columns, splits and size range."""
    path = Path(ref).expanduser().resolve()
    table = _read(path)
    rows = [
        {**r, "input": " ".join(str(r["input"]).split()), "output": " ".join(str(r["output"]).split())}
        for r in table.to_pylist()
    ]
    if not rows:
        raise BadInput(f"{path}: no pairs")
    meta = tuple(
        c
        for c in table.column_names
        if c not in ("input", "output", "split") and pa.types.is_integer(table.schema.field(c).type)
    )
    inputs = check_tokens([t for r in rows for t in r["input"].split()], str(path))
    tokens = inputs + tuple(dict.fromkeys(t for r in rows for t in r["output"].split() if t not in inputs))
    check_tokens(tokens, str(path))
    sizes = [len(r["input"].split()) for r in rows]
    splits = tuple(dict.fromkeys(str(r["split"]) for r in rows if r.get("split") is not None))
    attrs = {
        "name": f"{path.stem}@{sha256_file(path)[:12]}",
        "description": f"pairs from {path.name} ({len(rows)} rows)",
        "option_specs": (Option("split", (None, *splits), None, "keep one split's rows"),) if splits else (),
        "meta_keys": ("length", *meta),
        "default_sizes": (min(sizes), max(sizes)),
        "size_limit": max(sizes),
        "inputs": inputs,
        "tokens": tokens,
        "rows": rows,
        "meta_columns": meta,
        "path": path,
    }
    return type(f"PairsTask[{path.name}]", (PairsTask,), attrs)
