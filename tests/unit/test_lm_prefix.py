"""Shared-prefix KV caching: `generate(prefix=...)` and `score(prefix=...)` read the shared tokens
once and give what the uncached path gives (tiny random GPT-2 and Llama built here)."""

from __future__ import annotations

from typing import Any

import pytest

from behaviorlab.lm import Decoding, TextModel
from behaviorlab.lm.function import FunctionModel
from behaviorlab.lm.hf import open_hf
from behaviorlab.lm.hf_model import HFModel
from behaviorlab.lm.prefix import shared_length
from tests.lm_tiny import gpt2_dir, llama_model

PREFIXES = {
    "gpt2": "the cat sat on the mat and the dog ran to a red mat it is ",
    "llama": "the cat sat on the mat\na dog ran\nsmall ca",  # "ca" + "ts" merge across the boundary
}
QUERIES = {
    "gpt2": ["big", "small and blue", "the cat", "a"],
    "llama": ["ts", "t is big", "the", " dog ran to the red mat"],
}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, HFModel]:
    model, tok = llama_model()
    return {
        "gpt2": open_hf(gpt2_dir(tmp_path_factory.mktemp("prefix"))),
        "llama": HFModel(model, tok, spec="hf:tiny-llama", name="tiny-llama", batch_size=3),
    }


def _reads(model: HFModel, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the length of every prefix the model encodes for its cache."""
    seen: list[int] = []
    encode = model._prefixes._encode

    def spy(ids: list[int]) -> Any:
        seen.append(len(ids))
        return encode(ids)

    monkeypatch.setattr(model._prefixes, "_encode", spy)
    model._prefixes._key = None
    return seen


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
@pytest.mark.parametrize("decoding", [Decoding(), Decoding(greedy=False, seed=5)], ids=["greedy", "sampled"])
def test_cached_prefix_generates_what_the_full_prompts_do(
    models: dict[str, HFModel], kind: str, decoding: Decoding, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, prefix, queries = models[kind], PREFIXES[kind], QUERIES[kind]
    reads = _reads(model, monkeypatch)
    cached = model.generate(queries, 10, decoding=decoding, stop=["mat"], prefix=prefix)
    # Read once for all batches; the shared tokens end where some row's tokenization parts ways.
    assert len(reads) == 1 and len(model.tokenize(prefix)) - 4 <= reads[0] <= len(model.tokenize(prefix))
    model.prefix_cache = False
    try:
        plain = model.generate([prefix + q for q in queries], 10, decoding=decoding, stop=["mat"])
    finally:
        model.prefix_cache = True
    assert len(reads) == 1
    for a, b in zip(cached, plain, strict=True):
        assert (a.tokens, a.text, a.finish) == (b.tokens, b.text, b.finish)
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-5)
    assert any(c.tokens for c in cached)


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_cached_prefix_scores_what_the_full_prompts_do(models: dict[str, HFModel], kind: str) -> None:
    model, prefix, queries = models[kind], PREFIXES[kind], QUERIES[kind]
    tails = [" red mat", " it is", " the cat sat", " a"]
    cached = model.score(queries, tails, prefix=prefix)
    plain = model.score([prefix + q for q in queries], tails)
    for a, b in zip(cached, plain, strict=True):
        assert len(a) == len(b) > 0 and a == pytest.approx(b, abs=1e-5)


def test_chat_prompts_share_the_template_head(models: dict[str, HFModel]) -> None:
    gpt2 = models["gpt2"]
    cached = gpt2.generate(["big", "it is"], 6, chat=True, prefix="the cat sat on the mat ")
    plain = gpt2.generate(["the cat sat on the mat big", "the cat sat on the mat it is"], 6, chat=True)
    assert [c.tokens for c in cached] == [c.tokens for c in plain]


def test_chat_prompts_read_the_template_opening_once(
    models: dict[str, HFModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    gpt2 = models["gpt2"]
    assert gpt2.has_chat_template
    reads = _reads(gpt2, monkeypatch)
    cached = gpt2.generate(["big", "it is", "a"], 6, chat=True)  # no prefix: the template's opening
    opening = gpt2.prompt_ids("", True)
    assert len(reads) == 1 and 0 < reads[0] < len(opening)
    gpt2.prefix_cache = False
    try:
        plain = gpt2.generate(["big", "it is", "a"], 6, chat=True)
    finally:
        gpt2.prefix_cache = True
    for a, b in zip(cached, plain, strict=True):
        assert (a.tokens, a.text) == (b.tokens, b.text) and a.logprobs == pytest.approx(b.logprobs, abs=1e-5)
    gpt2.generate(["big"], 6)  # a plain prompt has no template: nothing read for a cache
    assert len(reads) == 1


def test_shared_length_leaves_each_row_a_token() -> None:
    assert shared_length([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 3]]) == 2
    assert shared_length([[1, 2], [3, 4]]) == 0 and shared_length([]) == 0
    assert shared_length([[1, 2, 3], [1, 2, 3]], keep=2) == 1


def test_other_text_models_accept_a_prefix() -> None:
    echo: TextModel = FunctionModel(lambda x: x.upper(), "upper")
    assert [c.text for c in echo.generate(["a", "b"], 8, prefix="x ")] == ["X A", "X B"]
