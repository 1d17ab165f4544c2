"""The Hugging Face adapter on tiny random models: batching, sampling, stops, scoring, chat, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from behaviorlab.errors import BadInput
from behaviorlab.lm import Decoding, TextModel, load
from behaviorlab.lm import hf as hf_mod
from behaviorlab.lm.hf import open_hf
from behaviorlab.lm.hf_model import HFModel
from tests.lm_tiny import gpt2_dir, t5_dir

PROMPTS = ["the cat", "a dog ran to the red mat", "it is", "small"]
SAMPLED = Decoding(greedy=False, temperature=1.0, seed=7)


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf")
    return {"gpt2": gpt2_dir(root), "t5": t5_dir(root)}


@pytest.fixture(scope="module")
def models(dirs: dict[str, Path]) -> dict[str, HFModel]:
    return {kind: open_hf(path) for kind, path in dirs.items()}


def test_opens_as_a_text_model(models: dict[str, HFModel], dirs: dict[str, Path]) -> None:
    gpt2, t5 = models["gpt2"], models["t5"]
    assert isinstance(gpt2, TextModel)
    assert gpt2.spec == f"hf:{dirs['gpt2']}" and gpt2.name == "gpt2-tiny" and gpt2.alphabet is None
    assert (gpt2.seq2seq, t5.seq2seq) == (False, True)
    assert (gpt2.has_chat_template, t5.has_chat_template) == (True, False)
    assert gpt2.tokenize("the cat sat on zebra") == ["the", "cat", "sat", "on", "<unk>"]
    assert t5.tokenize("the cat") == ["the", "Ġcat"]
    assert load(gpt2.spec).spec == gpt2.spec


@pytest.mark.parametrize("kind", ["gpt2", "t5"])
@pytest.mark.parametrize("decoding", [Decoding(), SAMPLED], ids=["greedy", "sampled"])
def test_padded_batch_equals_one_by_one(models: dict[str, HFModel], kind: str, decoding: Decoding) -> None:
    model = models[kind]
    batch = model.generate(PROMPTS, 8, decoding=decoding)
    for prompt, together in zip(PROMPTS, batch, strict=True):
        (alone,) = model.generate([prompt], 8, decoding=decoding)
        assert (alone.tokens, alone.text, alone.finish) == (together.tokens, together.text, together.finish)
        assert alone.logprobs == pytest.approx(together.logprobs, abs=1e-5)
    assert all(len(c.tokens) == len(c.logprobs) for c in batch)


def test_the_context_bounds_prompt_and_continuation(models: dict[str, HFModel]) -> None:
    gpt2, t5 = models["gpt2"], models["t5"]
    assert (gpt2.context_length, t5.context_length) == (64, None)  # n_positions; T5 is relative
    long = " ".join(["the cat sat on the mat"] * 20)  # 120 tokens > 64 positions
    short = "the cat"
    far, near = gpt2.generate([long, short], 200)  # more new tokens than the context holds
    alone = gpt2.generate([long], 200)[0]
    assert (far.tokens, far.text) == (alone.tokens, alone.text)  # batching does not change the cut
    assert far.meta["truncated"] == len(gpt2.prompt_ids(long, False)) - 32  # half the context is for output
    assert len(far.tokens) <= 32 and len(near.tokens) <= 64 - 2 and "truncated" not in near.meta
    assert near.finish in ("length", "eos")
    with pytest.raises(BadInput, match="context holds 64"):
        gpt2.score([long], ["the cat"])


@pytest.mark.parametrize("kind", ["gpt2", "t5"])
def test_sampling_is_reproducible_and_seeded(models: dict[str, HFModel], kind: str) -> None:
    model = models[kind]
    state = torch.get_rng_state()
    first = model.generate(PROMPTS, 8, decoding=SAMPLED)
    assert torch.equal(state, torch.get_rng_state())  # the global generator is left alone
    assert first == model.generate(PROMPTS, 8, decoding=SAMPLED)  # bit-identical, log-probs included
    other = model.generate(PROMPTS, 8, decoding=Decoding(greedy=False, temperature=1.0, seed=8))
    assert [c.tokens for c in first] != [c.tokens for c in other]


def test_repeats_of_a_prompt_draw_their_own_samples(models: dict[str, HFModel]) -> None:
    model = models["gpt2"]
    repeats = model.generate(["the cat"] * 4, 8, decoding=SAMPLED)
    assert len({c.tokens for c in repeats}) > 1
    assert repeats[0].tokens == model.generate(["the cat"], 8, decoding=SAMPLED)[0].tokens


@pytest.mark.parametrize("kind", ["gpt2", "t5"])
def test_stop_string_cuts_the_text_and_ends_the_row(models: dict[str, HFModel], kind: str) -> None:
    model = models[kind]
    full = model.generate(PROMPTS, 10)
    row = max(range(len(PROMPTS)), key=lambda i: len(set(full[i].tokens)))
    stop = full[row].tokens[3].replace("Ġ", " ")  # a token that this row emits at step 4
    cut = model.generate(PROMPTS, 10, stop=[stop, "never-seen"])
    assert cut[row].finish == "stop" and stop not in cut[row].text
    assert full[row].text.startswith(cut[row].text) and len(cut[row].tokens) <= 4
    for before, after in zip(full, cut, strict=True):
        assert after.tokens == before.tokens[: len(after.tokens)]
        assert (after.finish == "stop") == (stop in before.text)


def test_eos_ends_a_row_and_is_not_recorded(dirs: dict[str, Path]) -> None:
    model = open_hf(dirs["gpt2"])
    (full,) = model.generate(["it is"], 8)
    step = next(k for k in range(1, 8) if full.tokens[k] not in full.tokens[:k])
    model.eos_ids = {model.tokenizer.convert_tokens_to_ids(full.tokens[step])}  # call that choice the end
    (short,) = model.generate(["it is"], 8)
    assert short.finish == "eos" and short.tokens == full.tokens[:step]
    assert short.logprobs == full.logprobs[:step]
    assert model.generate(["it is"], 0)[0].tokens == ()


@pytest.mark.parametrize("kind", ["gpt2", "t5"])
def test_score_equals_generated_logprobs(models: dict[str, HFModel], kind: str) -> None:
    model = models[kind]
    made = model.generate(PROMPTS, 8)
    assert all(model.tokenize(c.text) == list(c.tokens) for c in made)  # the text re-reads as generated
    scores = model.score(PROMPTS, [c.text for c in made])
    for completion, row in zip(made, scores, strict=True):
        assert row == pytest.approx(list(completion.logprobs), abs=1e-5)
    assert model.score(["the cat", "it"], ["", "is"])[0] == []
    with pytest.raises(BadInput, match="2 prompts but 1 continuations"):
        model.score(["a", "b"], ["c"])


def test_chat_template_only_when_present(models: dict[str, HFModel]) -> None:
    gpt2, t5 = models["gpt2"], models["t5"]
    (chat,) = gpt2.generate(["the cat"], 6, chat=True)
    assert chat.meta == {"chat_prompt": "<user> the cat <bot>"}
    assert chat.tokens == gpt2.generate(["<user> the cat <bot>"], 6)[0].tokens
    # The template's opening is read once through the prefix cache: equal up to float rounding.
    (templated,) = gpt2.score(["the cat"], ["sat"], chat=True)
    assert templated == pytest.approx(gpt2.score(["<user> the cat <bot>"], ["sat"])[0], abs=1e-5)
    assert t5.generate(["the cat"], 6, chat=True) == t5.generate(["the cat"], 6)


# --- bad input: one line naming the path, and nothing loaded ---------------------------------------


@pytest.fixture
def no_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("weights were loaded")

    for auto in (transformers.AutoModelForCausalLM, transformers.AutoModelForSeq2SeqLM):
        monkeypatch.setattr(auto, "from_pretrained", refuse)


def assert_refused(path: Path, match: str) -> None:
    with pytest.raises(BadInput, match=match) as err:
        open_hf(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message


def test_bad_paths(tmp_path: Path, no_loading: None) -> None:
    assert_refused(tmp_path / "missing", "no such file")
    (tmp_path / "file.gguf").write_text("x")
    assert_refused(tmp_path / "file.gguf", "not a directory.*gguf:PATH")
    assert_refused(tmp_path, r"no config\.json")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    assert_refused(tmp_path, "no weights")


def test_unknown_architecture(tmp_path: Path, no_loading: None) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "no-such-arch"}))
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert_refused(tmp_path, "cannot read model_type 'no-such-arch'")


def test_architecture_without_a_language_model_head(tmp_path: Path, no_loading: None) -> None:
    from transformers import ViTConfig

    ViTConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8).save_pretrained(
        tmp_path
    )
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert_refused(tmp_path, "model_type 'vit' has no causal language-model head")


def test_too_large_for_memory(
    dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, no_loading: None
) -> None:
    monkeypatch.setattr(hf_mod, "available_memory", lambda: 1000)
    assert_refused(dirs["gpt2"], "needs about .* GiB as float32, only")


def test_missing_tokenizer(dirs: dict[str, Path], tmp_path: Path, no_loading: None) -> None:
    for name in ("config.json", "model.safetensors"):
        (tmp_path / name).write_bytes((dirs["t5"] / name).read_bytes())
    assert_refused(tmp_path, "no tokenizer files")


def test_weight_bytes_counts_float32(dirs: dict[str, Path], models: dict[str, HFModel]) -> None:
    params = sum(p.numel() for p in models["gpt2"].model.parameters())
    config = models["gpt2"].model.config
    assert hf_mod.weight_bytes(dirs["gpt2"], config) == 4 * params


def test_damaged_weights(dirs: dict[str, Path], tmp_path: Path, no_loading: None) -> None:
    for file in dirs["gpt2"].iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(BadInput, match="not a valid safetensors file") as err:
        open_hf(tmp_path)
    assert str(tmp_path / "model.safetensors") in str(err.value)
