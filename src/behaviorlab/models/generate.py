"""The decoding loop shared by the autoregressive kinds: greedy or sampled, stops at eos.

A model supplies `step(prev, t) -> logits [B, V]`: the next-token logits given the token chosen at
step t-1 (bos at t=0). With a cache the step feeds one token; without, the model reruns the prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class Generation:
    """Generated ids (no bos; eos included; pad after eos), their log-probs and lengths."""

    tokens: Tensor  # [B, T] long
    logprobs: Tensor  # [B, T] log-prob of each chosen token under the model (0 after eos)
    lengths: Tensor  # [B] long: tokens up to and including eos (T if none)


StepFn = Callable[[Tensor, int], Tensor]


def choose(
    logits: Tensor,  # [B, V]
    greedy: bool,
    temperature: float,
    generator: torch.Generator | None,
) -> tuple[Tensor, Tensor]:
    """Pick one token per row; return (ids [B], model log-probs [B] of those ids)."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    if greedy:
        ids = logp.argmax(dim=-1)
    else:
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0 for sampling, got {temperature}")
        probs = torch.softmax(logits.float() / temperature, dim=-1)
        ids = torch.multinomial(probs, 1, generator=generator).squeeze(1)
    # Log-probs are the model's own (temperature 1) so behaviour estimators see the model.
    return ids, logp.gather(1, ids[:, None]).squeeze(1)


def decode(
    step: StepFn,
    batch: int,
    max_new_tokens: int,
    *,
    bos_id: int,
    eos_id: int,
    pad_id: int,
    device: torch.device,
    greedy: bool = True,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    is_eos: Callable[[Tensor], Tensor] | None = None,
) -> Generation:
    """Run `step` until every row has emitted eos or `max_new_tokens` steps have run.

    `is_eos` marks further end ids (a pretrained LM may have several); each is written as eos_id."""
    tokens = torch.full((batch, max_new_tokens), pad_id, dtype=torch.long, device=device)
    logprobs = torch.zeros(batch, max_new_tokens, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    prev = torch.full((batch,), bos_id, dtype=torch.long, device=device)
    n_steps = 0
    for t in range(max_new_tokens):
        ids, lp = choose(step(prev, t), greedy, temperature, generator)
        if is_eos is not None:
            ids = ids.masked_fill(is_eos(ids), eos_id)
        ids = ids.masked_fill(done, pad_id)
        tokens[:, t] = ids
        logprobs[:, t] = lp.masked_fill(done, 0.0)
        done |= ids == eos_id
        prev = ids
        n_steps = t + 1
        if bool(done.all()):
            break
    return finish(tokens[:, :n_steps], logprobs[:, :n_steps], eos_id)


def finish(tokens: Tensor, logprobs: Tensor, eos_id: int) -> Generation:
    """Lengths from the first eos per row (T when none)."""
    is_eos = tokens == eos_id  # [B, T]
    if tokens.shape[1] == 0:
        return Generation(tokens, logprobs, torch.zeros(tokens.shape[0], dtype=torch.long))
    first = torch.where(is_eos.any(1), is_eos.int().argmax(1) + 1, tokens.shape[1])
    return Generation(tokens, logprobs, first.long())
