"""torch.compile readiness: no graph breaks in any transformer forward at the demo's shapes."""

from __future__ import annotations

import pytest
import torch

from behaviorlab.errors import BadInput
from behaviorlab.models import ModelConfig, build_model

V, PAD, BOS, EOS = 16, 0, 1, 2
DEMO = {"d_model": 64, "n_heads": 4, "enc_layers": 2, "dec_layers": 2, "d_ff": 128}


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    """A demo-shaped batch (64 rows, ~12 tokens) with ragged right padding on both sides."""
    g = torch.Generator().manual_seed(0)
    src = torch.randint(3, V, (64, 12), generator=g)
    tgt = torch.randint(3, V, (64, 12), generator=g)
    for i in range(64):
        src[i, 12 - i % 5 :] = PAD
        tgt[i, 12 - i % 4 :] = PAD
    tgt[:, 0] = BOS
    return src, tgt


# The lstm kind is not listed: dynamo refuses nn.LSTM/GRU ("does not support RNN, GRU, or LSTM")
# and pack_padded_sequence, and its experimental allow_rnn fails in inductor on CPU (torch 2.13).
@pytest.mark.parametrize("kind", ["encoder-decoder", "decoder-only", "encoder-only"])
def test_forward_has_no_graph_breaks(kind: str) -> None:
    model = build_model(ModelConfig(kind=kind, **DEMO), V, PAD, BOS, EOS, seed=0).train()
    torch._dynamo.reset()
    explained = torch._dynamo.explain(model)(*_batch())
    assert explained.graph_break_count == 0, [b.reason for b in explained.break_reasons]
    assert explained.graph_count == 1


@pytest.mark.parametrize("kind", ["encoder-decoder", "decoder-only", "encoder-only"])
def test_lengths_beyond_max_len_are_refused(kind: str) -> None:
    model = build_model(ModelConfig(kind=kind, **{**DEMO, "max_len": 8}), V, PAD, BOS, EOS, seed=0)
    src, tgt = _batch()
    with pytest.raises(BadInput, match="max_len=8"):
        model(src, tgt[:, :6])


def test_decoder_only_accepts_long_padded_rows_that_fit() -> None:
    """S + T above max_len is fine when every prompt is short: positions count real tokens."""
    model = build_model(ModelConfig(kind="decoder-only", **{**DEMO, "max_len": 8}), V, PAD, BOS, EOS)
    src = torch.full((2, 6), PAD)
    src[:, :2] = 5
    assert model(src, torch.full((2, 4), BOS)).shape == (2, 4, V)
