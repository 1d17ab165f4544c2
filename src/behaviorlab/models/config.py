"""The model configuration: one pydantic object shared by every model kind (the four built-in
ones, and any a plugin registers)."""

from __future__ import annotations

from typing import Literal

import pydantic
from pydantic import PositiveInt

from behaviorlab import registry
from behaviorlab.validate import Strict


class ModelConfig(Strict):
    """Architecture of a sequence-to-sequence model; unused fields are ignored by a kind."""

    kind: str = "encoder-decoder"  # a registered model kind (registry.py): built-in or from a plugin
    d_model: PositiveInt = 64
    n_heads: PositiveInt = 4
    enc_layers: PositiveInt = 2  # encoder-decoder, encoder-only, lstm encoder
    dec_layers: PositiveInt = 2  # encoder-decoder, decoder-only, lstm decoder
    d_ff: PositiveInt = 256
    dropout: float = pydantic.Field(default=0.0, ge=0.0, lt=1.0)
    pos_encoding: Literal["learned", "sinusoidal"] = "learned"
    norm: Literal["pre", "post"] = "pre"
    max_len: PositiveInt = 128
    extra_slots: int = pydantic.Field(default=2, ge=0)  # encoder-only: output ≤ S + extra_slots
    rnn_cell: Literal["lstm", "gru"] = "lstm"  # lstm kind

    @pydantic.field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        known = registry.names("model")
        if kind not in known:
            raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(known)}")
        return kind

    @pydantic.model_validator(mode="after")
    def _heads_divide_width(self) -> ModelConfig:
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}")
        if self.kind == "lstm" and self.d_model % 2:
            raise ValueError("lstm kind needs an even d_model (bidirectional encoder halves)")
        return self

    @property
    def d_head(self) -> int:
        """Width of one attention head."""
        return self.d_model // self.n_heads

    def size_estimate(self, vocab_size: int) -> tuple[int, int]:
        """(parameters, positional-table entries) of this architecture, from the config alone (no
        model is built): a lower bound counting the weight matrices, for the pre-flight checks."""
        d, ff, v = self.d_model, self.d_ff, vocab_size
        if self.kind == "lstm":  # gates x d x d per encoder layer (two half-width directions), twice that
            gates = 4 if self.rnn_cell == "lstm" else 3  # per decoder layer (its input is wider)
            layers = gates * d * d * (self.enc_layers + 2 * self.dec_layers)
            return 2 * v * d + layers + 4 * d * d, 0
        attn, mlp = 4 * d * d, 2 * d * ff
        enc = 0 if self.kind == "decoder-only" else self.enc_layers * (attn + mlp)
        dec = 0 if self.kind == "encoder-only" else self.dec_layers * (attn + mlp)
        cross = self.dec_layers * attn if self.kind == "encoder-decoder" else 0
        stacks = 2 if self.kind == "encoder-decoder" else 1
        return 2 * v * d + enc + dec + cross, stacks * self.max_len * d
