"""Hooks on Hugging Face models under our names: the patterns are the model's own, identity hooks
change nothing, a hook edit is a real intervention — on tiny random models of six architectures
(Llama with grouped-query attention, GPT-2, Gemma2 with sliding windows and soft-capping, Mistral
with a sliding window, Qwen2, T5) built here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import torch

import behaviorlab.lm.hf  # noqa: F401  (offline switches before transformers loads)
from behaviorlab.errors import BadInput
from behaviorlab.interpret.cache import run_with_cache
from behaviorlab.lm.hf_model import HFModel
from behaviorlab.lm.hooked_hf import PAD, HookedHF, hook_hf
from behaviorlab.models import HookedModel

sys.path.insert(0, str(Path(__file__).parents[1]))
from lm_tiny import bpe_tokenizer  # noqa: E402

CAUSAL = ("llama", "gpt2", "gemma2", "mistral", "qwen2")
# The o_proj-like module whose input is the per-head outputs, concatenated.
O_PROJ = {"llama": "self_attn.o_proj", "gpt2": "attn.c_proj", "gemma2": "self_attn.o_proj",
          "mistral": "self_attn.o_proj", "qwen2": "self_attn.o_proj"}  # fmt: skip
LAYERS = {"gpt2": "transformer.h"}


def build(arch: str, eager: bool = False) -> Any:
    """A 2-layer random model of `arch` (seeded: two calls give the same weights)."""
    import transformers as tf

    tok = bpe_tokenizer()
    v = len(tok)
    common: dict[str, Any] = {"vocab_size": v, "pad_token_id": 0, "eos_token_id": 1}
    decoder = dict(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, max_position_embeddings=64, tie_word_embeddings=False,
        initializer_range=0.3, **common,
    )  # fmt: skip
    configs = {
        "llama": lambda: tf.LlamaConfig(**decoder),
        "mistral": lambda: tf.MistralConfig(**decoder, sliding_window=4),
        "qwen2": lambda: tf.Qwen2Config(**decoder),
        "gemma2": lambda: tf.Gemma2Config(
            **decoder, sliding_window=4, attn_logit_softcapping=5.0, final_logit_softcapping=30.0,
            query_pre_attn_scalar=8, layer_types=["sliding_attention", "full_attention"],
        ),
        "gpt2": lambda: tf.GPT2Config(
            n_positions=64, n_embd=32, n_layer=2, n_head=4, initializer_range=0.2, bos_token_id=1, **common
        ),
        "t5": lambda: tf.T5Config(
            d_model=16, d_kv=8, d_ff=32, num_layers=2, num_decoder_layers=2, num_heads=2,
            relative_attention_num_buckets=8, decoder_start_token_id=0, initializer_factor=1.0, **common,
        ),
    }  # fmt: skip
    config = configs[arch]()
    if eager:
        config._attn_implementation = "eager"
    cls = tf.T5ForConditionalGeneration if arch == "t5" else tf.AutoModelForCausalLM
    torch.manual_seed(0)
    model = cls(config) if arch == "t5" else cls.from_config(config)
    return model.eval(), tok


def hooked(arch: str) -> tuple[HookedHF, Any]:
    model, tok = build(arch)
    return hook_hf(HFModel(model, tok, spec=f"hf:tiny-{arch}", name=arch)), model


ROWS = [[5, 9, 12, 7, 30, 22, 9, 12, 7, 41], [11, 4, 9, 17, 6]]  # 10 > every sliding window


def batch(h: HookedHF, tgt: list[list[int]] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    from behaviorlab.batching import pad

    src = pad(ROWS, PAD)
    tgt_rows = tgt or [[h.bos_id, 8, 3], [h.bos_id, 2]]
    return src, pad(tgt_rows, PAD)


@pytest.mark.parametrize("arch", CAUSAL)
def test_causal_patterns_are_the_models_own(arch: str) -> None:
    h, _ = hooked(arch)
    ref, _ = build(arch, eager=True)
    assert isinstance(h, HookedModel)
    src, tgt = batch(h)
    logits, cache = run_with_cache(h, src, tgt, names=["*.pattern", "dec.logits"])
    for b, row in enumerate(ROWS):
        out = ref(torch.tensor([row + tgt[b, 1:][tgt[b, 1:] != PAD].tolist()]), output_attentions=True)
        for layer, want in enumerate(out.attentions):
            got = _real(cache, layer, b, src, tgt)  # the row's real tokens, padding cut away
            assert got.shape == want[0].shape
            assert torch.allclose(got, want[0], atol=1e-5), f"{arch} layer {layer} row {b}"
        n_tgt = int((tgt[b] != PAD).sum())  # target positions: the prompt's last token onwards
        assert torch.allclose(logits[b, :n_tgt], out.logits[0, len(row) - 1 :], atol=1e-4)
        assert torch.equal(cache["dec.logits"], logits)
    assert logits.shape[:2] == tgt.shape


def _span(src: torch.Tensor, tgt: torch.Tensor, b: int) -> slice:
    """Sequence indices of row b's real tokens inside [left-padded src | tgt[1:]]."""
    s = src.shape[1]
    n_src, n_tgt = int((src[b] != PAD).sum()), int((tgt[b] != PAD).sum())
    return slice(s - n_src, s + n_tgt - 1)


