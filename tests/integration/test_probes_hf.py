"""All five probes and `explain --model` on other people's model formats: a tiny random GPT-2 (with a
chat template), a tiny T5 (seq2seq) and a tiny Llama written as a GGUF file — through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from behaviorlab.cli import main
from behaviorlab.results import Finding
from tests.lm_tiny import gpt2_dir, llama_model, t5_dir, write_llama_gguf

PROBES = ["copying", "repetition", "noise", "icl", "consistency"]


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """The console entry point in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("models")
    model, tok = llama_model()
    return [
        f"hf:{gpt2_dir(root)}",
        f"hf:{t5_dir(root)}",
        f"gguf:{write_llama_gguf(model, tok, root / 'tiny.gguf')}",
    ]


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEHAVIORLAB_CACHE", str(tmp_path / "cache"))


def test_every_probe_on_every_format_then_an_identical_replay(
    specs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "probe"
    models = [a for s in specs for a in ("--model", s)]
    code, _, err = cli(capsys, "probe", *models, "-n", "3", "--out", out)
    assert code == 0, err
    results = json.loads((out / "results.json").read_text())
    assert sorted(results["probes"]) == sorted(PROBES)
    names = [m["name"] for m in results["models"]]
    assert names == ["gpt2-tiny", "t5-tiny", "tiny"]
    for probe in PROBES:
        for name in names:
            r = results["probes"][probe][name]
            assert r["verdict"].strip()  # a sentence computed from the table
            for row in Finding.from_json(r).table():
                assert row.get("rate") is None or 0.0 <= row["rate"] <= 1.0
    # The 64-position models cannot hold 16 demonstrations: those prompts are skipped and said so,
    # not cut (a cut prompt measures the cut); T5's relative positions bound nothing.
    icl = results["probes"]["icl"]
    assert any("longer than the model's context" in n for n in icl["gpt2-tiny"]["notes"])
    assert not icl["t5-tiny"]["notes"] and {row["keys"]["shots"] for row in icl["t5-tiny"]["rows"]} >= {16}
    code, stdout, err = cli(capsys, "replay", out)
    assert code == 0, stdout + err


# T5 never says eos at random, so each answer runs to the budget and the search sees long noise: slow.
@pytest.mark.parametrize("which", [0, pytest.param(1, marks=pytest.mark.slow), 2])
def test_explain_model_on_each_format(
    specs: list[str], which: int, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--task", "binary-successor", "--order", "natural", "--shots", "2", "--n", "24"]
    code, stdout, err = cli(
        capsys,
        "explain",
        "--model",
        specs[which],
        *args,
        "--queries",
        "24",
        "--check",
        "24",
        "--format",
        "json",
    )
    assert code == 0, err
    got = json.loads(stdout)
    text = json.dumps(got)
    assert "program" in text and "predicted" in text  # a selected program and its failure prediction
