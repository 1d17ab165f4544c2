"""behaviorlab: what has a generative model actually learned, and where will it fail?"""

__version__ = "0.1.0"

from pathlib import Path as _Path
from typing import Any as _Any


def open(path: str | _Path) -> _Any:  # noqa: A001 - `behaviorlab.open(RUN_DIR)` is the notebook entry
    """Open a run directory for analysis in a notebook (model, task, data, every analysis)."""
    from behaviorlab.interpret.notebook import open_run

    return open_run(_Path(path))
