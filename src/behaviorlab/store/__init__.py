"""The store: a catalog of run directories (SQLite), SQL over runs (DuckDB), and exact replay."""

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
from behaviorlab.store.compare import Difference
from behaviorlab.store.query import open_views, query
from behaviorlab.store.replay import ReplayReport, replay, rescore

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
    "rescore",
    "resolve_catalog",
    "run_id_for",
]
