"""CLI verbs for the run store: `runs list|show|query|record|export` and `replay`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from behaviorlab.cli._common import (
    FormatOpt,
    JsonAlias,
    console,
    count,
    deprecated,
    err_console,
    handles_bad_input,
    output_format,
)

CatalogOpt = Annotated[
    Path | None,
    typer.Option("--catalog", help="Catalog file (default: $BEHAVIORLAB_CATALOG, else runs/catalog.sqlite)."),
]

runs_app = typer.Typer(no_args_is_help=True, help="The run catalog: list, show, query (SQL), record.")


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "—" if v is None else str(v)


def table(title: str, cols: list[str], rows: list[Any], whole: tuple[str, ...] = ()) -> Table:
    """A plain Rich table: floats to 4 significant digits, None as a dash. Columns in `whole`
    are never cut or folded (names: their distinguishing part is often the end); the others give
    way when the terminal is narrow."""
    t = Table(title=title)
    cells = [[_cell(v) for v in r] for r in rows]
    for i, c in enumerate(cols):
        if c in whole:
            width = max([len(c), *(len(r[i]) for r in cells)])
            t.add_column(c, no_wrap=True, min_width=width)
        else:
            t.add_column(c, overflow="fold")
    for r in cells:
        t.add_row(*r)
    return t


LIST_COLUMNS = ["run_id", "kind", "name", "task", "status", "accuracy_id", "accuracy_ood", "steps"]
WIDE_COLUMNS = ["config_digest", "path"]


@runs_app.command("list")
@handles_bad_input
def list_cmd(
    catalog: CatalogOpt = None,
    status: Annotated[
        str | None, typer.Option(help="Only runs with this status (default: every status).")
    ] = None,
    wide: Annotated[bool, typer.Option("--wide", help="Also the config digest and the path.")] = False,
    fmt: FormatOpt = "text",
    as_json: JsonAlias = False,
    limit: Annotated[int | None, count("--limit", hidden=True, help="Deprecated: -n.")] = None,
) -> None:
    """Every catalogued run, newest first; names are never cut short."""
    from behaviorlab.store import list_runs, resolve_catalog

    fmt = output_format(fmt, as_json)
    rows = list_runs(resolve_catalog(catalog), status)
    cols = LIST_COLUMNS + (WIDE_COLUMNS if wide else [])
    if fmt == "json":
        every = LIST_COLUMNS + WIDE_COLUMNS + ["created_at", "updated_at"]
        print(json.dumps([{c: r[c] for c in every} for r in rows], indent=2))
        return
    view = [[r[c][:8] if c == "run_id" and not wide else r[c] for c in cols] for r in rows]
    console.print(table(f"{len(rows)} runs", cols, view, whole=("name",)))


@runs_app.command("show")
@handles_bad_input
def show_cmd(
    run: Annotated[str, typer.Argument(help="Run id (or unique prefix), run directory or name.")],
    catalog: CatalogOpt = None,
    fmt: FormatOpt = "text",
) -> None:
    """One run's catalog row and its summary (every field; --format json for the raw record)."""
    from behaviorlab.store import find_run, resolve_catalog
    from behaviorlab.store.catalog import default_catalog

    fmt = output_format(fmt)
    path = Path(run)
    cat = catalog or (default_catalog(path) if path.is_dir() else resolve_catalog(None))
    row = find_run(cat, run)
    row["summary"] = json.loads(row.pop("summary_json") or "{}")
    if fmt == "json":
        print(json.dumps(row, indent=2, default=str))
        return
    fields = [[k, v] for k, v in row.items() if k != "summary"]
    fields += [[f"summary.{k}", json.dumps(v, default=str) if isinstance(v, dict | list) else v]
               for k, v in row["summary"].items()]  # fmt: skip
    console.print(table(f"run {row['run_id']}", ["field", "value"], fields))


@runs_app.command("query")
@handles_bad_input
def query_cmd(
    sql: Annotated[str, typer.Argument(help="SQL over the views runs, metrics, predictions.")],
    catalog: CatalogOpt = None,
    n: Annotated[int, count("-n", "--n", lo=0, help="Rows to show in the table (JSON prints all).")] = 50,
    fmt: FormatOpt = "text",
    as_json: JsonAlias = False,
    limit: Annotated[int | None, count("--limit", hidden=True, help="Deprecated: -n.")] = None,
) -> None:
    """SQL (DuckDB) over the catalog (`runs`) and every run's Parquet (`metrics`, `predictions`)."""
    from behaviorlab.store import query, resolve_catalog

    fmt, n = output_format(fmt, as_json), deprecated(n, limit, "--limit", "-n")
    cols, rows = query(resolve_catalog(catalog), sql)
    if fmt == "json":
        print(json.dumps([dict(zip(cols, r, strict=True)) for r in rows], indent=2, default=str))
        return
    shown = f"{len(rows)} rows" + (f" (first {n}; -n for more)" if len(rows) > n else "")
    console.print(table(shown, cols, rows[:n]))


@runs_app.command("record")
@handles_bad_input
def record_cmd(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories to (re)record.")],
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="Catalog file (default: catalog.sqlite beside each run).")
    ] = None,
) -> None:
    """Add or refresh runs in the catalog."""
    from behaviorlab.store import record
    from behaviorlab.store.catalog import default_catalog

    for d in run_dirs:
        row = record(d, catalog)
        console.print(f"recorded {row['run_id']} {row['status']} {d} -> {catalog or default_catalog(d)}")


@runs_app.command("export")
@handles_bad_input
def export_cmd(
    out: Annotated[Path, typer.Option("--out", help="File to write (.csv or .parquet).")],
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "parquet",
    catalog: CatalogOpt = None,
) -> None:
    """The catalog as one table for notebooks (read back with behaviorlab.runs(FILE))."""
    from behaviorlab.store import resolve_catalog
    from behaviorlab.store.export import export_catalog

    n = export_catalog(resolve_catalog(catalog), out, fmt)
    console.print(f"{n} runs -> {out}")


@handles_bad_input
def replay_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `train` or `probe`.")],
    from_checkpoint: Annotated[
        bool,
        typer.Option(
            "--from-checkpoint", help="No training: re-score predictions from the final checkpoint."
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Keep the replayed run in this new directory (default: a temporary one)."),
    ] = None,
    fmt: FormatOpt = "text",
    as_json: JsonAlias = False,
    limit: Annotated[int | None, count("--limit", hidden=True, help="Deprecated: -n.")] = None,
    keep: Annotated[Path | None, typer.Option("--keep", hidden=True, help="Deprecated: --out.")] = None,
) -> None:
    """Re-execute a run and verify it bit for bit; exit 1 if anything differs."""
    from behaviorlab.store import replay_run

    fmt, out = output_format(fmt, as_json), deprecated(out, keep, "--keep", "--out")
    report = replay_run(run_dir, from_checkpoint=from_checkpoint, keep=out)
    if fmt == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for w in report.warnings:
            err_console.print(Text("warning: ", style="yellow") + Text(w))
        for c in report.checked:
            console.print(f"checked {c}")
        for d in report.differences:
            console.print(Text("DIFFERS ", style="red") + Text(str(d)))
        same = "identical (texts exact, log-probs within 1e-4)" if report.mode == "probe" else "bit-identical"
        verdict = same if report.identical else f"{len(report.differences)} difference(s)"
        console.print(f"replay ({report.mode}) of {run_dir}: {verdict}")
    if not report.identical:
        raise typer.Exit(1)
