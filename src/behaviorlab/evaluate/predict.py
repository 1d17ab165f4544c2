"""Batched greedy predictions with per-token log-probs, as plain records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from behaviorlab.batching import encode_sources
from behaviorlab.models import HookedModel, Seq2SeqModel
from behaviorlab.tasks import Example
from behaviorlab.tasks.base import Learnable


@dataclass(frozen=True)
class Prediction:
    """One model answer next to the reference."""

    input: str
    target: str
    prediction: str
    correct: bool
    tokens: list[str]  # generated tokens, eos excluded
    logprobs: list[float]  # one per generated token, eos included (last)
    meta: dict[str, int] = field(default_factory=dict)


def _max_new_tokens(task: Learnable, examples: Sequence[Example], margin: int = 4) -> int:
    longest = max(len(task.vocab.tokenize(e.output)) for e in examples)
    return longest + margin + 1  # + eos


@torch.no_grad()
def generate_strings(
    model: HookedModel,
    task: Learnable,
    inputs: Sequence[str],
    max_new_tokens: int,
    batch_size: int = 256,
) -> list[tuple[list[str], list[float]]]:
    """Greedy outputs (tokens without eos, log-probs with eos) for canonical input strings."""
    was_training = model.training
    model.eval()
    out: list[tuple[list[str], list[float]]] = []
    vocab = task.vocab
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start : start + batch_size]
        src = encode_sources(vocab, chunk)  # [B, S]
        gen = model.generate(src, max_new_tokens=max_new_tokens, greedy=True)
        for row in range(len(chunk)):
            n = int(gen.lengths[row])
            ids = gen.tokens[row, :n].tolist()
            lps = gen.logprobs[row, :n].tolist()
            if ids and ids[-1] == vocab.eos_id:
                ids = ids[:-1]
            out.append(([vocab.tokens[i] for i in ids], lps))
    model.train(was_training)
    return out


def predict(
    model: Seq2SeqModel, task: Learnable, examples: Sequence[Example], batch_size: int = 256
) -> list[Prediction]:
    """Greedy predictions for a split, compared to the reference outputs by exact match."""
    if not examples:
        return []
    gens = generate_strings(
        model, task, [e.input for e in examples], _max_new_tokens(task, examples), batch_size
    )
    preds = []
    for e, (toks, lps) in zip(examples, gens, strict=True):
        text = task.vocab.text_of(toks)
        preds.append(Prediction(e.input, e.output, text, text == e.output, toks, lps, dict(e.meta)))
    return preds
