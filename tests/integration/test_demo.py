"""The main job end to end in its quick form: every model trained, evaluated, explained, opened up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from behaviorlab.demo import run_demo
from behaviorlab.errors import BadInput

METAMODEL_KEYS = {
    "failure_prediction_rate",
    "failure_precision",
    "metamodel_agreement",
    "metamodel_size",
    "mutual_information_bits",
}


def test_quick_demo_writes_every_model_and_its_analyses(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "behaviorlab", "demo", "--out", str(out), "--quick"],
        capture_output=True,
        text=True,
        timeout=1800,  # a hang guard: ~5 min idle (the white box on SmolLM2 is 1-2), >15 under load
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["models"]) == {
        "binary-successor/natural",
        "binary-successor/reverse",
        "tree-inorder/steps=1",
        "binary-successor/natural@lstm",
    }
    for key, entry in summary["models"].items():
        assert 0.0 <= entry["accuracy_id"] <= 1.0 and 0.0 <= entry["accuracy_ood"] <= 1.0, key
        assert set(entry) >= METAMODEL_KEYS, key
        assert entry["fresh_check"]["all"]["n"] > 0, key
        if key.endswith("@lstm"):  # explained, but no attention heads to open up
            continue
        assert entry["recursion_heads"] and all("score" in h for h in entry["recursion_heads"]), key
        assert entry["ablation_drop"]["n_random"] >= 1, key
        run = out / entry["run_dir"]
        for name in (
            "config.toml",
            "predictions.parquet",
            "analysis/metamodel.json",
            "analysis/head_scores.json",
        ):
            assert (run / name).is_file(), (key, name)
    assert (out / "report.html").stat().st_size > 10_000
    summary_md = (out / "SUMMARY.md").read_text()
    assert (
        "binary-successor/reverse" in summary_md and "fresh inputs drawn like each test split" in summary_md
    )
    # The same probes on our transformer, our LSTM and (when installed) SmolLM2, side by side.
    from behaviorlab.lm.gguf_to_hf import smollm2_path

    probes = summary["probes"]
    expected = 3 if smollm2_path() is not None else 2
    assert len(probes["models"]) == expected
    assert set(probes["rows"]) == {"copying", "repetition", "noise", "icl", "consistency"}
    assert all(len(per) == expected for per in probes["rows"].values())
    assert (out / "probes" / "report.html").is_file() and "Black-box probes" in summary_md
    # White box: SmolLM2's top induction heads ablated vs random heads, measured from outside.
    wb = summary["whitebox"]
    if smollm2_path() is None:
        assert "not installed" in wb["note"]
    else:
        assert [r["variant"] for r in wb["rows"]] == [
            "none",
            "top induction",
            "random 1",
            "random 2",
            "random 3",
        ]
        assert all(len(r["heads"]) == 4 for r in wb["rows"][1:]) and len(wb["heads"]) == 4
        for r in wb["rows"]:
            for measure in ("copying", "fewshot"):
                c = r[measure]
                assert c["n"] > 0 and c["ci_low"] <= c["estimate"] <= c["ci_high"], (r["variant"], measure)
        assert (out / "whitebox" / "report.html").is_file() and "White box" in summary_md
    # The demo's runs are in the catalog beside them.
    assert (out / "catalog.sqlite").is_file()


def test_demo_refuses_an_existing_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(BadInput, match="exists"):
        run_demo(tmp_path, quick=True)
    assert (tmp_path / "keep.txt").exists()
