"""interpret on a trained run: ablation destroys accuracy, notebook object, demo files, CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from behaviorlab.cli.interpret import app
from behaviorlab.interpret.ablate import Component, head_components, mlp_components
from behaviorlab.interpret.findings import head_findings
from behaviorlab.interpret.notebook import InterpretRun, open_run
from behaviorlab.train import train
from behaviorlab.train.config import validate


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import TINY  # a module fixture cannot use the function-scoped tiny_raw

    raw: dict[str, Any] = copy.deepcopy(TINY)
    raw["data"]["splits"] = [
        {"name": "train", "n": 200, "min_size": 1, "max_size": 4},
        {"name": "test_id", "n": 30, "min_size": 1, "max_size": 4},
    ]
    raw["model"].update(d_model=32, n_heads=2, d_ff=64)
    raw["train"].update(steps=120, eval_every=1000, checkpoint_every=1000)
    out = tmp_path_factory.mktemp("interp") / "run"
    train(validate(raw, "test"), out, force=True, progress=False)
    return out


@pytest.fixture(scope="module")
def run(run_dir: Path) -> InterpretRun:
    return open_run(run_dir)


def test_ablating_everything_destroys_accuracy(run: InterpretRun) -> None:
    everything = [*head_components(run.model), *mlp_components(run.model)]
    rows = run.ablate([everything, Component("dec.0.mlp.out", unit=0)], split="train", n=60)
    assert rows[0]["base_accuracy"] >= 0.8
    assert rows[0]["accuracy"] <= 0.3 and rows[0]["drop"] >= 0.5
    assert rows[1]["size"] == 1


def test_ablation_confirmation_compares_found_and_random(run: InterpretRun) -> None:
    r = run.run
    r.splits["test_id"] = r.splits["train"][:40]  # the tiny config's test split may be empty
    out = run.ablation_confirmation([("decoder", 0, 0)], n_random=2, seed=1)
    assert out["n_random"] == 2 and len(out["random_drops"]) == 2
    assert 0.0 <= out["found_heads"] <= 1.0
    # The draws' spread and a rank p-value, never their mean.
    draws = out["random_drops"]
    assert "random_heads" not in out and (out["random_low"], out["random_high"]) == (min(draws), max(draws))
    assert out["at_least"] == sum(d >= out["found_heads"] for d in draws)
    assert out["p_value"] == (1 + out["at_least"]) / 3


def test_notebook_methods_return_rows_and_figures(run: InterpretRun) -> None:
    maps = run.attention(split="train", n=20, kinds=["cross"])
    assert maps and maps[0].figure().data
    rows = run.head_scores(split="train", n=20)
    assert rows and run.head_scores_figure(rows[0]["hypothesis"], rows).data
    prows = run.patch(split="train", n=40, components=head_components(run.model)[:2])
    assert run.patch_figure(prows).data
    assert len(run.perturb(split="train", n=5, n_random=2)) == 10
    assert "dec.0.cross_attn.pattern" in run.cache(["*.pattern"], split="train", n=3)


def test_head_findings_writes_the_report_formats(run_dir: Path) -> None:
    out = head_findings(run_dir, quick=True)
    assert set(out) >= {"recursion_heads", "ablation_drop", "perturbation"}
    maps = json.loads((run_dir / "analysis" / "attention.json").read_text())
    m = maps[0]
    assert {"kind", "layer", "head", "query_tokens", "key_tokens", "weights", "group"} <= set(m)
    assert len(m["weights"]) == len(m["query_tokens"])
    scores = json.loads((run_dir / "analysis" / "head_scores.json").read_text())
    assert {"hypothesis", "kind", "layer", "head", "score", "baseline"} <= set(scores[0])
    assert set(out["perturbation"]) >= {"flip", "insert", "remove"}


def test_cli_verbs(run_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["heads", str(run_dir), "--split", "train", "-n", "10", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert "recursion_heads" in json.loads(res.output)
    bad = runner.invoke(app, ["heads", str(tmp_path)])
    assert bad.exit_code == 2


def test_interpret_verbs_print_a_short_table_and_write_the_json(run_dir: Path) -> None:
    """`interpret patch` printed 266 lines of raw JSON: now a table of the main rows and the file
    that has them all (--format json prints the JSON)."""
    runner = CliRunner()
    res = runner.invoke(app, ["patch", str(run_dir), "--split", "train", "-n", "12"], env={"COLUMNS": "120"})
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert len(lines) <= 30 and "{" not in res.output
    assert "components by logit difference recovered" in res.output
    written = run_dir / "analysis" / "patching.json"
    assert lines[-1] == f"-> {written}" and len(json.loads(written.read_text())) > 12
    for verb in ("heads", "ablate"):
        res = runner.invoke(app, [verb, str(run_dir), "--split", "train", "-n", "10"], env={"COLUMNS": "120"})
        assert res.exit_code == 0 and len(res.output.splitlines()) <= 30 and "{" not in res.output, res.output
