"""Batched forced-prefix greedy decoding, with per-row positional-encoding edits on the fly.

Row b emits forced[b, t] at every step t < forced_len[b] and the greedy choice after that, all in
one cached decode. Position edits act on `{stack}.embed.pos`: a row may give position a the
encoding of position b ("replace") or exchange the two ("swap"); -1 means no edit.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from behaviorlab.errors import BadInput
from behaviorlab.models import Generation, HookContext, HookedModel
from behaviorlab.models.generate import finish


@dataclass
class PosEdits:
    """Per-row position edits on one stack ("enc" or "dec")."""

    stack: str
    a: Tensor  # [N] long, -1 = none
    b: Tensor  # [N] long
    swap: Tensor  # [N] bool: swap a<->b, else a gets b's encoding

    def rows(self, idx: slice) -> PosEdits:
        """The edits of a chunk of rows."""
        return PosEdits(self.stack, self.a[idx], self.b[idx], self.swap[idx])


def _positions_module(model: HookedModel, stack: str) -> Any:
    pos = model.position_table(stack)
    if pos is None:
        raise BadInput(f"this model adds no position vectors on the {stack} side (nothing to edit)")
    return pos


def pos_hook(model: HookedModel, edits: PosEdits) -> tuple[str, Any]:
    """A (hook name, fn) pair applying the edits wherever a row's positions hit a or b."""
    table = _positions_module(model, edits.stack)
    a, b = edits.a, edits.b
    enc_a = table(a.clamp(min=0)[:, None])[:, 0]  # [N, D]
    enc_b = table(b.clamp(min=0)[:, None])[:, 0]

    def fn(x: Tensor, ctx: HookContext) -> Tensor:  # x [N, T, D]
        pos = ctx.positions  # [N, T]
        at_a = (pos == a[:, None]) & (a[:, None] >= 0)
        at_b = (pos == b[:, None]) & (a[:, None] >= 0) & edits.swap[:, None]
        x = torch.where(at_a[..., None], enc_b[:, None, :], x)
        return torch.where(at_b[..., None], enc_a[:, None, :], x)

    return f"{edits.stack}.embed.pos", fn


@torch.no_grad()
def forced_decode(
    model: HookedModel,
    src: Tensor,  # [N, S]
    forced: Tensor,  # [N, F] token ids to emit first (anything after forced_len ignored)
    forced_len: Tensor,  # [N]
    max_new_tokens: int,
    pos: PosEdits | None = None,
) -> Generation:
    """Greedy decoding from a forced prefix per row, in one batch."""
    hooks = model.hooks([pos_hook(model, pos)]) if pos is not None else nullcontext()
    if model.one_pass:
        if bool((forced_len > 0).any()):
            raise BadInput("encoder-only models emit every token at once: no prefix to perturb")
        with hooks:
            return model.generate(src, max_new_tokens)
    n, f = forced.shape
    steps = model.max_new(src, max(max_new_tokens, int(forced_len.max()) if forced_len.numel() else 0))
    tokens = torch.full((n, steps), model.pad_id, dtype=torch.long)
    logprobs = torch.zeros(n, steps)
    done = torch.zeros(n, dtype=torch.bool)
    prev = torch.full((n,), model.bos_id, dtype=torch.long)
    used = 0
    with hooks:
        step = model.stepper(src, steps)
        for t in range(steps):
            logp = torch.log_softmax(step(prev, t).float(), dim=-1)  # [N, V]
            ids = logp.argmax(dim=-1)
            if t < f:
                ids = torch.where(forced_len > t, forced[:, t], ids)
            lp = logp.gather(1, ids[:, None])[:, 0]
            ends = model.is_eos(ids) & ~done
            ids = ids.masked_fill(ends, model.eos_id)  # one spelling of "end" (models may have several)
            ids = ids.masked_fill(done, model.pad_id)
            tokens[:, t], logprobs[:, t] = ids, lp.masked_fill(done, 0.0)
            done |= ends
            prev, used = ids, t + 1
            if bool(done.all()):
                break
    return finish(tokens[:, :used], logprobs[:, :used], model.eos_id)
