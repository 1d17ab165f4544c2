"""The run directory module: torch-free, one reader for runs of every kind, catalogued alike."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from behaviorlab.errors import BadInput
from behaviorlab.rundir import CONFIG, SUMMARY, RunDir, is_run, update_summary
from behaviorlab.store import list_runs, record


def _no_torch(code: str) -> bool:
    """Run `code` in a fresh interpreter; True when torch was never imported."""
    probe = f"{code}\nimport sys\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1] == "False"


def test_rundir_catalog_and_report_import_no_torch() -> None:
    assert _no_torch("import behaviorlab.rundir")
    assert _no_torch("import behaviorlab.store; import behaviorlab.report; import behaviorlab.cli")


def _probe_run(root: Path) -> Path:
    """A run of another kind: its own config, no ExperimentConfig anywhere."""
    run = root / "probe-smol"
    run.mkdir(parents=True)
    (run / CONFIG).write_text('kind = "probe"\nname = "probe-smol"\nmodels = ["gguf:/x.gguf"]\n')
    (run / SUMMARY).write_text(json.dumps({"kind": "probe", "status": "complete", "seed": 3}))
    return run


def test_a_probe_run_is_read_and_catalogued(tmp_path: Path) -> None:
    run = RunDir.open(_probe_run(tmp_path))
    assert (run.kind, run.name, run.status, run.task) == ("probe", "probe-smol", "complete", None)
    row = record(run.path, tmp_path / "catalog.sqlite")
    assert (row["kind"], row["optimizer"], row["seed"]) == ("probe", None, 3)
    (listed,) = list_runs(tmp_path / "catalog.sqlite")
    assert listed["kind"] == "probe" and listed["name"] == "probe-smol"


def test_runs_without_a_kind_are_training_runs_and_bad_files_are_named(tmp_path: Path) -> None:
    run = tmp_path / "old"
    run.mkdir()
    (run / SUMMARY).write_text('{"status": "complete"}')
    assert RunDir.open(run).kind == "train"
    update_summary(run, status="failed", error="disk full")
    assert RunDir.open(run).summary == {"status": "failed", "error": "disk full"}
    (run / SUMMARY).write_text("{not json")
    with pytest.raises(BadInput, match=f"{SUMMARY}: not valid JSON"):
        RunDir.open(run)
    (run / SUMMARY).write_text('{"kind": "mystery"}')
    with pytest.raises(BadInput, match="unknown run kind 'mystery'"):
        RunDir.open(run)
    assert not is_run(tmp_path / "nothing") and not is_run(tmp_path)
    with pytest.raises(BadInput, match="not a run directory"):
        RunDir.open(tmp_path)


def test_file_names_are_spelled_only_in_rundir() -> None:
    """Every run-directory file name lives in rundir.py: no other module spells `x.json` and the
    like as a string (docstrings aside; Hugging Face's own file names in lm/ aside)."""
    import ast
    import re

    import behaviorlab

    root = Path(behaviorlab.__file__).parent
    name = re.compile(r"^[\w.-]+\.(json|jsonl|parquet|toml|safetensors|sqlite|md|txt|html|png)$")
    outside = {"rundir.py", "lm/hf.py", "lm/gguf_to_hf.py"}
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in outside:
            continue
        tree = ast.parse(path.read_text())
        docs = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        found += [
            f"{rel}:{n.lineno} {n.value!r}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant)
            and isinstance(n.value, str)
            and id(n) not in docs
            and name.match(n.value)
        ]
    assert not found, found
