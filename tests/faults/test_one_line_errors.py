"""Every error a user can cause is one `error: …` line, exit 2 — and leaves nothing behind."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from kit import summary, tiny_config, tmpfs


def test_force_never_deletes_a_folder_that_is_not_a_run(cli: Any, tmp_path: Path) -> None:
    notes = tmp_path / "mine"
    notes.mkdir()
    (notes / "notes.txt").write_text("a week of notes")
    cfg = tiny_config(tmp_path)
    r = cli("train", cfg, "--out", notes, "--force")
    assert r.code == 2 and "not a behaviorlab run directory" in r.one_line_error()
    assert sorted(p.name for p in notes.iterdir()) == ["notes.txt"]  # untouched


def test_force_checks_the_new_run_before_replacing_a_good_one(cli: Any, tmp_path: Path) -> None:
    cfg, out = tiny_config(tmp_path, steps=10), tmp_path / "run"
    assert cli("train", cfg, "--out", out).code == 0
    before = (out / "summary.json").read_text()
    r = cli("train", cfg, "--out", out, "--force", "--set", "model.max_len=4")
    assert r.code == 2 and "max_len=4" in r.one_line_error()
    assert (out / "summary.json").read_text() == before  # the earlier run is still there, whole


def test_output_path_that_is_a_file_or_cannot_be_created(cli: Any, tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path)
    (tmp_path / "afile").write_text("x")
    r = cli("train", cfg, "--out", tmp_path / "afile")
    assert r.code == 2 and "exists and is not a directory" in r.one_line_error()
    r = cli("train", cfg, "--out", tmp_path / "afile" / "run")
    assert r.code == 2 and "is not a directory" in r.one_line_error()
    assert (tmp_path / "afile").read_text() == "x"


def test_read_only_output(cli: Any, tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path)
    if os.geteuid() != 0:  # permission bits bind ordinary users
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
        r = cli("train", cfg, "--out", locked / "run")
        assert r.code == 2 and "not writable" in r.one_line_error()
        return
    with tmpfs(tmp_path / "ro", "64k", "ro") as ro:  # root ignores permission bits: a read-only mount
        r = cli("train", cfg, "--out", ro / "run")
        assert r.code == 2 and str(ro) in r.one_line_error()
        assert list(ro.iterdir()) == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ('train.steps="30"', "train.steps: Input should be a valid integer"),
        ("train.steps=true", "train.steps: Input should be a valid integer"),
        ('optim.lr="0.003"', "optim.lr: Input should be a valid number"),
        ("optim.lr=inf", "optim.lr: Input should be a finite number"),
        ("train.grad_clip=nan", "train.grad_clip: Input should be a finite number"),
        ("optim.betas=[0.9, 2.0]", "rejects its settings"),
    ],
)
def test_strict_configs(cli: Any, tmp_path: Path, override: str, message: str) -> None:
    r = cli("train", tiny_config(tmp_path), "--out", tmp_path / "run", "--set", override)
    assert r.code == 2 and message in r.one_line_error()
    assert not (tmp_path / "run").exists()


def test_usage_errors_are_one_line(cli: Any, tmp_path: Path) -> None:
    for args in (
        ["train", "--bogus"],
        ["tasks", "sample"],
        ["nope"],
        ["tasks", "sample", "binary-successor", "-n", "x"],
    ):
        r = cli(*args)
        assert r.code == 2 and r.one_line_error()


def test_workers_backends_and_nothing_left_behind(cli: Any, tmp_path: Path) -> None:
    base = tiny_config(tmp_path)
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'base = "{base.name}"\n[grid]\n"train.seed" = [0, 1]\n')
    out = tmp_path / "sweep-out"
    r = cli("sweep", sweep, "--out", out, "--backend", "slurm")
    assert r.code == 2 and "unknown backend 'slurm'" in r.one_line_error() and not out.exists()
    r = cli("sweep", sweep, "--out", out, "--workers", "0")
    assert r.code == 2 and "--workers" in r.one_line_error() and not out.exists()
    r = cli("demo", "--out", tmp_path / "demo", "--backend", "slurm")
    assert r.code == 2 and "unknown backend" in r.one_line_error() and not (tmp_path / "demo").exists()
    r = cli("train", base, "--out", tmp_path / "ddp", "--nproc", "0")
    assert r.code == 2 and r.one_line_error() and not (tmp_path / "ddp").exists()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import TINY

    from behaviorlab.store import record
    from behaviorlab.train import evaluate_run, train
    from behaviorlab.train.config import validate

    out = tmp_path_factory.mktemp("faults") / "[red]run"  # a name that is also console markup
    train(validate(TINY, "tiny"), out, progress=False)
    evaluate_run(out)
    record(out)
    return out


def test_catalog_and_sql_errors(cli: Any, trained: Path, tmp_path: Path) -> None:
    cat = trained.parent / "catalog.sqlite"
    (tmp_path / "notdb").write_bytes(b"garbage" * 100)
    r = cli("runs", "list", "--catalog", tmp_path / "notdb")
    assert r.code == 2 and "not a usable SQLite catalog" in r.one_line_error()
    r = cli("runs", "list", "--catalog", tmp_path)
    assert r.code == 2 and "is a directory" in r.one_line_error()
    for sql, message in [
        ("", "empty query"),
        ("selec * from runs", "does not parse"),
        ("select * from nowhere", "query failed"),
        ("select 1; select 2", "one statement at a time"),
        (f"copy runs to '{tmp_path / 'leak.csv'}'", "only SELECT is accepted, not COPY"),
        (f"attach '{tmp_path / 'x.db'}'", "not ATTACH"),
        ("drop table runs", "not DROP"),
        ("delete from runs", "not DELETE"),
        ("select * from read_csv('/etc/passwd')", "file system operations are disabled"),
    ]:
        r = cli("runs", "query", "--catalog", cat, sql)
        assert r.code == 2 and message in r.one_line_error(), sql
    assert not (tmp_path / "leak.csv").exists() and not (tmp_path / "x.db").exists()
    r = cli("runs", "query", "--catalog", cat, "select '[red]x[/red]' as s, name from runs")
    assert r.code == 0 and "[red]x[/red]" in r.out  # user text printed as it is, not as markup


def test_invalid_json_in_every_run_file(cli: Any, trained: Path, tmp_path: Path) -> None:
    import shutil

    for rel in ("summary.json", "env.json", "checkpoints/manifest.json"):
        copy = tmp_path / rel.replace("/", "_")
        shutil.copytree(trained, copy)
        (copy / rel).write_text("{not json")
        for args in (["eval", copy], ["replay", copy], ["runs", "record", copy], ["report", copy]):
            r = cli(*args)
            if r.code != 0:
                assert r.code == 2 and rel.split("/")[-1] in r.one_line_error(), (rel, args)
    copy = tmp_path / "trainer"
    shutil.copytree(trained, copy)
    last = sorted((copy / "checkpoints").glob("step-*"))[-1]
    (last / "trainer.json").write_text("[1, 2")
    # Re-sign the manifest so the JSON itself (not its checksum) is what the loader meets.
    from behaviorlab.io import sha256_file

    manifest = json.loads((copy / "checkpoints" / "manifest.json").read_text())
    manifest["checkpoints"][-1]["files"]["trainer.json"] = sha256_file(last / "trainer.json")
    (copy / "checkpoints" / "manifest.json").write_text(json.dumps(manifest))
    r = cli("train", tiny_config(tmp_path), "--out", copy, "--resume")
    assert r.code == 2 and "trainer.json: not valid JSON" in r.one_line_error()


def test_runs_record_marks_damaged_checkpoints(cli: Any, trained: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "damaged"
    shutil.copytree(trained, copy)
    model = next((copy / "checkpoints").glob("step-*")) / "model.safetensors"
    model.write_bytes(model.read_bytes()[:-8] + b"\0" * 8)
    r = cli("runs", "record", copy, "--catalog", tmp_path / "cat.sqlite")
    assert r.code == 0 and "damaged" in r.out
    r = cli("runs", "list", "--catalog", tmp_path / "cat.sqlite", "--format", "json")
    (row,) = json.loads(r.out)
    assert row["status"] == "damaged"
    assert cli("report", copy).code == 0
    assert "integrity: checkpoints/" in (copy / "report.html").read_text()


def test_report_never_overwrites_a_foreign_file(cli: Any, trained: Path, tmp_path: Path) -> None:
    mine = tmp_path / "notes.html"
    mine.write_text("<html>my notes</html>")
    r = cli("report", trained, "--out", mine)
    assert r.code == 2 and "not a behaviorlab report" in r.one_line_error()
    assert mine.read_text() == "<html>my notes</html>"
    assert cli("report", trained, "--out", tmp_path / "r.html").code == 0
    assert cli("report", trained, "--out", tmp_path / "r.html").code == 0  # its own page: fine


def test_tasks_build_force_only_over_splits(cli: Any, tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('task = "peano-add"\n[[splits]]\nname = "train"\nn = 5\nmin_size = 1\nmax_size = 3\n')
    out = tmp_path / "data"
    assert cli("tasks", "build", spec, "--out", out).code == 0
    assert cli("tasks", "build", spec, "--out", out, "--force").code == 0
    (out / "README.txt").write_text("mine")
    r = cli("tasks", "build", spec, "--out", out, "--force")
    assert r.code == 2 and "not a folder of behaviorlab splits" in r.one_line_error()


def test_run_files_follow_the_umask(trained: Path) -> None:
    for name in ("summary.json", "config.toml", "metrics.parquet", "predictions.parquet", "env.json"):
        mode = stat.S_IMODE((trained / name).stat().st_mode)
        assert mode & 0o044, f"{name} is {oct(mode)}: others cannot read it"


def test_tasks_sample_streams_a_huge_count(tmp_path: Path) -> None:
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "behaviorlab", "tasks", "sample", "binary-successor", "-n", "10000000000000"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        first = [proc.stdout.readline() for _ in range(3)]
        proc.kill()
    assert all(json.loads(line)["input"] for line in first)


def test_training_summary_stays_consistent(trained: Path) -> None:
    assert summary(trained)["status"] == "complete"


@pytest.mark.parametrize(
    "rel",
    [
        "config.toml",
        "summary.json",
        "env.json",
        "metrics.parquet",
        "predictions.parquet",
        "data/train.parquet",
        "checkpoints/manifest.json",
        "MODEL",
    ],
)
def test_each_run_file_corrupted_in_turn(cli: Any, trained: Path, tmp_path: Path, rel: str) -> None:
    """Garbage in any run file: every command either copes or says so in one line (exit 2)."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    target = (
        sorted((copy / "checkpoints").glob("step-*"))[-1] / "model.safetensors"
        if rel == "MODEL"
        else copy / rel
    )
    target.write_bytes(b"\x00garbage\xff" * 7)
    for args in (
        ["eval", copy],
        ["report", copy],
        ["runs", "record", copy, "--catalog", tmp_path / "c.sqlite"],
        ["replay", copy, "--from-checkpoint"],
        ["explain", copy, "--queries", "0", "--check", "0"],
        ["export", copy, "--to", "csv", "--out", tmp_path / "export"],
    ):
        r = cli(*args)
        assert r.code in (0, 1, 2), (rel, args, r)
        assert "Traceback" not in r.err + r.out, (rel, args)
        if r.code == 2:
            r.one_line_error()
