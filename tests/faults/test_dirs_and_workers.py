"""Writes stay inside the output directory under its ownership rule, a straggler and a resumed run
never write side by side, workers die with their parent, and the failure path never raises."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kit import refused, summary, tiny_config, tmpfs, trained_tiny

from behaviorlab.rundir import RunDir


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained_tiny(tmp_path_factory.mktemp("dirs") / "run")


# --- 3. every write under the output directory, under its ownership rule --------------------------


def test_report_never_writes_into_a_foreign_figures_folder(cli: Any, trained: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    (mine / "figures").mkdir(parents=True)
    png = mine / "figures" / "overview-accuracy.png"
    png.write_bytes(b"my own figure")
    refused(cli("report", trained, "--out", mine / "x.html"), "figures", "did not write")
    assert sorted(p.name for p in mine.rglob("*")) == ["figures", "overview-accuracy.png"]
    assert png.read_bytes() == b"my own figure"
    fresh = tmp_path / "fresh"
    assert cli("report", trained, "--out", fresh / "x.html").code == 0
    assert cli("report", trained, "--out", fresh / "x.html").code == 0  # its own folder: fine


def test_links_out_of_a_run_are_never_followed(cli: Any, trained: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    shutil.rmtree(copy / "analysis", ignore_errors=True)
    (copy / "analysis").symlink_to(outside, target_is_directory=True)
    refused(cli("explain", copy, "--queries", "20", "--check", "0"), "symbolic link out of")
    refused(cli("interpret", "heads", copy, "-n", "4"), "symbolic link out of")
    refused(cli("train", tiny_config(tmp_path), "--out", copy, "--resume"), "symbolic link out of")
    assert list(outside.iterdir()) == []


def test_names_from_files_never_climb_out(cli: Any, trained: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    manifest = copy / "checkpoints" / "manifest.json"
    m = json.loads(manifest.read_text())
    m["checkpoints"][0]["dir"] = "../../victim"
    manifest.write_text(json.dumps(m))
    refused(cli("train", tiny_config(tmp_path), "--out", copy, "--resume"), "manifest.json", "malformed")
    refused(cli("eval", copy), "manifest.json")
    import tomllib

    import tomli_w

    raw = tomllib.loads(
        (Path(__file__).resolve().parents[2] / "configs" / "imitation-quick.toml").read_text()
    )
    raw["base"]["sizes"][0]["name"] = ".."
    (tmp_path / "im.toml").write_text(tomli_w.dumps(raw))
    refused(cli("imitate", tmp_path / "im.toml", "--out", tmp_path / "im"), "base.sizes.0.name")
    assert (victim / "keep.txt").read_text() == "mine" and not (tmp_path / "im").exists()


def test_exports_and_sinks_keep_to_their_own_folders(cli: Any, trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "run").mkdir(parents=True)
    (out / "run" / "mine.csv").write_text("mine")
    refused(cli("export", trained, "--to", "csv", "--out", out), "did not write")
    twin = tmp_path / "twin" / "run"
    shutil.copytree(trained, twin)
    refused(cli("export", trained, twin, "--to", "csv", "--out", tmp_path / "new"), "two runs are named run")
    refused(cli("export", trained, "--to", "nope", "--out", tmp_path / "new"), "unknown results sink")
    assert not (tmp_path / "new").exists()
    assert cli("export", trained, trained, "--to", "csv", "--out", tmp_path / "new").code == 0
    assert cli("export", trained, "--to", "csv", "--out", tmp_path / "new").code == 0  # its own folder
    notes = tmp_path / "notes.csv"
    notes.write_text("my,own\n1,2\n")
    catalog = tmp_path / "catalog.sqlite"
    assert cli("runs", "record", trained, "--catalog", catalog).code == 0
    refused(cli("runs", "export", "--out", notes, "--format", "csv", "--catalog", catalog), "not overwriting")
    assert notes.read_text() == "my,own\n1,2\n"
    table = tmp_path / "runs.csv"
    for _ in range(2):  # an earlier export of the catalog is replaced
        assert cli("runs", "export", "--out", table, "--format", "csv", "--catalog", catalog).code == 0
    # A live sink's DIR/RUN_NAME: a run name cannot climb out, someone's folder is never written.
    from behaviorlab.track import open_tracker

    said: list[str] = []
    tracker = open_tracker(["csv"], trained, "../run", {"dir": str(out)}, say=said.append)
    assert not tracker.sinks and "did not write" in said[0]
    assert sorted(p.name for p in out.rglob("*")) == ["mine.csv", "run"]
    tracker = open_tracker(["csv"], trained, "../../x", {"dir": str(out)}, say=said.append)
    tracker.log_scalar("loss", 1.0, 1)
    tracker.close()
    assert (out / "x" / "scalars.csv").is_file() and not (tmp_path / "x").exists()
    (out / "mlflow.db").write_text("my own notes")  # the MLflow store's default name, beside runs
    tracker = open_tracker(["mlflow"], out / "x", "x", {}, say=said.append)
    assert not tracker.sinks and "is not an MLflow store" in said[-1]
    assert (out / "mlflow.db").read_text() == "my own notes"


# --- 4. one writer per directory; workers die with their parent ----------------------------------

HOLD = r"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, str(os.getpid()).encode())
print("held", flush=True)
time.sleep(120)
"""


