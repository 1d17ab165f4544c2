"""Tables as files: the `csv` and `parquet` sinks write each table, and every scalar series in
one `scalars` table (name, step, value), into RUN/tables (or DIR/RUN_NAME)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pc
import pyarrow.parquet as pq

from behaviorlab.io import atomic_write
from behaviorlab.outdir import claim_folder
from behaviorlab.rundir import TABLES
from behaviorlab.validate import file_name


class FileSink:
    """Each table as one file; scalars gathered and written on close."""

    suffix = ".csv"

    def __init__(self, run_dir: Path, run: str, options: Mapping[str, Any]) -> None:
        base = options.get("dir")
        # Under DIR a folder named after the run (never a path a name could climb out with) that
        # is ours or new: someone's own files there are not overwritten.
        self.folder = (
            claim_folder(Path(base) / file_name(run), "results tables") if base else run_dir / TABLES
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        self.scalars: list[dict[str, Any]] = []

    def path(self, name: str) -> Path:
        """The file a table of this name goes to."""
        return self.folder / (name.replace("/", "-") + self.suffix)

    def log_scalar(self, name: str, value: float, step: int) -> None:
        self.scalars.append({"name": name, "step": step, "value": value})

    def log_table(self, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self.write(self.path(name), pa.Table.from_pylist([self.cells(r) for r in rows]))

    def cells(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A row as this format holds it (CSV has no lists: they become JSON text)."""
        return {k: json.dumps(v) if isinstance(v, list | dict | tuple) else v for k, v in row.items()}

    def log_artifact(self, path: Path) -> None:
        """Files stay where the run directory has them: tables are what this sink is for."""

    def close(self) -> None:
        if self.scalars:
            self.write(self.path("scalars"), pa.Table.from_pylist(self.scalars))

    def write(self, path: Path, table: pa.Table) -> None:
        """One table, atomically."""
        atomic_write(path, lambda tmp: pc.write_csv(table, tmp))


class CsvSink(FileSink):
    """Tables as CSV files."""


class ParquetSink(FileSink):
    """Tables as Parquet files."""

    suffix = ".parquet"

    def cells(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return dict(row)

    def write(self, path: Path, table: pa.Table) -> None:
        atomic_write(path, lambda tmp: pq.write_table(table, tmp))
