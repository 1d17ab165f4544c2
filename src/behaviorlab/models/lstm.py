"""The recurrent comparator: bidirectional LSTM/GRU encoder, LSTM/GRU decoder, Luong attention.

Luong "general" attention sits after the decoder RNN (no input feeding), so teacher forcing runs
the decoder over the whole sequence in one call and cached decoding just carries the RNN state.
Hook names: enc.embed.tok enc.rnn.out dec.embed.tok dec.rnn.out dec.attn.pattern ([B, 1, T, S])
dec.attn.out (context vectors) dec.logits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from behaviorlab.models.base import Seq2SeqModel
from behaviorlab.models.config import ModelConfig
from behaviorlab.models.generate import StepFn
from behaviorlab.models.hooked import AttnSite
from behaviorlab.models.hooks import HookPoint, RunInfo
from behaviorlab.models.layers import arange_positions, key_mask

State = Tensor | tuple[Tensor, Tensor]  # GRU: h; LSTM: (h, c), each [layers, B, D]


class RNNSeq2Seq(Seq2SeqModel):
    """Attention seq2seq with recurrent cells (Luong et al. 2015, general score)."""

    def __init__(self, cfg: ModelConfig, vocab_size: int, pad_id: int, bos_id: int, eos_id: int):
        super().__init__(cfg, vocab_size, pad_id, bos_id, eos_id)
        d = cfg.d_model
        cell = nn.LSTM if cfg.rnn_cell == "lstm" else nn.GRU
        self.tok_emb = nn.Embedding(vocab_size, d)
        self.hook_enc_tok = HookPoint("enc.embed.tok")  # [B, S, D]
        enc_drop = cfg.dropout if cfg.enc_layers > 1 else 0.0
        self.encoder = cell(d, d // 2, cfg.enc_layers, batch_first=True, bidirectional=True, dropout=enc_drop)
        self.hook_enc_out = HookPoint("enc.rnn.out")  # [B, S, D] both directions concatenated
        self.bridge = nn.Linear(d, d)  # mean encoder state -> initial decoder hidden state
        self.hook_dec_tok = HookPoint("dec.embed.tok")  # [B, T, D]
        dec_drop = cfg.dropout if cfg.dec_layers > 1 else 0.0
        self.decoder = cell(d, d, cfg.dec_layers, batch_first=True, dropout=dec_drop)
        self.hook_dec_out = HookPoint("dec.rnn.out")  # [B, T, D]
        self.attn_w = nn.Linear(d, d, bias=False)  # score(h, e) = h · W e
        self.hook_pattern = HookPoint("dec.attn.pattern")  # [B, 1, T, S]
        self.hook_context = HookPoint("dec.attn.out")  # [B, T, D]
        self.combine = nn.Linear(2 * d, d)
        self.head = nn.Linear(d, vocab_size, bias=False)
        self.hook_logits = HookPoint("dec.logits")  # [B, T, V]
        nn.init.normal_(self.tok_emb.weight, std=0.1)

    def _drop(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.cfg.dropout, self.training) if self.cfg.dropout else x

    def encode(self, src: Tensor, step: int | None) -> tuple[Tensor, Tensor, Tensor, State]:
        """Encoder states [B, S, D], attention keys [B, S, D], src mask [B, 1, S], decoder state."""
        b, s = src.shape
        valid = src != self.pad_id
        run = RunInfo(step, arange_positions(b, 0, s, src.device))
        emb = self._drop(self.hook_enc_tok(self.tok_emb(src), run))
        lengths = valid.sum(dim=1).clamp(min=1).cpu()  # an empty row still reads one pad token
        packed = pack_padded_sequence(emb, lengths, batch_first=True, enforce_sorted=False)
        memory, _ = pad_packed_sequence(self.encoder(packed)[0], batch_first=True, total_length=s)
        memory = self.hook_enc_out(memory, run)
        mean = memory.sum(dim=1) / lengths.to(memory.device)[:, None]  # [B, D]
        h0 = torch.tanh(self.bridge(mean)).expand(self.cfg.dec_layers, b, -1).contiguous()
        state: State = (h0, torch.zeros_like(h0)) if self.cfg.rnn_cell == "lstm" else h0
        return memory, self.attn_w(memory), key_mask(valid)[:, 0], state

    def _decode(
        self, tgt_in: Tensor, memory: Tensor, keys: Tensor, mask: Tensor, state: State, run: RunInfo
    ) -> tuple[Tensor, State]:
        """Logits [B, T, V] and the RNN state after tgt_in [B, T]."""
        emb = self._drop(self.hook_dec_tok(self.tok_emb(tgt_in), run))
        out, state = self.decoder(emb, state)
        out = self.hook_dec_out(out, run)  # [B, T, D]
        scores = out @ keys.transpose(1, 2) + mask  # [B, T, S]
        pattern = self.hook_pattern(scores.softmax(dim=-1)[:, None], run)[:, 0]
        context = self.hook_context(pattern @ memory, run)  # [B, T, D]
        hidden = self._drop(torch.tanh(self.combine(torch.cat([out, context], dim=-1))))
        return self.hook_logits(self.head(hidden), run), state

    def _forward(self, src: Tensor, tgt_in: Tensor, step: int | None) -> Tensor:
        memory, keys, mask, state = self.encode(src, step)
        b, t = tgt_in.shape
        run = RunInfo(step, arange_positions(b, 0, t, src.device))
        return self._decode(tgt_in, memory, keys, mask, state, run)[0]

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        """Logits [B, T, V]; position t predicts y_{t+1}."""
        self._check_src(src)
        return self._forward(src, tgt_in, None)

    def _stepper(self, src: Tensor, max_new_tokens: int, use_cache: bool) -> StepFn:
        if not use_cache:
            return self.uncached_stepper(src, self._forward)
        memory, keys, mask, state0 = self.encode(src, step=0)
        carry: list[State] = [state0]
        b = src.shape[0]

        def step(prev: Tensor, t: int) -> Tensor:
            run = RunInfo(t, arange_positions(b, t, 1, src.device))
            logits, carry[0] = self._decode(prev[:, None], memory, keys, mask, carry[0], run)
            return logits[:, -1]  # [B, V]

        return step

    def attention_sites(self) -> list[AttnSite]:
        """One Luong attention over the encoder states (one head, no per-head outputs)."""
        return [AttnSite("cross", 0, "dec.attn.pattern", None, 1)]
