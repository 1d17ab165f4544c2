"""Every probe on a tiny trained transformer and a tiny LSTM (closed vocabularies): prompts only
from the alphabet and within the context, numbers that match a recount of the recorded generations,
the data-vs-output mapping, determinism and resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from probe_fakes import tiny_run

from behaviorlab import tasks
from behaviorlab.errors import BadInput
from behaviorlab.lm import load
from behaviorlab.probes import OUTPUTS, run_probes
from behaviorlab.probes.mapping import classify
from behaviorlab.results import Finding
from behaviorlab.rundir import RESULTS
from behaviorlab.stats import Estimate


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {k: tiny_run(k, root) for k in ("transformer", "lstm")}


@pytest.fixture(scope="module")
def probed(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("probe") / "run"
    return out, run_probes([str(runs["transformer"]), str(runs["lstm"])], out, limit=6, seed=0)


def _outputs(out: Path, model: str, probe: str) -> list[dict[str, Any]]:
    rows = pq.read_table(out / OUTPUTS).to_pylist()
    return [r for r in rows if r["model_name"] == model and r["probe"] == probe]


def _names(res: dict[str, Any]) -> list[str]:
    return [m["name"] for m in res["models"]]


def test_prompts_use_only_the_alphabet_and_fit_the_context(probed: tuple[Path, dict[str, Any]]) -> None:
    out, res = probed
    assert all(m["mode"] == "closed" and m["chat"] is False for m in res["models"])
    for m in res["models"]:
        model = load(m["spec"])
        assert model.alphabet is not None
        for probe in res["probes"]:
            rows = _outputs(out, m["name"], probe)
            assert rows, (m["name"], probe)
            for r in rows:
                toks = model.tokenize(r["prompt"])  # raises on anything outside the grammar
                assert set(toks) <= set(model.alphabet) and len(toks) <= 32
                assert r["chat"] is False


def _table(res: dict[str, Any], probe: str, name: str) -> list[dict[str, Any]]:
    return Finding.from_json(res["probes"][probe][name]).table()


def test_copying_matches_a_recount(probed: tuple[Path, dict[str, Any]]) -> None:
    out, res = probed
    for name in _names(res):
        rows = _outputs(out, name, "copying")
        table = _table(res, "copying", name)
        for row in (r for r in table if "span" in r):
            L = row["span"]
            ok = [r for r in rows if len(r["prompt"].split()) >= L]
            hits = sum(
                any(
                    " ".join(r["prompt"].split()[i : i + L]) in " ".join(r["output"].split())
                    for i in range(len(r["prompt"].split()) - L + 1)
                )
                for r in ok
            )
            assert (row["rate_n"], row["rate_k"]) == (len(ok), hits), row


def test_repetition_matches_a_recount(probed: tuple[Path, dict[str, Any]]) -> None:
    out, res = probed
    for name in _names(res):
        rows = _outputs(out, name, "repetition")
        for row in _table(res, "repetition", name):
            gens = [r["tokens"] for r in rows if r["decoding"] == row["decoding"]]
            looped = sum(
                any(
                    len(t) - s >= 3 * p and all(t[i] == t[i + p] for i in range(s, len(t) - p))
                    for p in range(1, 17)
                    for s in range(len(t))
                )
                for t in gens
            )
            assert (row["rate_n"], row["rate_k"]) == (len(gens), looped), row
        assert {r["decoding"] for r in rows} == {"greedy", "t=0.7,seed=0", "t=1,seed=1"}


def test_noise_matches_a_recount(probed: tuple[Path, dict[str, Any]]) -> None:
    out, res = probed
    for name in _names(res):
        rows = {r["item"]: r for r in _outputs(out, name, "noise")}
        for row in _table(res, "noise", name):
            if row["noise"] in (None, 0.0):
                continue
            items = [r for k, r in rows.items() if k.startswith(f"{row['op']}-{row['noise']:g}-")]
            changed = sum(
                r["output"] != rows[f"clean-{r['item'].rsplit('-', 1)[1]}"]["output"] for r in items
            )
            assert (row["rate_n"], row["rate_k"]) == (len(items), changed), row
        assert "no boundary/inside split" in " ".join(res["probes"]["noise"][name]["notes"])


def test_icl_matches_the_task_reference(probed: tuple[Path, dict[str, Any]]) -> None:
    out, res = probed
    task = tasks.get("binary-successor", order="reverse")
    for name in _names(res):
        rows = _outputs(out, name, "icl")
        for row in _table(res, "icl", name):
            these = [r for r in rows if r["item"].startswith(f"binary-successor-{row['shots']}-")]
            # Every reverse-order numeral ends with O1: the query is the last one in the prompt.
            query = [r["prompt"].rsplit("O1", 2)[-2].strip() + " O1" for r in these]
            right = sum(r["output"] == task.solve(q) for r, q in zip(these, query, strict=True))
            assert (row["rate_n"], row["rate_k"]) == (len(these), right), row
            assert all(len(r["prompt"].split("O1")) - 1 == 2 * row["shots"] + 1 for r in these)
        assert any("skipped" in n for n in res["probes"]["icl"][name]["notes"])  # 16 shots do not fit in 32


def test_consistency_matches_a_recount(probed: tuple[Path, dict[str, Any]]) -> None:
    out, res = probed
    for name in _names(res):
        rows = _outputs(out, name, "consistency")
        for row in _table(res, "consistency", name):
            these = [r for r in rows if r["item"].startswith(f"key-{row['distance']}-")]
            keys = [" ".join(r["prompt"].split()[:4]) for r in these]
            hits = sum(k in r["output"] for r, k in zip(these, keys, strict=True))
            assert (row["rate_n"], row["rate_k"]) == (len(these), hits), row
            assert all(len(r["prompt"].split()) == 4 + row["distance"] for r in these)
        assert max(r["distance"] for r in _table(res, "consistency", name)) <= 28


def test_consistency_chance_is_one_number_per_task(probed: tuple[Path, dict[str, Any]]) -> None:
    """The transformer and the LSTM learned the same task: the chance level beside their recall is
    the same exact number (from the task's alphabet and answer length), while the decoy control,
    measured on each model's own answers, has its own interval and is named apart."""
    _, res = probed
    names = _names(res)
    chance = {n: {r["distance"]: r["chance"] for r in _table(res, "consistency", n)} for n in names}
    assert len(names) == 2 and chance[names[0]] == chance[names[1]]
    assert all(0.0 < c < 1.0 for c in chance[names[0]].values())
    for n in names:
        for row in _table(res, "consistency", n):
            assert row["chance_lo"] == row["chance"] == row["chance_hi"]  # exact, not estimated
            assert row["decoy_n"] == row["rate_n"] and row["decoy_lo"] <= row["decoy"] <= row["decoy_hi"]
        verdict = res["probes"]["consistency"][n]["verdict"]
        assert "for a random answer of the task's length, any model" in verdict
        assert "a decoy key in" in verdict


def test_mapping_of_each_run(probed: tuple[Path, dict[str, Any]]) -> None:
    _, res = probed
    assert set(res["mapping"]) == set(_names(res))
    for m in res["mapping"].values():
        assert m["n_data"] == 150 and m["n_outputs"] == 40 and m["splits"] == ["test_id"]
        assert sum(m["counts"].values()) >= len(m["features"]) > 0
        for f in m["features"]:
            assert f["class"] == classify(Estimate.from_json(f["data"]), Estimate.from_json(f["outputs"]))
            assert f["data"]["k"] + f["outputs"]["k"] > 0


def test_same_seed_identical_results_json(
    runs: dict[str, Path], probed: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _ = probed
    again = tmp_path / "again"
    run_probes([str(runs["transformer"]), str(runs["lstm"])], again, limit=6, seed=0)
    assert (again / RESULTS).read_bytes() == (out / RESULTS).read_bytes()


def test_resume_skips_finished_parts(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "r"
    spec = str(runs["lstm"])
    first = run_probes([spec], out, probes="copying,repetition", limit=3)
    finished = (out / "parts" / "00-copying.json").stat().st_mtime_ns
    (out / "parts" / "00-repetition.json").unlink()  # as if killed before the last part finished
    (out / RESULTS).unlink()
    second = run_probes([spec], out, probes="copying,repetition", limit=3, resume=True)
    assert second == first
    assert (out / "parts" / "00-copying.json").stat().st_mtime_ns == finished
    assert json.loads((out / "summary.json").read_text())["status"] == "complete"
    with pytest.raises(BadInput, match="differ"):
        run_probes([spec], out, probes="copying,repetition", limit=3, seed=9, resume=True)
    with pytest.raises(BadInput, match="not empty"):
        run_probes([spec], out, probes="copying", limit=3)
    shutil.rmtree(out / "parts")
    with pytest.raises(BadInput, match="needs an existing probe run"):
        run_probes([spec], tmp_path / "none", probes="copying", resume=True)
