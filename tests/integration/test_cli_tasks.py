"""`behaviorlab tasks …` end to end: sample, solve, bad input (exit 2, one stderr line), build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from behaviorlab import tasks
from behaviorlab.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["tasks", *args])
    return result.exit_code, result.stdout, result.stderr


def test_list_shows_every_task() -> None:
    code, out, _ = run("list")
    assert code == 0
    for name in tasks.names():
        assert name in out


def test_sample_jsonl_matches_library() -> None:
    code, out, _ = run(
        "sample",
        "tree-inorder",
        "-n",
        "5",
        "--seed",
        "9",
        "--steps",
        "2",
        "--min-size",
        "2",
        "--max-size",
        "4",
    )
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    expected = tasks.get("tree-inorder", steps=2).sample(5, 9, min_size=2, max_size=4)
    assert rows == [e.to_dict() for e in expected]


def test_sample_text_format() -> None:
    code, out, _ = run(
        "sample",
        "binary-successor",
        "-n",
        "4",
        "--order",
        "natural",
        "--format",
        "text",
        "--edge-fraction",
        "1",
    )
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 4
    for line in lines:
        source, target = line.split("\t")
        assert int(target.replace(" ", ""), 2) == int(source.replace(" ", ""), 2) + 1


def test_solve_prints_only_the_output() -> None:
    code, out, _ = run(
        "solve",
        "tree-preorder",
        "--steps",
        "1",
        "--start",
        "0",
        "preorder (Branch 'a' (Branch 'c' Leaf Leaf) (Branch 't' Leaf Leaf))",
    )
    assert code == 0
    assert out == "['a'] ++ preorder (Branch 'c' Leaf Leaf) ++ preorder (Branch 't' Leaf Leaf)\n"
    assert run("solve", "peano-add", "S S I + S I")[1] == "S S S S I\n"


def test_bad_inputs_exit_2_with_one_line() -> None:
    cases = [
        ("solve", "binary-successor", "X1 X1 1"),
        ("solve", "peano-add", "--order", "natural", "I + I"),
        ("sample", "peano-add", "--min-depth", "2"),
        ("sample", "tree-inorder", "--steps", "7"),
        ("sample", "nope"),
    ]
    for args in cases:
        code, out, err = run(*args)
        assert code == 2, args
        assert out == ""
        assert err.startswith("error: ") and err.count("\n") == 1, err


def test_bad_input_in_a_real_process() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from behaviorlab.cli import app; app()",
            "tasks",
            "solve",
            "binary-successor",
            "--order",
            "natural",
            "0 1",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "error: binary-successor (natural): at token 1 ('0', char 1): expected 1 (a number starts"
        " with 1; no leading zeros)"
    ]


def test_build_writes_splits(tmp_path: Path) -> None:
    config = tmp_path / "spec.toml"
    config.write_text(
        'task = "tree-preorder"\nseed = 1\n[options]\nsteps = 1\n'
        '[[splits]]\nname = "train"\nn = 30\nmin_size = 1\nmax_size = 4\n'
        '[[splits]]\nname = "test_ood"\nn = 10\nmin_size = 5\nmax_size = 7\nshape = "balanced"\n'
    )
    out = tmp_path / "data"
    code, stdout, _ = run("build", str(config), "--out", str(out))
    assert code == 0, stdout
    assert "train" in stdout and "test_ood" in stdout
    assert pq.read_table(out / "train.parquet").num_rows == 30
    assert pq.read_table(out / "test_ood.parquet").num_rows == 10
    code, _, err = run("build", str(config), "--out", str(out))
    assert code == 2 and "not empty" in err
    assert run("build", str(config), "--out", str(out), "--force")[0] == 0
    code, _, err = run("build", str(tmp_path / "missing.toml"), "--out", str(out))
    assert code == 2 and "not found" in err
