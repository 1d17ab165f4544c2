"""Read-only SQL over the catalog and every catalogued run's Parquet files, with DuckDB.

Tables: `runs` (the catalog rows), `metrics` and `predictions` (each run's Parquet file with a
`run_id` column; files are unioned by column name, so runs with different metadata columns mix).
They are loaded into an in-memory database whose access to files is then switched off and locked:
a query can read these tables and nothing else, and only one SELECT statement is accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from behaviorlab.errors import BadInput
from behaviorlab.rundir import METRICS, PREDICTIONS
from behaviorlab.store.catalog import COLUMNS, list_runs

PARQUET_TABLES = {"metrics": METRICS, "predictions": PREDICTIONS}
_NUMERIC = {
    "accuracy_id": pa.float64(),
    "accuracy_ood": pa.float64(),
    "steps": pa.int64(),
    "seed": pa.int64(),
}


def _runs_table(rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema([(c, _NUMERIC.get(c, pa.string())) for c in COLUMNS])
    return pa.Table.from_pylist(rows, schema=schema)


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def open_views(catalog: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection holding `runs`, `metrics` and `predictions`, locked read-only."""
    rows = list_runs(catalog)
    con = duckdb.connect(":memory:")
    con.register("_runs_arrow", _runs_table(rows))
    con.execute("CREATE TABLE runs AS SELECT * FROM _runs_arrow")
    con.unregister("_runs_arrow")
    for table, fname in PARQUET_TABLES.items():
        files = [(r["run_id"], str(Path(r["path"]) / fname)) for r in rows]
        files = [(rid, p) for rid, p in files if Path(p).is_file()]
        if not files:
            con.execute(f"CREATE TABLE {table} AS SELECT NULL::VARCHAR AS run_id WHERE false")
            continue
        index = pa.table({"_rid": [f[0] for f in files], "_file": [f[1] for f in files]})
        con.register("_files", index)
        con.execute(
            f"CREATE TABLE {table} AS SELECT i._rid AS run_id, p.* EXCLUDE (filename) "
            f"FROM read_parquet({_sql_list([f[1] for f in files])}, filename=true, union_by_name=true) p "
            "JOIN _files i ON p.filename = i._file"
        )
        con.unregister("_files")
    # From here on no statement may touch a file or change these settings back.
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Accept exactly one SELECT (WITH …, DESCRIBE); refuse everything else with one line."""
    if not sql.strip():
        raise BadInput("empty query; try: select name, status from runs")
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as e:
        raise BadInput(f"query does not parse: {str(e).splitlines()[0]}") from None
    if len(statements) != 1:
        raise BadInput(f"one statement at a time; got {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise BadInput(f"runs query is read-only: only SELECT is accepted, not {kind.name}")


def query(catalog: Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one read-only SQL statement over the tables; returns column names and rows."""
    con = open_views(catalog)
    try:
        check_read_only(con, sql)
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description or []]
        return cols, cur.fetchall()
    except duckdb.Error as e:
        raise BadInput(f"query failed: {str(e).splitlines()[0]}") from None
    finally:
        con.close()
