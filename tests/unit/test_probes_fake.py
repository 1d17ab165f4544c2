"""Every probe on a hand-written open-text model whose behaviours are planted (probe_fakes.FakeLM):
the probes must recover the planted numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from probe_fakes import FakeLM

from behaviorlab.errors import BadInput
from behaviorlab.probes import OUTPUTS, run_probes
from behaviorlab.probes.icl import OPEN_TASKS
from behaviorlab.results import Finding


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("fake") / "probe"
    return out, run_probes([FakeLM(), FakeLM(chat=True, name="fake-chat")], out, seed=3)


def _rows(res: dict[str, Any], probe: str, model: str = "fake-lm") -> list[dict[str, Any]]:
    return Finding.from_json(res["probes"][probe][model]).table()


def test_copying_recovers_verbatim_copies_and_none_of_the_names(
    fake_run: tuple[Path, dict[str, Any]],
) -> None:
    _, res = fake_run
    rows = _rows(res, "copying")
    repeat = [r for r in rows if r["template"] == "repeat"]
    name = [r for r in rows if r["template"] == "name"]
    assert repeat and all(r["rate"] == 1.0 for r in repeat)
    assert name and all(r["rate"] == 0.0 for r in name)
    spans = sorted(r["span"] for r in repeat if "span" in r)
    assert spans[:4] == [1, 2, 4, 8]
    r = res["probes"]["copying"]["fake-lm"]
    assert r["headline"]["estimate"] == 1.0 and r["headline"]["ci_low"] > 0.8
    assert r["behavior"]["mi_bits"]["estimate"] > 0.5 and "verbatim" in r["verdict"]


def test_repetition_recovers_hot_loops_at_token_five(fake_run: tuple[Path, dict[str, Any]]) -> None:
    _, res = fake_run
    by = {r["decoding"].split(",")[0]: r for r in _rows(res, "repetition")}
    assert by["greedy"]["rate"] == 0.0 and by["t=0.7"]["rate"] == 0.0
    assert by["t=1"]["rate"] == 1.0
    assert by["t=1"]["loop_start"] == 5 and by["t=1"]["period_median"] == 1
    mi = res["probes"]["repetition"]["fake-lm"]["behavior"]["mi_bits"]
    assert mi["estimate"] > 0.8 and mi["ci_low"] > 0.3  # decoding explains looping


def test_noise_recovers_the_planted_sensitivity(fake_run: tuple[Path, dict[str, Any]]) -> None:
    _, res = fake_run
    rows = _rows(res, "noise")
    anywhere = [r for r in rows if r["where"] == "anywhere"]
    assert all(r["rate"] == 0.0 for r in anywhere if r["op"] == "case")  # the fake case-folds
    assert all(r["rate"] == 0.0 for r in anywhere if r["noise"] == 0.0)
    assert all(r["rate"] >= 0.75 for r in anywhere if r["noise"] == 0.2 and r["op"] != "case")
    assert all(r["accuracy"] == 0.0 for r in rows)  # it answers with codes, never the reference
    inside = [r for r in rows if r["where"] == "inside"]
    boundary = [r for r in rows if r["where"] == "boundary" and r["op"] != "case"]
    assert len(inside) == 4 and all(r["rate_n"] > 0 and r["rate"] == 0.0 for r in inside)
    assert sum(r["rate_k"] for r in boundary) / sum(r["rate_n"] for r in boundary) >= 0.8
    verdict = res["probes"]["noise"]["fake-lm"]["verdict"]
    assert "token boundary" in verdict and "inside a token 0%" in verdict


def test_icl_recovers_the_two_shot_step(fake_run: tuple[Path, dict[str, Any]]) -> None:
    _, res = fake_run
    rows = _rows(res, "icl")
    tasks = {r["task"] for r in rows} - {"all"}
    assert tasks == set(OPEN_TASKS)
    for r in rows:
        assert r["rate"] == (1.0 if r["shots"] >= 2 else 0.0), r
    curves = res["probes"]["icl"]["fake-lm"]["info"]["curves"]
    assert len(curves) == len(OPEN_TASKS) and all(c["rises_from"] == 2 for c in curves)
    assert (
        "rises significantly over 0 shots: repeat-word (plain) from 2"
        in res["probes"]["icl"]["fake-lm"]["verdict"]
    )
    chat = _rows(res, "icl", "fake-chat")  # a chat model is asked in its template and as plain text
    assert {r["template"] for r in chat} == {"chat", "plain"}


def test_consistency_recovers_the_recall_window(fake_run: tuple[Path, dict[str, Any]]) -> None:
    _, res = fake_run
    rows = _rows(res, "consistency")
    assert {r["variant"] for r in rows} == {"given"}  # no chat template: no self-written variant
    for r in rows:
        near = r["distance"] <= 64
        assert r["rate"] == (1.0 if near else 0.0) and r["denial"] == (0.0 if near else 1.0), r
        assert r["decoy"] == 0.0 and r["filler_tokens_mean"] >= r["distance"]
    chat = _rows(res, "consistency", "fake-chat")
    written = [r for r in chat if r["variant"] == "self-written"]
    assert [r["rate"] for r in written] == [1.0, 1.0, 0.0, 0.0]


class _ForgetfulWriter(FakeLM):
    """Writes stories that never state the character's job: such a character is unusable."""

    def _answer(self, prompt: str, decoding: Any) -> str:
        if prompt.startswith("Write a two-sentence story"):
            return "Once upon a time there was a quiet village. Nobody remembers more."
        return super()._answer(prompt, decoding)


