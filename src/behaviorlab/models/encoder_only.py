"""The encoder-only transformer: one bidirectional pass, one output token per position.

The src is extended by `extra_slots` pad positions (the pad embedding row doubles as the learned
slot embedding); position i predicts y_i, eos after the last output token. Pads are masked as
keys, so slots read only the real input. Hook names: enc.embed.tok enc.embed.pos
enc.{L}.attn.{pattern,z,out} enc.{L}.mlp.out enc.{L}.resid.post enc.out enc.logits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from behaviorlab.errors import BadInput
from behaviorlab.models.base import Seq2SeqModel
from behaviorlab.models.config import ModelConfig
from behaviorlab.models.generate import Generation, choose, finish
from behaviorlab.models.hooks import HookPoint, RunInfo
from behaviorlab.models.layers import Stack, arange_positions, check_length, init_weights, key_mask


class EncoderOnly(Seq2SeqModel):
    """Per-position classifier over src + extra slots."""

    one_pass = True  # every output token at once: no prefix to force

    def __init__(self, cfg: ModelConfig, vocab_size: int, pad_id: int, bos_id: int, eos_id: int):
        super().__init__(cfg, vocab_size, pad_id, bos_id, eos_id)
        self.tok_emb = nn.Embedding(vocab_size, cfg.d_model)
        self.encoder = Stack(cfg, cfg.enc_layers, "enc", "attn", cross=False)
        self.hook_enc_out = HookPoint("enc.out")  # [B, S + E, D]
        self.head = nn.Linear(cfg.d_model, vocab_size, bias=False)
        self.hook_logits = HookPoint("enc.logits")  # [B, S + E, V]
        init_weights(self, cfg.enc_layers)

    def _logits(self, src: Tensor, step: int | None) -> Tensor:
        """Logits at every position of src + extra slots [B, S + E, V]."""
        x = F.pad(src, (0, self.cfg.extra_slots), value=self.pad_id)  # [B, S + E]
        b, n = x.shape
        check_length(n, self.cfg.max_len)
        run = RunInfo(step, arange_positions(b, 0, n, src.device))
        h = self.encoder(self.tok_emb(x), run, mask=key_mask(x != self.pad_id))
        h = self.hook_enc_out(h, run)
        return self.hook_logits(self.head(h), run)

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        """Logits [B, T, V] for T = tgt_in.shape[1]; position i predicts y_i."""
        self._check_src(src)
        s, t, e = src.shape[1], tgt_in.shape[1], self.cfg.extra_slots
        if t > s + e:
            raise BadInput(
                "encoder-only model predicts one token per input position: output length "
                f"T={t} exceeds input length S={s} + extra_slots E={e}; use an equal-length "
                "task or raise extra_slots"
            )
        return self._logits(src, None)[:, :t]

    @torch.no_grad()
    def generate(
        self,
        src: Tensor,
        max_new_tokens: int,
        *,
        greedy: bool = True,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
    ) -> Generation:
        """One pass; choose every position at once, cut each row after its first eos."""
        self._check_src(src)
        logits = self._logits(src, 0)[:, :max_new_tokens]  # [B, T, V]
        b, t, v = logits.shape
        ids, lp = choose(logits.reshape(b * t, v), greedy, temperature, generator)
        ids, lp = ids.view(b, t), lp.view(b, t)
        after = (ids == self.eos_id).int().cumsum(dim=1) - (ids == self.eos_id).int() > 0
        # A row owns only its own n + E slots; beyond them lie other rows' padding.
        own = (src != self.pad_id).sum(dim=1, keepdim=True) + self.cfg.extra_slots  # [B, 1]
        after |= torch.arange(t, device=src.device)[None, :] >= own
        gen = finish(ids.masked_fill(after, self.pad_id), lp.masked_fill(after, 0.0), self.eos_id)
        gen.lengths = torch.minimum(gen.lengths, own[:, 0])
        return gen
