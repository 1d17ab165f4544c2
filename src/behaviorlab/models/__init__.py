"""Hooked sequence-to-sequence models with one interface: forward, generate, named hooks.

`build_model(cfg, vocab_size, pad_id, bos_id, eos_id)` returns a model of `cfg.kind`: one of the four
built-in kinds (see ModelConfig) or one a plugin registers (registry.py).
"""

from __future__ import annotations

import torch

from behaviorlab import registry
from behaviorlab.errors import BadInput
from behaviorlab.models.base import Seq2SeqModel
from behaviorlab.models.config import ModelConfig
from behaviorlab.models.decoder_only import DecoderOnly
from behaviorlab.models.encoder_decoder import EncoderDecoder
from behaviorlab.models.encoder_only import EncoderOnly
from behaviorlab.models.generate import Generation
from behaviorlab.models.hooks import HookContext, HookHandle, HookPoint, RunInfo
from behaviorlab.models.lstm import RNNSeq2Seq


def model_class(kind: str) -> type[Seq2SeqModel]:
    """The model class of a kind (built-in or from a plugin); BadInput lists the kinds."""
    cls = registry.load("model", kind)
    if not (isinstance(cls, type) and issubclass(cls, Seq2SeqModel)):
        raise BadInput(f"model kind {kind!r}: {registry.entries('model')[kind].target} is not a Seq2SeqModel")
    return cls


def build_model(
    cfg: ModelConfig,
    vocab_size: int,
    pad_id: int,
    bos_id: int,
    eos_id: int,
    *,
    seed: int | None = None,
    hooks: bool = True,
) -> Seq2SeqModel:
    """Build a model of `cfg.kind`; `seed` makes the init independent of the global RNG state.

    `hooks=False` compiles hook points out (see models/hooks.py); it can be undone later with
    `model.hooks_enabled = True`.
    """
    cls = model_class(cfg.kind)
    if seed is None:
        model = cls(cfg, vocab_size, pad_id, bos_id, eos_id)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = cls(cfg, vocab_size, pad_id, bos_id, eos_id)
    if not hooks:
        model.hooks_enabled = False
    return model


__all__ = [
    "DecoderOnly",
    "EncoderDecoder",
    "EncoderOnly",
    "Generation",
    "HookContext",
    "HookHandle",
    "HookPoint",
    "ModelConfig",
    "RNNSeq2Seq",
    "RunInfo",
    "Seq2SeqModel",
    "build_model",
    "model_class",
]
