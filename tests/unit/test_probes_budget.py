"""`probe --budget SECONDS`: the sharing rule, and a budgeted run on the planted FakeLM (sizes bounded
by the budget and by -n, recorded in config.toml and results.json, printed; bad values refused)."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from probe_fakes import FakeLM
from test_probes_cli import cli, one_line

from behaviorlab.errors import BadInput
from behaviorlab.lm import Completion
from behaviorlab.probes import budget as budget_mod
from behaviorlab.probes import run_probes
from behaviorlab.probes.budget import budget_lines, share_budget
from behaviorlab.probes.registry import make


def test_share_budget_splits_equally_and_passes_on_what_a_capped_probe_leaves() -> None:
    # 100 s over two probes: 50 s each buys 50 items at 1 s and 5 at 10 s.
    assert share_budget(100, {"a": 1.0, "b": 10.0}, {"a": 1000, "b": 1000}) == {"a": 50, "b": 5}
    # a capped at 10 items (10 s) leaves 90 s to b: 9 items.
    assert share_budget(100, {"a": 1.0, "b": 10.0}, {"a": 10, "b": 1000}) == {"a": 10, "b": 9}
    # Never below one item, even when the pilot ate the budget.
    assert share_budget(-5, {"a": 1.0, "b": 3.0}, {"a": 8, "b": 8}) == {"a": 1, "b": 1}


class SlowLM(FakeLM):
    """FakeLM at a fixed cost per prompt, so a budget binds."""

    def generate(self, prompts: Sequence[str], max_new_tokens: int, **kw: Any) -> list[Completion]:
        time.sleep(0.002 * len(prompts))
        return super().generate(prompts, max_new_tokens, **kw)


def test_pilot_costs_decide_sizes_and_are_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Fixed pilot costs make the sizes exact: (30.5 s - a near-zero pilot) / 2 probes = ~15.2 s each.
    monkeypatch.setattr(budget_mod, "pilot_seconds", lambda m, f, c: {"copying": 1.0, "repetition": 5.0})
    res = run_probes([FakeLM()], tmp_path / "p", probes="copying,repetition", budget=30.5)
    rec = res["budget"]
    assert rec["items_per_condition"] == {"copying": 15, "repetition": 3}
    assert rec["seconds"] == 30.5 and set(rec["half_widths"]) == {"copying", "repetition"}
    for probe, k in rec["items_per_condition"].items():
        assert res["probes"][probe]["fake-lm"]["info"]["config"]["n"] == k
        width = rec["half_widths"][probe]["fake-lm"]
        power = res["probes"][probe]["fake-lm"]["info"]["power"]
        assert width == power["half_width"]
        assert (probe in rec["underpowered"]) == (not power["powered"])
    config = tomllib.loads((tmp_path / "p" / "config.toml").read_text())
    assert config["budget"]["items_per_condition"] == rec["items_per_condition"]
    # -n caps what the budget would buy: copying stops at 4 and its unused time lifts repetition
    # from 3 to 5 items, capped at 4 as well.
    capped = run_probes([FakeLM()], tmp_path / "q", probes="copying,repetition", budget=30.5, limit=4)
    assert capped["budget"]["items_per_condition"] == {"copying": 4, "repetition": 4}


def test_a_real_pilot_keeps_the_run_near_its_budget(tmp_path: Path) -> None:
    small = run_probes([SlowLM()], tmp_path / "a", probes="copying,noise", budget=2.0)
    big = run_probes([SlowLM()], tmp_path / "b", probes="copying,noise", budget=8.0, limit=2000)
    for probe in ("copying", "noise"):
        assert (
            1 <= small["budget"]["items_per_condition"][probe] <= big["budget"]["items_per_condition"][probe]
        )
    # Generous slack: the box is shared, but a budget must not be overrun several times over.
    assert small["budget"]["run_seconds"] < 2.0 * 3
    defaults = make("noise", None).config.n
    assert big["budget"]["items_per_condition"]["noise"] > defaults


def test_resume_reuses_the_recorded_sizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget_mod, "pilot_seconds", lambda m, f, c: {"copying": 1.0})
    first = run_probes([FakeLM()], tmp_path / "p", probes="copying", budget=10.0)
    # A second pilot would choose differently; the resume must keep the sizes the parts have.
    monkeypatch.setattr(budget_mod, "pilot_seconds", lambda m, f, c: {"copying": 5.0})
    again = run_probes([FakeLM()], tmp_path / "p", probes="copying", budget=10.0, resume=True)
    assert again["budget"]["items_per_condition"] == first["budget"]["items_per_condition"]
    with pytest.raises(BadInput, match="started with --budget"):
        run_probes([FakeLM()], tmp_path / "n", probes="copying", limit=2)
        run_probes([FakeLM()], tmp_path / "n", probes="copying", budget=10.0, resume=True)


def test_budget_lines_name_sizes_and_underpowered_probes() -> None:
    rec = {
        "seconds": 60.0,
        "pilot_seconds": 2.5,
        "predicted_seconds": 58.0,
        "run_seconds": 61.0,
        "items_per_condition": {"icl": 3},
        "half_widths": {"icl": {"m": 0.21}},
        "underpowered": ["icl"],
    }
    lines = budget_lines(rec)
    assert lines[0] == "budget 60 s: pilot 2.5 s, predicted 58 s, ran 61 s"
    assert lines[1] == "  icl: 3 item(s) per condition; half-widths (points): m ±21 (underpowered)"


@pytest.mark.parametrize("value", ["0", "-3", "nan", "soon", "1e9"])
def test_bad_budgets_are_one_line(value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "probe", "--model", "smollm2", "--budget", value, "--out", tmp_path / "o")
    assert code == 2 and "--budget" in one_line(err)
    assert not (tmp_path / "o").exists()


def test_budget_in_the_run_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from probe_fakes import tiny_run

    run = tiny_run("transformer", tmp_path / "runs")
    out = tmp_path / "p"
    code, stdout, err = cli(
        capsys, "probe", "--model", run, "--probes", "copying", "--budget", "5", "-n", "6", "--out", out
    )
    assert code == 0, err
    assert "budget 5 s" in stdout and "copying: " in stdout and "item(s) per condition" in stdout
    assert "Traceback" not in err