def test_a_resume_cannot_race_a_straggler(cli: Any, trained: Path, tmp_path: Path) -> None:
    from behaviorlab.probes import run_probes

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    probe = tmp_path / "probe"
    run_probes([str(trained)], probe, probes="copying", limit=1)
    s = summary(run)
    (run / "summary.json").write_text(json.dumps({**s, "status": "running"}))  # as a kill leaves it
    holders = [
        subprocess.Popen([sys.executable, "-c", HOLD, str(d / ".lock")], stdout=subprocess.PIPE)
        for d in (run, probe)
    ]
    try:
        for h in holders:
            assert h.stdout is not None and h.stdout.readline().strip() == b"held"
        pid = str(holders[0].pid)
        refused(
            cli("train", tiny_config(tmp_path), "--out", run, "--resume"), "in use by another process", pid
        )
        refused(
            cli("probe", "--model", trained, "--out", probe, "--probes", "copying", "-n", "1", "--resume"),
            "in use",
        )
        refused(cli("train", tiny_config(tmp_path), "--out", run, "--force"), "in use by another process")
        assert RunDir.open(run).status == "running"  # the straggler is alive: it is running
    finally:
        for h in holders:
            h.kill()
            h.wait()
    assert RunDir.open(run).status == "interrupted"  # nobody holds it now
    assert summary(run)["status"] == "running"  # (the file itself is as the kill left it)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (Ray's workers are grandchildren: children of its raylet)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [pid]
    while frontier:
        kids = [c for c, p in parents.items() if p in frontier]
        found += kids
        frontier = kids
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# Ray's per-node agents write nothing and leave by themselves once the raylet is gone (Ray checks
# every few seconds and then reports to a GCS that is already dead): not workers that must die now.
AGENTS = ("ray::DashboardAgent", "ray::RuntimeEnvAgent")


