"""`behaviorlab explain RUN RUN …`: explain trained runs and show which learned the same shortcut."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from behaviorlab.cli import app
from behaviorlab.train import train
from behaviorlab.train.config import validate
from behaviorlab.train.evaluation import evaluate_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from tests.conftest import TINY  # a module fixture cannot use the function-scoped tiny_raw

    root = tmp_path_factory.mktemp("compare")
    out = []
    for name, lr in (("a", 3e-3), ("b", 1e-2)):
        raw: dict[str, Any] = copy.deepcopy(TINY)
        raw["optim"]["lr"] = lr
        raw["train"].update(steps=40, eval_every=1000, checkpoint_every=1000)
        run_dir = root / name
        train(validate(raw, name), run_dir, force=True, progress=False)
        evaluate_run(run_dir)
        out.append(run_dir)
    return out


def test_explain_compares_runs(runs: list[Path]) -> None:
    cli = CliRunner()
    got = cli.invoke(app, ["explain", *map(str, runs), "--format", "json", "--queries", "40"])
    assert got.exit_code == 0, got.output
    rows = json.loads(got.output)
    assert [r["run"] for r in rows] == [str(r) for r in runs]
    for r in rows:
        assert r["task"] == "binary-successor/reverse" and 0.0 <= r["metamodel_agreement"] <= 1.0
        assert r["exceptions"] >= 0 and isinstance(r["same_shortcut_as"], list)
    # Sharing a shortcut is symmetric.
    a, b = rows
    assert (str(runs[1]) in a["same_shortcut_as"]) == (str(runs[0]) in b["same_shortcut_as"])
    for run in runs:  # each run's own analysis is written as with a single run
        assert json.loads((run / "analysis" / "metamodel.json").read_text())["task"] == a["task"]
    text = cli.invoke(app, ["explain", *map(str, runs), "--queries", "40"])
    assert text.exit_code == 0 and "shortcut" in text.output and "agreement" in text.output


def test_explain_refuses_one_run_twice(runs: list[Path]) -> None:
    got = CliRunner().invoke(app, ["explain", str(runs[0]), str(runs[0])])
    assert got.exit_code == 2 and "two different run directories" in got.output
