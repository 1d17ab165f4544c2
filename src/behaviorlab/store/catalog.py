"""The run catalog: one SQLite row per run directory, safe under many concurrent writer processes.

Why SQLite (WAL mode) and not DuckDB for the catalog: a DuckDB database file admits one writing
process at a time (others fail to open it), while sweeps, the demo and users' shells all record runs
at once. SQLite in WAL mode lets readers run beside a writer, serialises writers with a busy
timeout, and commits each short transaction atomically, so a writer killed mid-transaction leaves
only complete rows. It ships with Python. DuckDB is still used, read-only, for analytical queries
over the catalog plus every run's Parquet files (see `store.query`).
The catalog must live on a local file system (WAL needs shared memory); run directories may not.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.rundir import CATALOG, SUMMARY, RunDir, checkpoint_problems
from behaviorlab.validate import INT64_MAX, INT64_MIN

CATALOG_NAME = CATALOG  # the name beside the runs (rundir.CATALOG)
ENV_VAR = "BEHAVIORLAB_CATALOG"
BUSY_TIMEOUT_MS = 60_000

COLUMNS = (
    "run_id",
    "path",
    "kind",
    "name",
    "task",
    "config_digest",
    "status",
    "accuracy_id",
    "accuracy_ood",
    "steps",
    "optimizer",
    "seed",
    "integrity",
    "created_at",
    "updated_at",
    "summary_json",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id        TEXT PRIMARY KEY,
    path          TEXT NOT NULL UNIQUE,
    kind          TEXT,
    name          TEXT,
    task          TEXT,
    config_digest TEXT,
    status        TEXT,
    accuracy_id   REAL,
    accuracy_ood  REAL,
    steps         INTEGER,
    optimizer     TEXT,
    seed          INTEGER,
    integrity     TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    summary_json  TEXT
);
CREATE INDEX IF NOT EXISTS runs_digest ON runs (config_digest);
"""


def run_id_for(run_dir: Path) -> str:
    """A run's id: a short hash of its absolute path, so re-recording a run updates its row."""
    return hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:12]


def default_catalog(run_dir: Path) -> Path:
    """Where a run is recorded by default: $BEHAVIORLAB_CATALOG, else catalog.sqlite beside it."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else run_dir.resolve().parent / CATALOG_NAME


def resolve_catalog(catalog: Path | None, root: Path = Path("runs")) -> Path:
    """The catalog a command reads: --catalog, $BEHAVIORLAB_CATALOG, or ROOT/catalog.sqlite."""
    if catalog is not None:
        return catalog
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else root / CATALOG_NAME


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """Open the catalog in WAL mode with a long busy timeout; autocommit, we BEGIN explicitly."""
    if path.is_dir():
        raise BadInput(f"{path}: is a directory, not a catalog file")
    if not create and not path.is_file():
        raise BadInput(f"{path}: no catalog here (record a run first, or pass --catalog)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _open(path, create)
    except sqlite3.DatabaseError as e:  # "file is not a database", unreadable, locked for good
        raise BadInput(f"{path}: not a usable SQLite catalog ({e})") from None
    except OSError as e:
        raise BadInput(f"{e.filename or path}: cannot open the catalog: {e.strerror or e}") from None


def _open(path: Path, create: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # Switching to WAL takes a brief exclusive lock; racing first writers may see "locked".
    for attempt in range(100):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as e:
            if attempt == 99 or "locked" not in str(e):
                raise
            time.sleep(0.05)
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone()
    if not create and not exists:
        conn.close()
        raise BadInput(f"{path}: not a behaviorlab catalog (no runs table)")
    if not exists:
        with transaction(conn):
            for stmt in SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
    _add_missing_columns(conn)
    return conn


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Catalogs written before a column existed gain it (as NULL for old rows)."""
    have = {r["name"] for r in conn.execute("PRAGMA table_info(runs)")}
    missing = [c for c in COLUMNS if c not in have]
    if missing:
        with transaction(conn):
            for c in missing:
                if c not in {r["name"] for r in conn.execute("PRAGMA table_info(runs)")}:
                    conn.execute(f"ALTER TABLE runs ADD COLUMN {c} TEXT")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A short write transaction; BEGIN IMMEDIATE takes the write lock up front (no deadlock)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def row_from_run(run_dir: Path) -> dict[str, Any]:
    """The catalog row of a run directory of any kind, read through `RunDir` (no torch)."""
    run = RunDir.open(run_dir)
    s, optim, train = run.summary, run.section("optim"), run.section("train")
    problems = checkpoint_problems(run_dir)
    # A run whose checkpoints fail their checksums is not complete, whatever its summary says.
    status = "damaged" if problems else run.status
    row = {
        "run_id": run_id_for(run_dir),
        "path": str(run_dir.resolve()),
        "kind": run.kind,
        "name": run.name,
        "task": run.task,
        "config_digest": s.get("config_digest"),
        "status": status,
        "accuracy_id": s.get("accuracy_id"),
        "accuracy_ood": s.get("accuracy_ood"),
        "steps": s.get("steps"),
        # A training run's optimizer and seed; other kinds leave them empty.
        "optimizer": optim.get("name") if run.kind == "train" else None,
        "seed": train.get("seed") if run.kind == "train" else s.get("seed"),
        "integrity": "; ".join(f"{f}: {p}" for f, p in problems[:3]) or None,
        "summary_json": json.dumps(s, sort_keys=True, default=str),
    }
    return _checked(row, run_dir)


