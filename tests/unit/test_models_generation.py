"""Cached decoding equals uncached; padded batches equal single rows; log-probs are the model's."""

from __future__ import annotations

import pytest
import torch

from behaviorlab.errors import BadInput
from behaviorlab.models import ModelConfig, Seq2SeqModel, build_model

V, PAD, BOS, EOS = 12, 0, 1, 2
KINDS = ["encoder-decoder", "decoder-only", "encoder-only", "lstm"]
SRC = torch.tensor([[3, 4, 5, 6, 7], [8, 9, 0, 0, 0], [10, 0, 0, 0, 0]])


def tiny(kind: str, seed: int = 0, **kw: object) -> Seq2SeqModel:
    cfg = ModelConfig(kind=kind, d_model=16, n_heads=2, enc_layers=1, dec_layers=2, d_ff=32, **kw)
    return build_model(cfg, V, PAD, BOS, EOS, seed=seed).eval()


@pytest.mark.parametrize("kind", ["encoder-decoder", "decoder-only", "lstm", "gru"])
def test_cached_equals_uncached(kind: str) -> None:
    model = tiny("lstm", rnn_cell="gru") if kind == "gru" else tiny(kind)
    cached = model.generate(SRC, 9)
    plain = model.generate(SRC, 9, use_cache=False)
    assert torch.equal(cached.tokens, plain.tokens)
    torch.testing.assert_close(cached.logprobs, plain.logprobs, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_batched_equals_single(kind: str) -> None:
    model = tiny(kind, seed=1)
    batch = model.generate(SRC, 8)
    for row in range(SRC.shape[0]):
        n = int((SRC[row] != PAD).sum())
        one = model.generate(SRC[row : row + 1, :n], 8)
        length = int(one.lengths[0])
        assert int(batch.lengths[row]) == length
        assert torch.equal(batch.tokens[row, :length], one.tokens[0, :length])
        torch.testing.assert_close(batch.logprobs[row, :length], one.logprobs[0, :length], atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_logprobs_match_teacher_forced_logits(kind: str) -> None:
    model = tiny(kind, seed=2)
    gen = model.generate(SRC, 6, greedy=False, generator=torch.Generator().manual_seed(0))
    tgt_in = torch.cat([torch.full((SRC.shape[0], 1), BOS), gen.tokens[:, :-1]], dim=1)
    with torch.no_grad():
        logp = model(SRC, tgt_in).log_softmax(-1)
    expected = logp.gather(2, gen.tokens[:, :, None]).squeeze(2)
    live = torch.arange(gen.tokens.shape[1])[None] < gen.lengths[:, None]
    torch.testing.assert_close(gen.logprobs[live], expected[live], atol=1e-5, rtol=0)
    assert bool((gen.logprobs[~live] == 0).all())
    assert bool((gen.tokens[~live] == PAD).all())


def test_generation_shapes_stop_at_eos_and_sampling_is_seeded() -> None:
    model = tiny("encoder-decoder")

    def push_eos(logits: torch.Tensor, ctx: object) -> torch.Tensor:
        return logits + 100.0 * torch.nn.functional.one_hot(torch.tensor(EOS), V)

    with model.hooks([("dec.logits", push_eos)]):  # eos wins at once: one step, then stop
        gen = model.generate(SRC, 10)
    assert gen.tokens.shape == (3, 1) and gen.lengths.tolist() == [1, 1, 1]
    fresh = tiny("encoder-decoder")
    a = fresh.generate(SRC, 7, greedy=False, generator=torch.Generator().manual_seed(5))
    b = fresh.generate(SRC, 7, greedy=False, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.tokens, b.tokens)


def test_encoder_only_too_long_output_is_a_clear_error() -> None:
    model = tiny("encoder-only", extra_slots=1)
    with pytest.raises(BadInput, match="exceeds input length S=5 \\+ extra_slots E=1"):
        model(SRC, torch.full((3, 7), BOS))
    assert model(SRC, torch.full((3, 6), BOS)).shape == (3, 6, V)