def test_consistency_rates_only_over_usable_characters(tmp_path: Path) -> None:
    """Every self-written character is unusable (its story never names the job): the variant's
    rate is undefined with the unusable count beside it, and the verdict says so next to the
    given-story recall instead of leaving it to a note."""
    res = run_probes([_ForgetfulWriter(chat=True)], tmp_path / "p", probes="consistency", limit=3)
    f = Finding.from_json(res["probes"]["consistency"]["fake-lm"])
    written = [r for r in f.rows if r.keys["variant"] == "self-written"]
    assert written and all(not r.values["rate"].defined and r.values["rate"].excluded == 3 for r in written)
    given = [r for r in f.rows if r.keys["variant"] == "given"]
    assert given[0].values["rate"].estimate == 1.0 and given[0].values["rate"].excluded == 0
    assert "self-written stories: n/a (none of 3 usable)" in f.verdict
    assert any("3 of 3 invented characters unusable" in n for n in f.notes)


def test_run_files_and_chat_flags(fake_run: tuple[Path, dict[str, Any]]) -> None:
    out, res = fake_run
    assert [m["chat"] for m in res["models"]] == [False, True]
    assert all(m["mode"] == "open" for m in res["models"])
    rows = pq.read_table(out / OUTPUTS).to_pylist()
    total = sum(r["info"]["generations"] for per in res["probes"].values() for r in per.values())
    assert len(rows) == total
    chat_rows = [r for r in rows if r["model_name"] == "fake-chat"]
    # Every prompt in the chat template, except ICL's plain-text twins of its chat prompts.
    assert chat_rows and all(r["chat"] != r["item"].startswith("plain-") for r in chat_rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["kind"] == "probe"
    assert set(summary["verdicts"]["fake-lm"]) == {"copying", "repetition", "noise", "icl", "consistency"}
    assert res["mapping"] == {}  # not our runs: no training data to map


def test_no_chat_turns_the_template_off(tmp_path: Path) -> None:
    res = run_probes([FakeLM(chat=True)], tmp_path / "p", probes="consistency", limit=2, chat=False)
    assert res["models"][0]["chat"] is False
    assert {r["variant"] for r in _rows(res, "consistency")} == {"given"}


def test_same_seed_same_results_other_seed_other_prompts(tmp_path: Path) -> None:
    a = run_probes([FakeLM()], tmp_path / "a", limit=3, seed=1)
    b = run_probes([FakeLM()], tmp_path / "b", limit=3, seed=1)
    c = run_probes([FakeLM()], tmp_path / "c", limit=3, seed=2)
    assert (tmp_path / "a" / "results.json").read_bytes() == (tmp_path / "b" / "results.json").read_bytes()
    assert a == b
    prompts = {s: pq.read_table(tmp_path / s / OUTPUTS).column("prompt").to_pylist() for s in "ac"}
    assert prompts["a"] != prompts["c"] and c["probes"]["repetition"]["fake-lm"]["rows"]


def test_bad_settings_and_names_write_nothing(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="unknown probe"):
        run_probes([FakeLM()], tmp_path / "x", probes="copying,nope")
    with pytest.raises(BadInput, match="setting n"):
        run_probes([FakeLM()], tmp_path / "x", settings={"icl": {"n": 0}})
    with pytest.raises(BadInput, match=r"-n \(items per condition\)"):
        run_probes([FakeLM()], tmp_path / "x", limit=0)
    assert not (tmp_path / "x").exists()
