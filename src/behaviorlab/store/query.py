"""SQL over the catalog and every catalogued run's Parquet files, with DuckDB (read-only).

Views: `runs` (the catalog rows), `metrics` and `predictions` (each run's Parquet file with a
`run_id` column; files are unioned by column name, so runs with different metadata columns mix).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from behaviorlab.errors import BadInput
from behaviorlab.store.catalog import COLUMNS, list_runs

PARQUET_VIEWS = {"metrics": "metrics.parquet", "predictions": "predictions.parquet"}


def _runs_table(rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema(
        [
            (
                c,
                pa.float64()
                if c.startswith("accuracy")
                else pa.int64()
                if c in ("steps", "seed")
                else pa.string(),
            )
            for c in COLUMNS
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def open_views(catalog: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the `runs`, `metrics` and `predictions` views."""
    rows = list_runs(catalog)
    con = duckdb.connect(":memory:")
    runs_arrow = _runs_table(rows)
    con.register("_runs_arrow", runs_arrow)
    con.execute("CREATE TABLE runs AS SELECT * FROM _runs_arrow")
    con.unregister("_runs_arrow")
    for view, fname in PARQUET_VIEWS.items():
        files = [(r["run_id"], str(Path(r["path"]) / fname)) for r in rows]
        files = [(rid, p) for rid, p in files if Path(p).is_file()]
        if not files:
            con.execute(f"CREATE VIEW {view} AS SELECT NULL::VARCHAR AS run_id WHERE false")
            continue
        index = pa.table({"_rid": [f[0] for f in files], "_file": [f[1] for f in files]})
        con.register(f"_{view}_files", index)
        con.execute(f"CREATE TABLE _{view}_index AS SELECT * FROM _{view}_files")
        con.unregister(f"_{view}_files")
        con.execute(
            f"CREATE VIEW {view} AS SELECT i._rid AS run_id, p.* EXCLUDE (filename) "
            f"FROM read_parquet({_sql_list([f[1] for f in files])}, "
            "filename=true, union_by_name=true) p "
            f"JOIN _{view}_index i ON p.filename = i._file"
        )
    return con


def query(catalog: Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one SQL statement over the views; returns column names and rows."""
    con = open_views(catalog)
    try:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description or []]
        return cols, cur.fetchall()
    except duckdb.Error as e:
        raise BadInput(f"query failed: {str(e).splitlines()[0]}") from None
    finally:
        con.close()
