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
    fast = ["--queries", "40", "--check", "60"]
    got = cli.invoke(app, ["explain", *map(str, runs), "--format", "json", *fast])
    assert got.exit_code == 0, got.output
    both = json.loads(got.output)
    rows = both["runs"]
    assert [r["run"] for r in rows] == [str(r) for r in runs]
    dist = both["distribution"]["binary-successor/reverse"]
    rates = [r["fresh_failure_prediction_rate"] for r in rows]
    assert dist["n_runs"] == 2 and dist["worst"]["rate"] == min(rates) and dist["best"] == max(rates)
    assert sorted(run for g in dist["shortcut_groups"] for run in g["runs"]) == sorted(map(str, runs))
    for r in rows:
        assert r["task"] == "binary-successor/reverse" and 0.0 <= r["metamodel_agreement"] <= 1.0
        assert r["exceptions"] >= 0 and isinstance(r["same_shortcut_as"], list)
    # Sharing a shortcut is symmetric.
    a, b = rows
    assert (str(runs[1]) in a["same_shortcut_as"]) == (str(runs[0]) in b["same_shortcut_as"])
    for run in runs:  # each run's own analysis is written as with a single run
        saved = json.loads((run / "analysis" / "metamodel.json").read_text())
        assert saved["task"] == a["task"]
        # The fresh check draws like each test split (30 each here) and pools them.
        check = saved["fresh_check"]
        assert set(check) == {"test_id", "test_ood", "all"} and check["all"]["n"] == 60
        lo, hi = check["all"]["failure_prediction_ci"]
        assert 0.0 <= lo <= check["all"]["failure_prediction_rate"] <= hi <= 1.0
    text = cli.invoke(app, ["explain", *map(str, runs), *fast])
    assert text.exit_code == 0 and "shortcut" in text.output and "agreement" in text.output
    assert "median" in text.output and "worst" in text.output


def test_explain_refuses_one_run_twice(runs: list[Path]) -> None:
    got = CliRunner().invoke(app, ["explain", str(runs[0]), str(runs[0])])
    assert got.exit_code == 2 and "two different run directories" in got.output


def test_queries_are_drawn_like_every_test_split(runs: list[Path]) -> None:
    from behaviorlab.metamodels.on_run import draw_like_tests
    from behaviorlab.train.run import open_run

    run = open_run(runs[0])
    xs = draw_like_tests(run, 200, seed=3)
    lengths = {len(x.split()) for x in xs}
    # TINY's test_id spans 1..8 bits and test_ood 9..10 (plus the final O1): both are drawn.
    assert min(lengths) <= 3 and max(lengths) >= 10
    assert xs == draw_like_tests(run, 200, seed=3) and xs != draw_like_tests(run, 200, seed=4)
