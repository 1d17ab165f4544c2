"""The store: a catalog of run directories (SQLite), SQL over runs (DuckDB), and exact replay.

The catalog and queries import no torch (listing runs stays fast); replay, which retrains, is
imported on first use.
"""

from typing import Any

from behaviorlab.store.catalog import (
    CATALOG_NAME,
    default_catalog,
    find_complete,
    find_run,
    list_runs,
    record,
    resolve_catalog,
    run_id_for,
)
from behaviorlab.store.query import open_views, query

_LAZY = {
    "Difference": "compare",
    "ReplayReport": "compare",
    "replay": "rerun",
    "rescore": "rerun",
    "replay_probe": "probe_replay",
    "replay_run": "rerun",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"behaviorlab.store.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'behaviorlab.store' has no attribute {name!r}")


__all__ = [
    "CATALOG_NAME",
    "Difference",
    "ReplayReport",
    "default_catalog",
    "find_complete",
    "find_run",
    "list_runs",
    "open_views",
    "query",
    "record",
    "replay",
    "replay_probe",
    "replay_run",
    "rescore",
    "resolve_catalog",
    "run_id_for",
]
