"""The study command end to end on a tiny grid: runs, rows kept for resume, cells with intervals,
claims, STUDY.md and a report page; bad input is one line."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from behaviorlab.errors import BadInput
from behaviorlab.study import run as study_run
from behaviorlab.study.definitions import STUDIES
from behaviorlab.study.grid import Cell
from behaviorlab.train.config import validate


def _tiny_jobs(quick: bool, seeds: tuple[int, ...] = (0, 1)) -> list[tuple[Cell, int, Any]]:
    from conftest import TINY

    cell = Cell("binary", "binary-successor/reverse", "reverse", 3e-3, "learned")
    out = []
    for s in seeds:
        raw = copy.deepcopy(TINY)
        raw["name"] = f"{cell.key}-s{s}"
        raw["train"]["seed"] = s
        out.append((cell, s, validate(raw, "tiny")))
    return out


def test_a_tiny_study(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(STUDIES, "recursion", dataclasses.replace(STUDIES["recursion"], jobs=_tiny_jobs))
    out = tmp_path / "study"
    study = study_run.run_study(out, quick=True, workers=2, seeds=(0, 1))
    (cell,) = study["cells"]
    assert cell["seeds"] == 2 and not cell["failed"]
    assert cell["accuracy_id"]["n"] == 2 and cell["accuracy_id"]["lo"] <= cell["accuracy_id"]["mean"]
    assert "test_ood:length" in cell["curves"]
    assert set(cell["metamodels"]["programs"]) == {f"{cell['cell']}-s0", f"{cell['cell']}-s1"}
    assert {c["claim"] for c in study["claims"]} >= {"no-length-generalisation", "atomic-vs-end-to-end"}
    assert json.loads((out / "study.json").read_text())["cells"] == study["cells"]
    assert "## Claims" in (out / "STUDY.md").read_text()
    assert "Claims of the study" in (out / "report.html").read_text()
    rows = sorted(out.glob("*/analysis/study_row.json"))
    assert len(rows) == 2
    again = study_run.run_study(out, quick=True, workers=2, resume=True, seeds=(0, 1))  # runs are kept
    assert again["cells"][0]["accuracy_id"] == cell["accuracy_id"]
    with pytest.raises(BadInput, match="not empty"):
        study_run.run_study(out, quick=True)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    with pytest.raises(BadInput, match="an earlier study"):
        study_run.run_study(tmp_path / "notes", quick=True, force=True)
    with pytest.raises(BadInput, match="unknown backend"):
        study_run.run_study(tmp_path / "other", quick=True, backend="slurm")
    assert not (tmp_path / "other").exists()
