"""The catalog as a file for notebooks: `behaviorlab runs export --format csv|parquet`, read back by
`behaviorlab.runs(FILE)` into the same DataFrame the catalog gives (one Arrow schema both ways)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pc
import pyarrow.parquet as pq

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write
from behaviorlab.store.catalog import COLUMNS, list_runs

FORMATS = ("csv", "parquet")
_TYPES = {"accuracy_id": pa.float64(), "accuracy_ood": pa.float64(), "steps": pa.int64(), "seed": pa.int64()}
SCHEMA = pa.schema([(c, _TYPES.get(c, pa.string())) for c in COLUMNS])


def catalog_table(catalog: Path) -> pa.Table:
    """Every catalog row (newest first) as an Arrow table of the catalog's columns."""
    return pa.Table.from_pylist(list_runs(catalog), schema=SCHEMA)


def export_catalog(catalog: Path, out: Path, fmt: str) -> int:
    """The catalog into `out` as CSV or Parquet; the number of runs written."""
    if fmt not in FORMATS:
        raise BadInput(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if out.is_dir() or out.is_symlink():
        raise BadInput(f"{out}: is a folder or a link; --out names the file to write")
    if out.exists():  # only an earlier export is replaced: never someone's own file
        try:
            read_exported(out)
        except BadInput:
            raise BadInput(f"{out}: exists and is not an exported catalog; not overwriting it") from None
    table = catalog_table(catalog)
    write = (
        (lambda tmp: pc.write_csv(table, tmp)) if fmt == "csv" else (lambda tmp: pq.write_table(table, tmp))
    )
    try:
        atomic_write(out, write)
    except OSError as e:
        raise BadInput(f"{e.filename or out}: cannot write the export: {e.strerror or e}") from None
    return table.num_rows


def read_exported(path: Path) -> pa.Table:
    """An exported catalog (.csv or .parquet) with the catalog's column types."""
    if not path.is_file():
        raise BadInput(f"{path}: no such exported catalog")
    try:
        if path.suffix.lower() == ".parquet":
            return pq.read_table(path).cast(SCHEMA)
        options = pc.ConvertOptions(column_types=SCHEMA, strings_can_be_null=True)
        return pc.read_csv(path, convert_options=options).select(SCHEMA.names)
    except (pa.ArrowInvalid, KeyError, OSError) as e:
        raise BadInput(f"{path}: not an exported behaviorlab catalog: {e}") from None
