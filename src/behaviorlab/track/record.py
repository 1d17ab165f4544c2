"""A training run's metrics as the run directory records them: each row appended to
metrics.jsonl as training logs it, and metrics.parquet written from those rows when the run ends
(not rewritten at every checkpoint). A resume cuts the journal back to the checkpoint's row count.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write, atomic_write_text, read_parquet
from behaviorlab.rundir import METRICS, METRICS_LOG

# metrics.parquet's columns come first in this order, then the others sorted by name.
METRIC_COLUMNS = ("step", "split", "loss", "accuracy", "lr")


class MetricsJournal:
    """The append-only metrics journal of one run directory."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / METRICS_LOG
        self.parquet = run_dir / METRICS

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Rows at the end of the journal (one JSON object a line)."""
        with open(self.path, "a", encoding="utf-8") as f:
            f.writelines(json.dumps(r, sort_keys=True) + "\n" for r in rows)

    def flush(self) -> None:
        """The journal on disk (before a checkpoint records its row count)."""
        if self.path.is_file():
            with open(self.path, "rb") as f:
                os.fsync(f.fileno())

    def rows(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Every row so far (the first `limit`). A last line cut short by a kill is no row yet;
        any other line that is not a JSON object is BadInput naming the file."""
        if not self.path.is_file():
            return []
        text = self.path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        if lines and not text.endswith("\n"):
            lines.pop()  # written up to a kill: its row was never complete
        out = []
        for i, line in enumerate(lines[:limit], 1):
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            if not isinstance(row, dict):
                raise BadInput(f"{self.path}: line {i} is not a metrics row (a JSON object)")
            out.append(row)
        return out

    def truncate(self, n: int) -> None:
        """Keep the first `n` rows (a resume drops what came after its checkpoint)."""
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in self.rows(limit=n))
        atomic_write_text(self.path, text)

    def write_parquet(self) -> None:
        """metrics.parquet from the journal, with a fixed column order."""
        write_metrics(self.parquet, self.rows())

    def write_parquet_quietly(self) -> None:
        """metrics.parquet as far as the run got, when it can be written (a full disk: not)."""
        with contextlib.suppress(OSError):
            self.write_parquet()


def write_metrics(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Metrics rows as Parquet with a fixed column order, atomically."""
    if not rows:
        table = pa.table({"step": pa.array([], pa.int64())})
    else:
        extra = sorted({k for r in rows for k in r} - set(METRIC_COLUMNS))
        cols = [*METRIC_COLUMNS, *extra]
        table = pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """A run's metrics rows: metrics.parquet when the run wrote it, else the journal so far."""
    if (run_dir / METRICS).is_file():
        return list(read_parquet(run_dir / METRICS).to_pylist())
    return MetricsJournal(run_dir).rows()
