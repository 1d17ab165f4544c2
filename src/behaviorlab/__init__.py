"""behaviorlab: what has a generative model actually learned, and where will it fail?

Notebook entry points: `behaviorlab.open(RUN_DIR)` (a run, its analyses, tables as DataFrames)
and `behaviorlab.runs()` (the catalog as a DataFrame); see `behaviorlab.api`.
"""

__version__ = "0.1.0"

from pathlib import Path as _Path
from typing import Any as _Any


def open(path: str | _Path) -> _Any:  # noqa: A001 - `behaviorlab.open(RUN_DIR)` is the notebook entry
    """Open a training run for analysis in a notebook (model, task, data, every analysis)."""
    from behaviorlab.api import open as _open

    return _open(path)


def runs(catalog: str | _Path | None = None, kind: str | None = None) -> _Any:
    """The run catalog as a pandas DataFrame, newest first."""
    from behaviorlab.api import runs as _runs

    return _runs(catalog, kind)