def _kill_parent_then_watch_workers(
    cmd: list[str], out: Path, runs: int, pattern: str = "*/summary.json"
) -> None:
    """Start `cmd`; once `runs` of its runs are training in OUT, kill -9 it: every process it
    started must be gone within seconds, and the runs they left read as interrupted."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while len(list(out.glob(pattern))) < runs and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.2)
    workers = [c for c in _descendants(proc.pid) if not _cmdline(c).startswith(AGENTS)]
    assert any("spawn_main" in _cmdline(c) or _cmdline(c).startswith("ray::") for c in workers)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [f"{c} {_cmdline(c)[:60]}" for c in workers if _alive(c)]
    assert not left, f"outlived their parent: {left}"
    for run in out.glob(pattern):
        assert RunDir.open(run.parent).status == "interrupted"


def test_sweep_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, steps=100_000, checkpoint_every=20, eval_every=100_000)
    (tmp_path / "sweep.toml").write_text(f'base = "{cfg.name}"\n[grid]\n"train.seed" = [0, 1]\n')
    out = tmp_path / "out"
    sweep = ["sweep", str(tmp_path / "sweep.toml"), "--out", str(out), "--workers", "1"]
    _kill_parent_then_watch_workers([sys.executable, "-m", "behaviorlab", *sweep], out, 1)


@pytest.mark.slow  # the same pool as the sweep's (run_local); a study's workers take longer to start
def test_study_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    out = tmp_path / "study"
    study = ["study", "recursion", "--quick", "--seeds", "1", "--out", str(out)]
    _kill_parent_then_watch_workers([sys.executable, "-m", "behaviorlab", *study], out, 2)


@pytest.mark.slow  # the sweep's pool again, behind the imitation experiment's teacher and bases
def test_imitation_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    from test_sizes_and_numbers import _imitation_config

    cfg = _imitation_config(tmp_path, **{"teacher.fit.steps": 100_000, "base.fit.steps": 100_000})
    out = tmp_path / "imitation"
    imitate = ["imitate", str(cfg), "--out", str(out)]
    _kill_parent_then_watch_workers(
        [sys.executable, "-m", "behaviorlab", *imitate], out, 2, "**/summary.json"
    )


@pytest.mark.slow  # a local Ray instance takes tens of seconds to start
def test_ray_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'behaviorlab[ray]')")
    cfg = tiny_config(tmp_path, steps=100_000, checkpoint_every=20, eval_every=100_000)
    (tmp_path / "sweep.toml").write_text(f'base = "{cfg.name}"\n[grid]\n"train.seed" = [0, 1]\n')
    out = tmp_path / "out"
    sweep = ["sweep", str(tmp_path / "sweep.toml"), "--out", str(out), "--backend", "ray"]
    _kill_parent_then_watch_workers([sys.executable, "-m", "behaviorlab", *sweep], out, 2)


# --- 5. the failure path never raises -------------------------------------------------------------


def _no_space(*_: Any, **__: Any) -> None:
    raise OSError(28, "No space left on device", "summary.json")


def test_status_that_cannot_be_written(
    cli: Any, trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import behaviorlab.outdir as outdir
    import behaviorlab.probes.suite as suite
    import behaviorlab.train.loop as loop

    cfg, run = tiny_config(tmp_path), tmp_path / "run"
    checkpoint_now = loop.checkpoint_now

    def disk_fills_at_20(out: Path, model: Any, opt: Any, st: Any) -> None:
        if st.step == 20:
            monkeypatch.setattr(outdir, "update_summary", _no_space)
            raise OSError(28, "No space left on device", str(out / "checkpoints"))
        checkpoint_now(out, model, opt, st)

    monkeypatch.setattr(loop, "checkpoint_now", disk_fills_at_20)
    line = refused(
        cli("train", cfg, "--out", run), "No space left", "step 10", "status not recorded", "interrupted"
    )
    assert summary(run)["status"] == "running" and RunDir.open(run).status == "interrupted"
    run_part = suite.run_part
    calls = []

    def second_part_fails(*a: Any, **k: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(tmp_path / "probe"))
        return run_part(*a, **k)

    monkeypatch.setattr(suite, "run_part", second_part_fails)
    r = cli("probe", "--model", trained, "--out", tmp_path / "probe", "--probes", "copying,noise", "-n", "1")
    refused(r, "No space left", "kept for --resume", "status not recorded")
    assert RunDir.open(tmp_path / "probe").status == "interrupted"
    monkeypatch.undo()
    assert cli("train", cfg, "--out", run, "--resume", "--no-evaluate").code == 0 and line
    assert summary(run)["status"] == "trained"
    r = cli(
        "probe",
        "--model",
        trained,
        "--out",
        tmp_path / "probe",
        "--probes",
        "copying,noise",
        "-n",
        "1",
        "--resume",
    )
    assert r.code == 0 and summary(tmp_path / "probe")["status"] == "complete"


def test_a_full_disk_at_the_start_leaves_nothing(cli: Any, trained: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "64k") as disk:
        with open(disk / "filler", "wb") as f:  # 8 KB left
            f.write(b"\0" * (56 * 1024))
        refused(cli("train", tiny_config(tmp_path), "--out", disk / "run"), "of disk", "free")
        refused(cli("probe", "--model", trained, "--out", disk / "probe", "-n", "1"), "of disk", "free")
        assert [p.name for p in disk.iterdir()] == ["filler"]


# --- 6. untrusted files are checked at the door ---------------------------------------------------


def test_files_that_are_not_what_they_claim(cli: Any, trained: Path, tmp_path: Path) -> None:
    from lm_tiny import gpt2_dir

    hf = gpt2_dir(tmp_path)
    weights = hf / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    out = tmp_path / "p"
    refused(cli("probe", "--model", f"hf:{hf}", "--out", out), "model.safetensors", "truncated")
    refused(cli("explain", "--model", f"hf:{hf}", "--task", "peano-add"), "model.safetensors")
    pages = tmp_path / "html"
    pages.mkdir()
    for i in range(12):
        (pages / f"p{i}.html").write_bytes(os.urandom(2000))
    (pages / "p3.html").write_bytes(b"<html><![bogus[ x ]]>" + os.urandom(500))
    refused(cli("tasks", "lm-corpus", "--root", pages, "--out", out), "p3.html", "not an HTML page")
    probe = tmp_path / "probe"
    assert cli("probe", "--model", trained, "--out", probe, "--probes", "copying", "-n", "1").code == 0
    (probe / "outputs.parquet").write_bytes(os.urandom(300))
    refused(cli("replay", probe), "outputs.parquet", "not a readable Parquet file")
    nulls = tmp_path / "pairs.jsonl"  # a task file of pairs: a null is not the text "None"
    nulls.write_text('{"input": "a b", "output": "c"}\n{"input": null, "output": "c"}\n')
    refused(cli("tasks", "sample", nulls), "pairs.jsonl", "1 row(s) without an input")
    (tmp_path / "pairs.parquet").write_bytes(os.urandom(300))
    refused(cli("tasks", "sample", tmp_path / "pairs.parquet"), "pairs.parquet", "not a readable Parquet")
    assert not out.exists()