def _checked(row: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The row's typed columns as SQLite stores them: a number where the schema has one (within
    int64 for integers), text elsewhere; BadInput names the run's file otherwise."""
    for col in ("steps", "seed"):
        v = row[col]
        if v is not None and (
            not isinstance(v, int) or isinstance(v, bool) or not INT64_MIN <= v <= INT64_MAX
        ):
            raise BadInput(
                f"{run_dir}: {col} = {str(v)[:40]} is not a 64-bit integer (summary.json or config.toml)"
            )
    for col in ("accuracy_id", "accuracy_ood"):
        v = row[col]
        if v is not None and (not isinstance(v, int | float) or isinstance(v, bool)):
            raise BadInput(f"{run_dir / SUMMARY}: {col} = {str(v)[:40]} is not a number")
    for col in ("kind", "name", "task", "config_digest", "status", "optimizer"):
        if row[col] is not None:
            row[col] = str(row[col])
    return row


def upsert(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    """Insert or update one run row in a single transaction (created_at survives updates)."""
    now = _now()
    values = {**row, "created_at": now, "updated_at": now}
    cols = ", ".join(COLUMNS)
    marks = ", ".join(f":{c}" for c in COLUMNS)
    updates = ", ".join(f"{c}=excluded.{c}" for c in COLUMNS if c not in ("run_id", "created_at"))
    with transaction(conn):
        conn.execute(
            f"INSERT INTO runs ({cols}) VALUES ({marks}) ON CONFLICT(run_id) DO UPDATE SET {updates}",
            values,
        )


def record(run_dir: Path, catalog: Path | None = None) -> dict[str, Any]:
    """Record (or refresh) a run in the catalog; returns the row written."""
    if not run_dir.is_dir():
        raise BadInput(f"{run_dir}: not a directory")
    row = row_from_run(run_dir)
    conn = connect(catalog or default_catalog(run_dir))
    try:
        upsert(conn, row)
    finally:
        conn.close()
    return row


def list_runs(catalog: Path, status: str | None = None) -> list[dict[str, Any]]:
    """Every catalog row (newest first), optionally only those with a given status."""
    conn = connect(catalog, create=False)
    try:
        sql = "SELECT * FROM runs" + (" WHERE status = ?" if status else "")
        rows = conn.execute(sql + " ORDER BY updated_at DESC", (status,) if status else ()).fetchall()
    finally:
        conn.close()
    return [dict(r) for r in rows]


def find_run(catalog: Path, ref: str) -> dict[str, Any]:
    """One run by id, unique id prefix, path or name; BadInput if none or ambiguous."""
    conn = connect(catalog, create=False)
    try:
        path = str(Path(ref).resolve())
        rows = conn.execute(
            "SELECT * FROM runs WHERE run_id = ? OR path = ? OR run_id LIKE ? OR name = ?",
            (ref, path, ref.replace("%", "") + "%", ref),
        ).fetchall()
    finally:
        conn.close()
    exact = [r for r in rows if r["run_id"] == ref or r["path"] == path]
    found = exact or rows
    if not found:
        raise BadInput(f"{catalog}: no run matches {ref!r} (by id, path or name)")
    if len(found) > 1:
        ids = ", ".join(r["run_id"] for r in found[:5])
        raise BadInput(f"{catalog}: {ref!r} matches {len(found)} runs ({ids}); use the full id")
    return dict(found[0])


def find_complete(catalog: Path, digest: str) -> Path | None:
    """An existing run directory with this config digest whose status is complete, if any."""
    if not catalog.is_file():
        return None
    conn = connect(catalog, create=False)
    try:
        rows = conn.execute(
            "SELECT path FROM runs WHERE config_digest = ? AND status = 'complete'", (digest,)
        ).fetchall()
    finally:
        conn.close()
    return next((Path(r["path"]) for r in rows if Path(r["path"]).is_dir()), None)
