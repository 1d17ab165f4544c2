"""`Seq2SeqModel`: the one interface every model kind implements (forward, generate, hooks)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from behaviorlab.errors import BadInput
from behaviorlab.models.config import ModelConfig
from behaviorlab.models.generate import Generation, StepFn, decode
from behaviorlab.models.hooks import HookedMixin


class Seq2SeqModel(HookedMixin):
    """Base class: teacher-forced `forward`, autoregressive `generate`, named hook points.

    Subclasses implement `forward` and `_stepper(src, max_new_tokens, use_cache) -> StepFn`.
    """

    def __init__(self, cfg: ModelConfig, vocab_size: int, pad_id: int, bos_id: int, eos_id: int):
        super().__init__()
        self.cfg = cfg
        self.vocab_size, self.pad_id, self.bos_id, self.eos_id = vocab_size, pad_id, bos_id, eos_id

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        """Logits [B, T, V] for src [B, S] and tgt_in [B, T] = [bos, y1, ...], both right-padded.

        Position t predicts y_{t+1} (the last real position predicts eos).
        """
        raise NotImplementedError

    def _stepper(self, src: Tensor, max_new_tokens: int, use_cache: bool) -> StepFn:
        raise NotImplementedError

    def _max_new(self, src: Tensor, max_new_tokens: int) -> int:
        """Generation budget, clamped so decoder positions stay below max_len."""
        return min(max_new_tokens, self.cfg.max_len)

    def _check_src(self, src: Tensor) -> None:
        if src.dim() != 2 or src.dtype != torch.long:
            raise BadInput(f"src must be a LongTensor [B, S]; got {tuple(src.shape)} {src.dtype}")

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
        """Decode up to `max_new_tokens` tokens per row (clamped to max_len); stop at eos."""
        self._check_src(src)
        n = self._max_new(src, max_new_tokens)
        return decode(
            self._stepper(src, n, use_cache),
            src.shape[0],
            n,
            bos_id=self.bos_id,
            eos_id=self.eos_id,
            pad_id=self.pad_id,
            device=src.device,
            greedy=greedy,
            temperature=temperature,
            generator=generator,
        )

    def uncached_stepper(self, src: Tensor, run_forward: Any) -> StepFn:
        """A StepFn that reruns the whole prefix each step: the reference the cache must match."""
        prefix: list[Tensor] = []

        def step(prev: Tensor, t: int) -> Tensor:
            prefix.append(prev)
            return run_forward(src, torch.stack(prefix, dim=1), t)[:, -1]  # [B, V]

        return step
