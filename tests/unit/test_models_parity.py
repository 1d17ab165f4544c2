"""The encoder-decoder equals a reference written directly with torch.nn.functional primitives."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from behaviorlab.models import ModelConfig, build_model

V, PAD, BOS, EOS = 12, 0, 1, 2


def reference(model: torch.nn.Module, src: Tensor, tgt_in: Tensor) -> Tensor:
    """Teacher-forced logits [B, T, V] from the model's weights, no model code involved."""
    w = dict(model.named_parameters())
    cfg = model.cfg  # type: ignore[attr-defined]
    d, h = cfg.d_model, cfg.n_heads
    dh = d // h
    pre = cfg.norm == "pre"

    def lin(x: Tensor, p: str) -> Tensor:
        return F.linear(x, w[p + ".weight"], w.get(p + ".bias"))

    def ln(x: Tensor, p: str) -> Tensor:
        return F.layer_norm(x, (d,), w[p + ".weight"], w[p + ".bias"])

    def split(x: Tensor) -> Tensor:  # [B, T, D] -> [B, H, T, dh]
        return x.view(x.shape[0], x.shape[1], h, dh).transpose(1, 2)

    def attn(xq: Tensor, xkv: Tensor, p: str, allowed: Tensor, cross: bool) -> Tensor:
        if cross:
            q = lin(xq, p + ".q")
            k, v = lin(xkv, p + ".kv").split(d, dim=-1)
        else:
            q, k, v = lin(xq, p + ".qkv").split(d, dim=-1)
        scores = split(q) @ split(k).transpose(-1, -2) / math.sqrt(dh)
        probs = F.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
        z = (probs @ split(v)).transpose(1, 2).reshape(xq.shape[0], xq.shape[1], d)
        return lin(z, p + ".proj")

    def mlp(x: Tensor, p: str) -> Tensor:
        return lin(F.gelu(lin(x, p + ".fc")), p + ".out")

    def block(x: Tensor, p: str, self_mask: Tensor, mem: Tensor | None, mem_mask: Tensor) -> Tensor:
        def sub(x: Tensor, ln_name: str, f: object) -> Tensor:
            if pre:
                return x + f(ln(x, p + ln_name))  # type: ignore[operator]
            return ln(x + f(x), p + ln_name)  # type: ignore[operator]

        x = sub(x, ".ln_attn", lambda y: attn(y, y, p + ".attn", self_mask, False))
        if mem is not None:
            x = sub(x, ".ln_cross", lambda y: attn(y, mem, p + ".cross", mem_mask, True))
        return sub(x, ".ln_mlp", lambda y: mlp(y, p + ".mlp"))

    def embed(tokens: Tensor, stack: str) -> Tensor:
        pos = torch.arange(tokens.shape[1])
        return F.embedding(tokens, w["tok_emb.weight"]) + F.embedding(pos, w[stack + ".pos.learned.weight"])

    src_ok = (src != PAD)[:, None, None, :]  # [B, 1, 1, S]
    x = embed(src, "encoder")
    for i in range(cfg.enc_layers):
        x = block(x, f"encoder.blocks.{i}", src_ok, None, src_ok)
    memory = ln(x, "encoder.ln_f") if pre else x
    t = tgt_in.shape[1]
    causal = torch.ones(t, t, dtype=torch.bool).tril()[None, None]
    y = embed(tgt_in, "decoder")
    for i in range(cfg.dec_layers):
        y = block(y, f"decoder.blocks.{i}", causal, memory, src_ok)
    y = ln(y, "decoder.ln_f") if pre else y
    return F.linear(y, w["head.weight"])


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_encoder_decoder_matches_functional_reference(norm: str) -> None:
    cfg = ModelConfig(d_model=16, n_heads=2, enc_layers=2, dec_layers=1, d_ff=24, norm=norm)
    model = build_model(cfg, V, PAD, BOS, EOS, seed=3).eval()
    src = torch.tensor([[3, 4, 5, 6, 7], [8, 9, 0, 0, 0]])
    tgt_in = torch.tensor([[BOS, 5, 6, 7], [BOS, 9, 10, 0]])
    with torch.no_grad():
        ours = model(src, tgt_in)
        ref = reference(model, src, tgt_in)
        # The explicit-softmax path (taken when a pattern hook is attached) must agree too.
        with model.hooks([("*.pattern", lambda x, ctx: None)]):
            explicit = model(src, tgt_in)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(explicit, ref, atol=1e-5, rtol=1e-4)
