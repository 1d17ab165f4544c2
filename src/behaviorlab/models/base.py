"""`Seq2SeqModel`: the one interface every model kind implements (forward, generate, hooks), and
the white-box layout `interpret` reads through `HookedModel` (models/hooked.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from behaviorlab.errors import BadInput
from behaviorlab.models.config import ModelConfig
from behaviorlab.models.generate import Generation, StepFn, decode
from behaviorlab.models.hooked import AttnSite, Display, View, own_display, stack_views
from behaviorlab.models.hooks import HookedMixin

_PATTERN = re.compile(r"^(enc|dec)\.(\d+)\.(attn|self_attn|cross_attn)\.pattern$")


class Seq2SeqModel(HookedMixin):
    """Base class: teacher-forced `forward`, autoregressive `generate`, named hook points.

    Subclasses implement `forward` and `_stepper(src, max_new_tokens, use_cache) -> StepFn`.
    """

    one_pass = False  # the encoder-only kind emits every token at once
    generation_patchable = True  # hook positions index the query dim of a generated cache

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

    # --- the white-box layout (HookedModel) -------------------------------------------------------

    def stepper(self, src: Tensor, max_new_tokens: int) -> StepFn:
        """Cached decoding one step at a time (what forced decodes and perturbations drive)."""
        return self._stepper(src, max_new_tokens, True)

    def max_new(self, src: Tensor, max_new_tokens: int) -> int:
        """The generation budget that fits the position table."""
        return self._max_new(src, max_new_tokens)

    def is_eos(self, ids: Tensor) -> Tensor:
        """Bool mask of end-of-sequence ids."""
        return ids == self.eos_id

    def d_model(self) -> int:
        """Width of the residual stream."""
        return int(self.cfg.d_model)

    def attention_sites(self) -> list[AttnSite]:
        """Every transformer attention pattern hook, in module order."""
        sites = []
        for name in self.hook_names():
            m = _PATTERN.match(name)
            if m:
                kind = {"attn": "encoder", "self_attn": "decoder", "cross_attn": "cross"}[m[3]]
                z = name.removesuffix("pattern") + "z"
                sites.append(AttnSite(kind, int(m[2]), name, z, self.cfg.n_heads))
        return sites

    def views(self, site: AttnSite, pattern: Tensor, src_ok: Tensor, tgt_ok: Tensor) -> dict[str, View]:
        """A site's pattern in its own space; the encoder's is also the "sequence" space."""
        return stack_views(site, pattern, src_ok, tgt_ok)

    def display(self, site: AttnSite, views: dict[str, View]) -> Display:
        """Each site is drawn in its own space."""
        return own_display(site, views)

    def sequence_tokens(self, src: list[str], tgt: list[str]) -> list[str]:
        """The encoder reads the input (the "sequence" space of a two-stack model)."""
        return list(src)

    def position_table(self, stack: str) -> Callable[[Tensor], Tensor] | None:
        """The Positions module of a stack, or None (the LSTM adds no position vectors)."""
        side = getattr(self, "encoder" if stack == "enc" else "decoder", None)
        pos = getattr(side, "pos", None)
        return pos if callable(pos) else None
