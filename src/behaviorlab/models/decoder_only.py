"""The decoder-only transformer: one causal stack over `src + [bos] + y`, bos as separator.

Prompts are left-padded inside the model and positions count from each row's first real token,
with left pads masked as keys, so a padded batch gives the same results as single rows.
Hook names: dec.embed.tok dec.embed.pos dec.{L}.self_attn.{pattern,z,out} dec.{L}.mlp.out
dec.{L}.resid.post dec.logits. Hook positions are indices into the whole sequence (prompt
included); dec.logits covers target positions only.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from behaviorlab.errors import BadInput
from behaviorlab.models.base import Seq2SeqModel
from behaviorlab.models.config import ModelConfig
from behaviorlab.models.generate import StepFn
from behaviorlab.models.hooked import AttnSite, Display, View, joined_views
from behaviorlab.models.hooks import HookPoint, RunInfo
from behaviorlab.models.layers import Stack, check_length, init_weights, key_mask


class DecoderOnly(Seq2SeqModel):
    """GPT-style causal transformer that reads the source as a prompt."""

    generation_patchable = False  # left-padded rows: hook positions are not cache indices

    def __init__(self, cfg: ModelConfig, vocab_size: int, pad_id: int, bos_id: int, eos_id: int):
        super().__init__(cfg, vocab_size, pad_id, bos_id, eos_id)
        self.tok_emb = nn.Embedding(vocab_size, cfg.d_model)
        self.decoder = Stack(cfg, cfg.dec_layers, "dec", "self_attn", cross=False)
        self.head = nn.Linear(cfg.d_model, vocab_size, bias=False)
        self.hook_logits = HookPoint("dec.logits")  # [B, T, V]
        init_weights(self, cfg.dec_layers)

    def _prompt(self, src: Tensor) -> tuple[Tensor, Tensor]:
        """Left-padded src [B, S] and each row's left offset (number of pads) [B]."""
        s = src.shape[1]
        n = (src != self.pad_id).sum(dim=1)  # [B] real tokens (right-padded input)
        offset = s - n
        idx = torch.arange(s, device=src.device) - offset[:, None]  # [B, S]
        left = src.gather(1, idx.clamp(min=0)).masked_fill(idx < 0, self.pad_id)
        return left, offset

    def _layout(self, offset: Tensor, length: int) -> tuple[Tensor, Tensor]:
        """Positions [B, L] (from the first real token) and valid keys [B, L] for a sequence."""
        idx = torch.arange(length, device=offset.device)[None, :]
        return (idx - offset[:, None]).clamp(min=0), idx >= offset[:, None]

    def _mask(self, valid: Tensor) -> Tensor:
        """Additive [B, 1, L, L]: causal and no left-pad keys; a pad query sees itself (no NaN)."""
        # Always built, even without left padding: testing valid.all() would sync and break the
        # torch.compile graph, for a shortcut worth little at these lengths.
        length = valid.shape[1]
        ones = torch.ones(length, length, dtype=torch.bool, device=valid.device)
        eye = torch.eye(length, dtype=torch.bool, device=valid.device)
        allowed = (ones.tril() & valid[:, None, :]) | eye
        zero = torch.zeros((), device=valid.device)
        return torch.where(allowed, zero, float("-inf"))[:, None]

    def _forward(self, src: Tensor, tgt_in: Tensor, step: int | None) -> Tensor:
        left, offset = self._prompt(src)
        s = src.shape[1]
        seq = torch.cat([left, tgt_in], dim=1)  # [B, S + T]
        positions, valid = self._layout(offset, seq.shape[1])
        if seq.shape[1] > self.cfg.max_len:  # shapes only: the usual case reads no data
            check_length(int(positions.max()) + 1, self.cfg.max_len)  # rows may start late
        run = RunInfo(step, positions)
        h = self.decoder(self.tok_emb(seq), run, mask=self._mask(valid))
        out_run = RunInfo(step, positions[:, s:])
        return self.hook_logits(self.head(h[:, s:]), out_run)  # [B, T, V]

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        """Logits [B, T, V] for the target positions; position t predicts y_{t+1}."""
        self._check_src(src)
        return self._forward(src, tgt_in, None)

    def _max_new(self, src: Tensor, max_new_tokens: int) -> int:
        room = self.cfg.max_len - int((src != self.pad_id).sum(dim=1).max())
        if room < 1:
            raise BadInput(f"prompt of {src.shape[1]} tokens leaves no room below max_len={self.cfg.max_len}")
        return min(max_new_tokens, room)

    def _stepper(self, src: Tensor, max_new_tokens: int, use_cache: bool) -> StepFn:
        if not use_cache:
            return self.uncached_stepper(src, self._forward)
        left, offset = self._prompt(src)
        b, s = src.shape
        total = s + 1 + max_new_tokens
        positions, valid = self._layout(offset, total)
        keys = key_mask(valid)  # [B, 1, 1, total]
        caches = self.decoder.new_caches(b, total, self.tok_emb.weight)

        def step(prev: Tensor, t: int) -> Tensor:
            if t == 0:  # prefill: the whole prompt plus bos
                seq = torch.cat([left, prev[:, None]], dim=1)  # [B, S + 1]
                run = RunInfo(t, positions[:, : s + 1])
                h = self.decoder(self.tok_emb(seq), run, mask=self._mask(valid[:, : s + 1]), caches=caches)
            else:
                at = s + t
                run = RunInfo(t, positions[:, at : at + 1])
                h = self.decoder(self.tok_emb(prev[:, None]), run, mask=keys[..., : at + 1], caches=caches)
            last = RunInfo(t, run.positions[:, -1:])
            return self.hook_logits(self.head(h[:, -1:]), last)[:, -1]  # [B, V]

        return step

    # --- white-box layout: one causal stack serves every logical space ----------------------------

    def views(self, site: AttnSite, pattern: Tensor, src_ok: Tensor, tgt_ok: Tensor) -> dict[str, View]:
        """The self-attention over [prompt | bos y] read as encoder, decoder, cross and sequence."""
        return joined_views(pattern, src_ok, tgt_ok, 0)

    def display(self, site: AttnSite, views: dict[str, View]) -> Display:
        """Target queries over [input keys | target keys]."""
        c, d = views["cross"], views["decoder"]
        w = torch.cat([c.weights, d.weights], dim=3)
        v = View(w, d.q_valid, torch.cat([c.k_valid, d.k_valid], 1), d.visible)
        return Display("decoder", v, "tgt", ("src", "tgt"))

    def sequence_tokens(self, src: list[str], tgt: list[str]) -> list[str]:
        """The prompt, then bos and the output."""
        return [*src, *tgt]
