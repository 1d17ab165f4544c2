"""The encoder-decoder transformer: pre/post-norm, learned/sinusoidal positions, cached decoding.

Hook names: enc.embed.tok enc.embed.pos enc.{L}.attn.{pattern,z,out} enc.{L}.mlp.out
enc.{L}.resid.post enc.out dec.embed.tok dec.embed.pos dec.{L}.self_attn.{pattern,z,out}
dec.{L}.cross_attn.{pattern,z,out} dec.{L}.mlp.out dec.{L}.resid.post dec.logits.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from behaviorlab.errors import BadInput
from behaviorlab.models.base import Seq2SeqModel
from behaviorlab.models.config import ModelConfig
from behaviorlab.models.generate import StepFn
from behaviorlab.models.hooks import HookPoint, RunInfo
from behaviorlab.models.layers import Stack, arange_positions, check_length, init_weights, key_mask


class EncoderDecoder(Seq2SeqModel):
    """Transformer encoder over src, causal decoder with cross-attention; one shared token table."""

    def __init__(self, cfg: ModelConfig, vocab_size: int, pad_id: int, bos_id: int, eos_id: int):
        super().__init__(cfg, vocab_size, pad_id, bos_id, eos_id)
        self.tok_emb = nn.Embedding(vocab_size, cfg.d_model)
        self.encoder = Stack(cfg, cfg.enc_layers, "enc", "attn", cross=False)
        self.hook_enc_out = HookPoint("enc.out")  # [B, S, D]
        self.decoder = Stack(cfg, cfg.dec_layers, "dec", "self_attn", cross=True)
        self.head = nn.Linear(cfg.d_model, vocab_size, bias=False)
        self.hook_logits = HookPoint("dec.logits")  # [B, T, V]
        init_weights(self, cfg.enc_layers + cfg.dec_layers)

    def set_pos_encoding(self, kind: Literal["learned", "sinusoidal"]) -> None:
        """Swap position encodings of both stacks at run time (the learned table is kept)."""
        if kind not in ("learned", "sinusoidal"):
            raise BadInput(f"pos_encoding must be 'learned' or 'sinusoidal', got {kind!r}")
        self.encoder.pos.kind = kind
        self.decoder.pos.kind = kind
        self.cfg = self.cfg.model_copy(update={"pos_encoding": kind})

    def encode(self, src: Tensor, step: int | None = None) -> tuple[Tensor, Tensor]:
        """Encoder output [B, S, D] and the src key mask [B, 1, 1, S]."""
        b, s = src.shape
        check_length(s, self.cfg.max_len)
        mask = key_mask(src != self.pad_id)
        run = RunInfo(step, arange_positions(b, 0, s, src.device))
        memory = self.encoder(self.tok_emb(src), run, mask=mask)
        return self.hook_enc_out(memory, run), mask

    def _forward(self, src: Tensor, tgt_in: Tensor, step: int | None) -> Tensor:
        memory, mask = self.encode(src, step)
        b, t = tgt_in.shape
        check_length(t, self.cfg.max_len)
        run = RunInfo(step, arange_positions(b, 0, t, tgt_in.device))
        # Right padding: the causal mask alone keeps every real query off pad keys.
        h = self.decoder(
            self.tok_emb(tgt_in),
            run,
            causal=True,
            memory_kvs=self.decoder.memory_kvs(memory),
            memory_mask=mask,
        )
        return self.hook_logits(self.head(h), run)  # [B, T, V]

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        """Logits [B, T, V]; position t predicts y_{t+1}."""
        self._check_src(src)
        return self._forward(src, tgt_in, None)

    def _stepper(self, src: Tensor, max_new_tokens: int, use_cache: bool) -> StepFn:
        if not use_cache:
            return self.uncached_stepper(src, self._forward)
        memory, mask = self.encode(src, step=0)
        kvs = self.decoder.memory_kvs(memory)  # once per input
        b = src.shape[0]
        caches = self.decoder.new_caches(b, max_new_tokens, memory)

        def step(prev: Tensor, t: int) -> Tensor:
            check_length(t + 1, self.cfg.max_len)
            run = RunInfo(t, arange_positions(b, t, 1, src.device))
            h = self.decoder(
                self.tok_emb(prev[:, None]), run, caches=caches, memory_kvs=kvs, memory_mask=mask
            )
            return self.hook_logits(self.head(h), run)[:, -1]  # [B, V]

        return step
