"""The llama.cpp adapter on a tiny Llama GGUF: the same tokens and greedy text as transformers, rows
independent of their batch, scores equal to generation's log-probs, seeded sampling replayable, the
backend chosen by the memory budget, and one-line errors. Skips when llama-cpp-python is not
installed (`make setup-llamacpp`; the default set-up leaves it out)."""

from __future__ import annotations

from pathlib import Path

import pytest

from behaviorlab.errors import BadInput
from behaviorlab.lm import Decoding, TextModel, llamacpp, load
from behaviorlab.lm import gguf_to_hf as gguf_mod
from behaviorlab.lm import hf as hf_mod
from behaviorlab.lm.gguf_to_hf import open_gguf
from behaviorlab.lm.hf import open_hf
from tests.lm_tiny import llama_model, write_llama_gguf

PROMPTS = ["the cat", "a dog ran to the red mat", "it is", "small", "the cat"]
SAMPLED = Decoding(greedy=False, temperature=1.0, seed=5)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("llama")
    model, tok = llama_model()
    model.save_pretrained(root / "llama-hf")
    tok.save_pretrained(root / "llama-hf")
    return {"hf": root / "llama-hf", "f32": write_llama_gguf(model, tok, root / "tiny.gguf")}


def test_missing_library_is_one_line(monkeypatch: pytest.MonkeyPatch, files: dict[str, Path]) -> None:
    import builtins

    real = builtins.__import__

    def no_llama(name: str, *args: object, **kwargs: object) -> object:
        if name == "llama_cpp" or name.startswith("llama_cpp."):
            raise ImportError(name)
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_llama)
    with pytest.raises(BadInput, match=r"make setup-llamacpp .*behaviorlab\[llamacpp\]") as err:
        load(f"llama:{files['f32']}")
    assert "\n" not in str(err.value)


def test_budget_and_context_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(hf_mod.BUDGET_ENV, "lots")
    with pytest.raises(BadInput, match="BEHAVIORLAB_MEMORY_BUDGET='lots': expected a size"):
        hf_mod.memory_budget()
    monkeypatch.setenv(hf_mod.BUDGET_ENV, "1.5GiB")
    assert hf_mod.memory_budget() == min(int(1.5 * 1024**3), hf_mod.available_memory() or 1 << 62)
    monkeypatch.setenv(llamacpp.CONTEXT_ENV, "8")
    with pytest.raises(BadInput, match="BEHAVIORLAB_LLAMA_CONTEXT='8'"):
        llamacpp.seq_context()


needs_llama = pytest.mark.skipif(
    not llamacpp.available(),
    reason="llama-cpp-python is not installed (make setup-llamacpp builds it from source)",
)


@pytest.fixture(scope="module")
def tiny(files: dict[str, Path]) -> TextModel:
    return load(f"llama:{files['f32']}")


@needs_llama
def test_reads_as_the_model_it_was_written_from(tiny: TextModel, files: dict[str, Path]) -> None:
    hf = open_hf(files["hf"])
    assert isinstance(tiny, TextModel) and isinstance(tiny, llamacpp.LlamaCppModel)
    assert tiny.spec == f"llama:{files['f32']}" and tiny.name == "tiny" and tiny.alphabet is None
    assert tiny.context_length == 64 and not tiny.has_chat_template  # the file's context length
    assert tiny.tokenize("the cat sat") == hf.tokenize("the cat sat") == ["the", "Ġcat", "Ġsat"]
    ours, theirs = tiny.generate(PROMPTS, 8), hf.generate(PROMPTS, 8)
    for a, b in zip(ours, theirs, strict=True):
        assert (a.tokens, a.text, a.finish) == (b.tokens, b.text, b.finish)
        assert a.logprobs == pytest.approx(b.logprobs, abs=5e-3)  # llama.cpp keeps K and V in float16


@needs_llama
@pytest.mark.parametrize("decoding", [Decoding(), SAMPLED], ids=["greedy", "sampled"])
def test_a_row_does_not_depend_on_its_batch(tiny: TextModel, decoding: Decoding) -> None:
    batch = tiny.generate(PROMPTS, 10, decoding=decoding)
    assert tiny.generate(PROMPTS, 10, decoding=decoding) == batch  # replayable, bit for bit
    for prompt, together in zip(PROMPTS[:4], batch[:4], strict=True):
        (alone,) = tiny.generate([prompt], 10, decoding=decoding)
        assert (alone.tokens, alone.text, alone.finish) == (together.tokens, together.text, together.finish)
        # float32 weights: llama.cpp picks its matrix kernel by batch size, so sums round apart
        assert alone.logprobs == pytest.approx(together.logprobs, abs=5e-3)
    if not decoding.greedy:  # a repeated prompt draws its own stream
        assert batch[0].tokens != batch[4].tokens


@needs_llama
def test_score_equals_the_generated_log_probs(tiny: TextModel) -> None:
    comps = tiny.generate(PROMPTS, 10, decoding=SAMPLED, stop=["mat"])
    scored = tiny.score(PROMPTS, [c.text for c in comps])
    for c, s in zip(comps, scored, strict=True):
        if tiny.tokenize(c.text) == list(c.tokens):
            assert s == pytest.approx(c.logprobs, abs=1e-4)  # the replay's tolerance
    assert {c.finish for c in comps} <= {"eos", "stop", "length"}
    with pytest.raises(BadInput, match="context holds 64"):
        tiny.score(["the cat"], [" the cat" * 40])


@needs_llama
def test_the_budget_picks_the_backend(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hf_mod, "available_memory", lambda: 64 << 30)
    assert load(f"gguf:{files['f32']}").spec == f"gguf:{files['f32']}"  # float32 fits: transformers
    # A tiny model's KV cache outweighs its weights; the SmolLM2 test (slow) measures the real estimate.
    monkeypatch.setattr(gguf_mod, "llama_bytes", lambda *args: 1000)
    monkeypatch.setattr(llamacpp, "llama_bytes", lambda *args: 1000)
    monkeypatch.setenv(hf_mod.BUDGET_ENV, str(files["f32"].stat().st_size // 2))
    assert open_gguf(files["f32"]).spec == f"llama:{files['f32']}"
    monkeypatch.setenv(hf_mod.BUDGET_ENV, "1000")
    with pytest.raises(
        BadInput, match=r"needs about .* GiB as float32, only .* \(quantised through llama.cpp"
    ):
        open_gguf(files["f32"])


@needs_llama
def test_bad_files_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.gguf").write_text("hello")
    for path, match in ((tmp_path / "no.gguf", "no such file"), (tmp_path / "notes.gguf", "not a GGUF")):
        with pytest.raises(BadInput, match=match) as err:
            load(f"llama:{path}")
        assert "\n" not in str(err.value)