def _real(cache: Any, layer: int, b: int, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    sl = _span(src, tgt, b)
    return cache[f"dec.{layer}.self_attn.pattern"][b][:, sl, sl]


def test_t5_encoder_decoder_and_cross_patterns_are_the_models_own() -> None:
    h, _ = hooked("t5")
    ref, _ = build("t5", eager=True)
    src, tgt = batch(h, [[0, 8, 3, 9], [0, 2]])
    logits, cache = run_with_cache(h, src, tgt, names=["*.pattern"])
    names = {s.hook for s in h.attention_sites()}
    assert {"enc.0.attn.pattern", "dec.1.self_attn.pattern", "dec.1.cross_attn.pattern"} <= names
    for b, row in enumerate(ROWS):
        dec = tgt[b][tgt[b] != PAD]
        out = ref(
            input_ids=torch.tensor([row]),
            decoder_input_ids=dec[None],
            output_attentions=True,
            use_cache=False,
        )
        n, t = len(row), len(dec)
        for layer in range(2):
            pairs = [
                (cache[f"enc.{layer}.attn.pattern"][b, :, :n, :n], out.encoder_attentions[layer][0]),
                (cache[f"dec.{layer}.self_attn.pattern"][b, :, :t, :t], out.decoder_attentions[layer][0]),
                (cache[f"dec.{layer}.cross_attn.pattern"][b, :, :t, :n], out.cross_attentions[layer][0]),
            ]
            for got, want in pairs:
                assert torch.allclose(got, want, atol=1e-5)
        assert torch.allclose(logits[b, :t], out.logits[0], atol=1e-4)


@pytest.mark.parametrize("arch", [*CAUSAL, "t5"])
def test_identity_hooks_leave_logits_bit_identical(arch: str) -> None:
    h, _ = hooked(arch)
    src, tgt = batch(h, [[h.bos_id, 8, 3], [h.bos_id, 2]])
    plain = h(src, tgt)
    seen: list[str] = []

    def same(x: torch.Tensor, ctx: Any) -> torch.Tensor:
        seen.append(ctx.name)
        return x.clone()  # a new tensor with the same values: patterns are multiplied again

    with h.hooks([("*", same)]):
        again = h(src, tgt)
    assert set(seen) == set(h.hook_names())
    assert torch.equal(plain, again)


@pytest.mark.parametrize("arch", CAUSAL)
def test_ablating_a_head_equals_zeroing_its_slice_of_the_output_projection(arch: str) -> None:
    h, model = hooked(arch)
    src, tgt = batch(h)
    layer, head = 1, 2
    site = next(s for s in h.attention_sites() if s.layer == layer)
    dh = h.d_model() // site.n_heads

    def zero_head(x: torch.Tensor, ctx: Any) -> torch.Tensor:
        x = x.clone()
        x[:, :, head] = 0.0  # z: [B, T, H, dh]
        return x

    with h.hooks([(site.z_hook or "", zero_head)]):
        ours = h(src, tgt)
    blocks = model.get_submodule(LAYERS.get(arch, "model.layers"))
    proj = blocks[layer].get_submodule(O_PROJ[arch])

    def by_hand(mod: Any, args: Any) -> Any:
        x = args[0].clone()
        x[..., head * dh : (head + 1) * dh] = 0.0
        return (x,)

    handle = proj.register_forward_pre_hook(by_hand)
    try:
        manual = h(src, tgt)
    finally:
        handle.remove()
    assert torch.equal(ours, manual)
    assert not torch.equal(ours, h(src, tgt))  # and it did change something


def test_an_edited_pattern_changes_what_follows() -> None:
    h, _ = hooked("llama")
    src, tgt = batch(h)
    plain = h(src, tgt)

    def look_back_one(x: torch.Tensor, ctx: Any) -> torch.Tensor:
        return torch.diag_embed(torch.ones(x.shape[-1]))[None, None].expand_as(x).contiguous()

    with h.hooks([("dec.0.self_attn.pattern", look_back_one)]):
        edited = h(src, tgt)
    assert not torch.allclose(plain, edited)


def test_hooks_run_during_cached_generation_with_the_step() -> None:
    h, _ = hooked("llama")
    src, _ = batch(h)
    steps: list[tuple[int | None, int]] = []
    with h.hooks([("dec.0.self_attn.out", lambda x, c: steps.append((c.step, x.shape[1])))]):
        gen = h.generate(src, 4)
    assert steps[0] == (0, src.shape[1]) and steps[1] == (1, 1)
    assert [s for s, _ in steps] == list(range(len(steps))) and gen.tokens.shape[0] == 2
    _, cache = run_with_cache(h, src, generate=True, names=["dec.1.self_attn.pattern"], max_new_tokens=3)
    assert cache["dec.1.self_attn.pattern"].shape[:2] == (2, 4)


def test_a_glob_that_matches_nothing_names_the_nearest_hooks() -> None:
    h, _ = hooked("llama")
    with pytest.raises(BadInput, match=r"near names: dec\.1\.self_attn\.pattern"):
        h.add_hook("dec.1.self_attn.patern", lambda x, c: None)


def test_an_architecture_without_an_alias_map_says_how_to_add_one() -> None:
    import transformers as tf

    model = tf.AutoModelForCausalLM.from_config(
        tf.GPTNeoXConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=2)
    )
    with pytest.raises(BadInput, match=r"'gpt_neox'.*hf_arch\.py.*adding an architecture"):
        hook_hf(HFModel(model, bpe_tokenizer(), spec="hf:neox", name="neox"))


