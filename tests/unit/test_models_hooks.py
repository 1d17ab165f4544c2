"""Hook points: names per kind, replacement semantics, per-step firing, globs, compile-out."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from behaviorlab.errors import BadInput
from behaviorlab.models import HookContext, ModelConfig, Seq2SeqModel, build_model

V, PAD, BOS, EOS = 12, 0, 1, 2
SRC = torch.tensor([[3, 4, 5, 6], [8, 9, 0, 0]])
TGT = torch.tensor([[BOS, 4, 5], [BOS, 9, 0]])


def tiny(kind: str, **kw: object) -> Seq2SeqModel:
    cfg = ModelConfig(kind=kind, d_model=16, n_heads=2, enc_layers=2, dec_layers=3, d_ff=32, **kw)
    return build_model(cfg, V, PAD, BOS, EOS, seed=0).eval()


def design_names(stack: str, layers: int, sub: list[str]) -> set[str]:
    per_layer = {f"{stack}.{i}.{s}" for i in range(layers) for s in sub}
    return per_layer | {f"{stack}.embed.tok", f"{stack}.embed.pos"}


ENC = ["attn.pattern", "attn.out", "mlp.out", "resid.post"]
DEC_SELF = ["self_attn.pattern", "self_attn.out", "mlp.out", "resid.post"]
CROSS = ["cross_attn.pattern", "cross_attn.out"]


def test_design_hook_names_exist_per_kind() -> None:
    names = {
        k: set(tiny(k).hook_names()) for k in ["encoder-decoder", "decoder-only", "encoder-only", "lstm"]
    }
    encdec = design_names("enc", 2, ENC) | design_names("dec", 3, DEC_SELF + CROSS)
    assert (
        encdec | {"dec.logits", "enc.out", "dec.0.cross_attn.z", "enc.1.attn.z"} <= names["encoder-decoder"]
    )
    assert design_names("dec", 3, DEC_SELF) | {"dec.logits", "dec.2.self_attn.z"} <= names["decoder-only"]
    assert not any("cross" in n or n.startswith("enc.") for n in names["decoder-only"])
    assert design_names("enc", 2, ENC) | {"enc.logits", "enc.out"} <= names["encoder-only"]
    assert not any(n.startswith("dec.") for n in names["encoder-only"])
    lstm = {
        "enc.embed.tok",
        "enc.rnn.out",
        "dec.embed.tok",
        "dec.rnn.out",
        "dec.attn.pattern",
        "dec.logits",
    }
    assert lstm <= names["lstm"]


@pytest.mark.parametrize("kind", ["encoder-decoder", "decoder-only", "encoder-only", "lstm"])
def test_identity_hooks_on_everything_change_nothing(kind: str) -> None:
    model = tiny(kind)
    with torch.no_grad():
        base = model(SRC, TGT)
        with model.hooks([("*", lambda x, ctx: x.clone())]):
            hooked = model(SRC, TGT)
    torch.testing.assert_close(hooked, base, atol=1e-5, rtol=1e-5)


def test_zeroing_cross_attention_changes_outputs_and_handles_restore() -> None:
    model = tiny("encoder-decoder")
    with torch.no_grad():
        base = model(SRC, TGT)
        handle = model.add_hook("dec.0.cross_attn.out", lambda x, ctx: torch.zeros_like(x))
        zeroed = model(SRC, TGT)
        handle.remove()
        again = model(SRC, TGT)
    assert not torch.allclose(zeroed, base)
    assert torch.equal(again, base)


def test_hooks_fire_at_every_decoding_step_with_step_and_positions() -> None:
    model = tiny("encoder-decoder")
    seen: list[tuple[int | None, tuple[int, ...], list[int]]] = []

    def record(x: Tensor, ctx: HookContext) -> None:
        seen.append((ctx.step, tuple(x.shape), ctx.positions[0].tolist()))

    with model.hooks([("dec.1.cross_attn.pattern", record)]):
        gen = model.generate(SRC, 5)
    steps = gen.tokens.shape[1]
    assert [s for s, _, _ in seen] == list(range(steps))
    assert all(shape == (2, 2, 1, 4) for _, shape, _ in seen)
    assert [p for _, _, p in seen] == [[t] for t in range(steps)]
    seen.clear()
    with model.hooks([("dec.0.self_attn.pattern", record)]):
        model(SRC, TGT)
    assert seen == [(None, (2, 2, 3, 3), [0, 1, 2])]


def test_decoder_only_prefill_then_single_steps() -> None:
    model = tiny("decoder-only")
    shapes: list[tuple[int | None, tuple[int, ...]]] = []
    with model.hooks([("dec.0.self_attn.pattern", lambda x, c: shapes.append((c.step, tuple(x.shape))))]):
        model.generate(SRC, 3)
    assert shapes[0] == (0, (2, 2, 5, 5))  # prompt (4) + bos
    assert shapes[1:] == [(t, (2, 2, 1, 5 + t)) for t in range(1, len(shapes))]


def test_globs_unknown_names_and_compile_out() -> None:
    model = tiny("encoder-decoder")
    calls: list[str] = []
    with model.hooks([("dec.*.cross_attn.pattern", lambda x, c: calls.append(c.name))]):
        model(SRC, TGT)
    assert calls == [f"dec.{i}.cross_attn.pattern" for i in range(3)]
    with pytest.raises(BadInput, match="dec.0.cross_attn.out"):
        model.add_hook("dec.0.cros_attn.out", lambda x, c: None)
    with torch.no_grad():
        base = model(SRC, TGT)
        model.hooks_enabled = False
        assert not model.hooks_enabled
        with pytest.raises(BadInput, match="compiled out"):
            model.add_hook("dec.logits", lambda x, c: None)
        torch.testing.assert_close(model(SRC, TGT), base)
        model.hooks_enabled = True
        assert len(model.hook_names()) == len(tiny("encoder-decoder").hook_names())
