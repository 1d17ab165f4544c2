"""The catalog: concurrent writers lose nothing, kill -9 mid-transaction corrupts nothing, SQL."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from behaviorlab.errors import BadInput
from behaviorlab.store import find_run, list_runs, query, record, run_id_for
from behaviorlab.store.catalog import connect
from behaviorlab.train.config import validate

WRITERS, RECORDS_EACH = 8, 25


def _fake_run(root: Path, name: str, raw: dict[str, Any], acc: float, status: str = "complete") -> Path:
    """A synthetic run directory: a real resolved config and a summary, no training."""
    run = root / name
    run.mkdir(parents=True)
    cfg = validate(raw, name)
    (run / "config.toml").write_text(cfg.to_toml())
    summary = {
        "status": status,
        "accuracy_id": acc,
        "accuracy_ood": acc / 2,
        "steps": 30,
        "config_digest": cfg.digest(),
    }
    (run / "summary.json").write_text(json.dumps(summary))
    return run


def _writer(dirs: list[str], catalog: str, start: Any) -> None:
    start.wait()  # all writers begin together to maximise contention
    for d in dirs:
        record(Path(d), Path(catalog))


def test_concurrent_writers_lose_no_record(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    n = WRITERS * RECORDS_EACH
    runs = [_fake_run(tmp_path / "runs", f"r{i:03d}", tiny_raw, i / n) for i in range(n)]
    catalog = tmp_path / "catalog.sqlite"
    ctx = mp.get_context("fork")  # record() needs no torch threads; fork keeps start-up cheap
    start = ctx.Barrier(WRITERS)
    procs = [
        ctx.Process(target=_writer, args=([str(r) for r in runs[w::WRITERS]], str(catalog), start))
        for w in range(WRITERS)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    rows = {r["run_id"]: r for r in list_runs(catalog)}
    assert len(rows) == n
    for i, run in enumerate(runs):
        row = rows[run_id_for(run)]
        assert row["accuracy_id"] == i / n and row["status"] == "complete" and row["task"]


def test_upsert_updates_in_place_and_lookup(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    run = _fake_run(tmp_path, "a", tiny_raw, 0.5, status="trained")
    first = record(run)  # default catalog: beside the run
    catalog = tmp_path / "catalog.sqlite"
    created = list_runs(catalog)[0]["created_at"]
    digest = validate(tiny_raw, "x").digest()
    (run / "summary.json").write_text(
        json.dumps({"status": "complete", "accuracy_id": 0.9, "config_digest": digest})
    )
    time.sleep(0.01)
    record(run)
    (row,) = list_runs(catalog)
    assert row["status"] == "complete" and row["accuracy_id"] == 0.9
    assert row["created_at"] == created and row["updated_at"] > created
    assert row["config_digest"] == digest
    for ref in (first["run_id"], first["run_id"][:6], str(run), "tiny"):
        assert find_run(catalog, ref)["run_id"] == first["run_id"]
    with pytest.raises(BadInput, match="no run matches"):
        find_run(catalog, "zzzz")
    with pytest.raises(BadInput, match="no catalog"):
        list_runs(tmp_path / "missing.sqlite")


KILL_SCRIPT = """
import sys, time
from pathlib import Path
from behaviorlab.store.catalog import connect, row_from_run, transaction, upsert
catalog, runs, marker = Path(sys.argv[1]), sys.argv[2:-1], Path(sys.argv[-1])
conn = connect(catalog)
for i, d in enumerate(runs):
    upsert(conn, row_from_run(Path(d)))
    if i == len(runs) // 2:
        marker.write_text("half")
with transaction(conn):  # dies inside this transaction, after writing a row
    conn.execute("UPDATE runs SET status = 'torn', accuracy_id = NULL")
    marker.write_text("in-transaction")
    time.sleep(60)
"""


def test_kill_9_mid_transaction_leaves_complete_rows(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    runs = [_fake_run(tmp_path / "runs", f"r{i}", tiny_raw, 0.25) for i in range(40)]
    catalog, marker = tmp_path / "catalog.sqlite", tmp_path / "marker"
    script = tmp_path / "writer.py"
    script.write_text(KILL_SCRIPT)
    args = [sys.executable, str(script), str(catalog), *map(str, runs), str(marker)]
    # First kill at a random point of the upsert loop, then one inside an open transaction.
    for wait_for in ("half", "in-transaction"):
        marker.unlink(missing_ok=True)
        proc = subprocess.Popen(args, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and (not marker.exists() or marker.read_text() != wait_for):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        conn = sqlite3.connect(catalog)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        statuses = {s for (s,) in conn.execute("SELECT status FROM runs")}
        conn.close()
        assert statuses == {"complete"}  # the killed transaction left no trace
        rows = list_runs(catalog)
        assert all(r["accuracy_id"] == 0.25 and r["config_digest"] for r in rows)
    assert len(list_runs(catalog)) == 40
    record(runs[0], catalog)  # the dead writer's lock is gone
    with connect(catalog) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 40


def _parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    pq.write_table(pa.Table.from_pylist(rows), path)


def test_sql_over_catalog_and_parquet(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    a = _fake_run(tmp_path, "a", tiny_raw, 1.0)
    tiny_raw["train"]["seed"] = 1
    b = _fake_run(tmp_path, "b", tiny_raw, 0.5)
    _parquet(a / "metrics.parquet", [{"step": 10, "loss": 1.0}, {"step": 20, "loss": 0.5}])
    _parquet(b / "metrics.parquet", [{"step": 10, "loss": 2.0, "win_rate": 0.3}])
    _parquet(b / "predictions.parquet", [{"split": "test_ood", "correct": True, "logprobs": [-0.1]}])
    catalog = tmp_path / "catalog.sqlite"
    for run in (a, b):
        record(run, catalog)
    cols, rows = query(
        catalog,
        "SELECT r.seed, count(*), max(m.loss), max(m.win_rate) FROM metrics m "
        "JOIN runs r USING (run_id) GROUP BY r.seed ORDER BY r.seed",
    )
    assert rows == [(0, 2, 1.0, None), (1, 1, 2.0, 0.3)]
    _, preds = query(catalog, "SELECT run_id, logprobs FROM predictions")
    assert preds == [(run_id_for(b), [-0.1])]
    with pytest.raises(BadInput, match="query failed"):
        query(catalog, "SELECT nope FROM runs")


def test_runs_cli(tmp_path: Path, tiny_raw: dict[str, Any]) -> None:
    from behaviorlab.cli.runs import runs_app

    run = _fake_run(tmp_path, "a", tiny_raw, 0.75)
    cli = CliRunner()
    catalog = str(tmp_path / "catalog.sqlite")
    assert cli.invoke(runs_app, ["record", str(run)]).exit_code == 0
    listed = cli.invoke(runs_app, ["list", "--catalog", catalog, "--format", "json"])
    assert listed.exit_code == 0 and json.loads(listed.stdout)[0]["accuracy_id"] == 0.75
    shown = cli.invoke(runs_app, ["show", str(run), "--format", "json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["summary"]["accuracy_id"] == 0.75
    table = cli.invoke(runs_app, ["show", str(run)], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "summary.accuracy_id" in table.stdout and "0.75" in table.stdout
    env = {"BEHAVIORLAB_CATALOG": catalog}
    q = cli.invoke(runs_app, ["query", "SELECT count(*) AS n FROM runs", "--format", "json"], env=env)
    assert q.exit_code == 0 and json.loads(q.stdout) == [{"n": 1}]
    missing = cli.invoke(runs_app, ["list", "--catalog", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 2 and "no catalog" in missing.stderr