def test_an_architecture_added_by_a_plugin_is_hooked_with_the_models_own_patterns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """CONTRIBUTING's recipe, from a plugin: one Arch for GPT-NeoX and one registry entry."""
    from importlib.metadata import EntryPoint

    import transformers as tf

    from behaviorlab import registry

    (tmp_path / "neoxplug.py").write_text(
        "from behaviorlab.lm.hf_arch import Arch, Stack\n"
        'NEOX = Arch(Stack("dec", "gpt_neox", "gpt_neox.layers", "attention", "mlp"))\n'
        'PLUGIN = {"architecture": {"gpt_neox": "neoxplug:NEOX"}}\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = EntryPoint("neox", "neoxplug:PLUGIN", registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [plugin] if group == registry.GROUP else [])
    registry.reset()
    try:
        config = tf.GPTNeoXConfig(
            vocab_size=len(bpe_tokenizer()), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
            intermediate_size=32, max_position_embeddings=64, initializer_range=0.3,
        )  # fmt: skip
        torch.manual_seed(0)
        model = tf.AutoModelForCausalLM.from_config(config).eval()
        torch.manual_seed(0)
        ref = tf.AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
        h = hook_hf(HFModel(model, bpe_tokenizer(), spec="hf:neox", name="neox"))
        src, tgt = batch(h)
        _, cache = run_with_cache(h, src, tgt, names=["*.pattern"])
        for b, row in enumerate(ROWS):
            out = ref(torch.tensor([row + tgt[b, 1:][tgt[b, 1:] != PAD].tolist()]), output_attentions=True)
            for layer, want in enumerate(out.attentions):
                assert torch.allclose(_real(cache, layer, b, src, tgt), want[0], atol=1e-5)
    finally:
        registry.reset()
