"""Input distributions a behavior is evaluated under: natural, mechanistic (gibberish), OOD."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from behaviorlab.behaviors.tokens import detokenize
from behaviorlab.errors import BadInput

N_SPECIAL = 3  # <pad>, <bos>, <eos> come first in every task vocabulary


class SamplingTask(Protocol):
    """The part of a task the distributions use."""

    key: str
    vocab: Any

    def sample(self, n: int, seed: int, **ranges: Any) -> Sequence[Any]: ...


def natural(task: SamplingTask, n: int, seed: int, **ranges: Any) -> list[str]:
    """Inputs from the task's own sampler (sizes/depths/edge_fraction passed through)."""
    return [ex.input for ex in task.sample(n, seed, **ranges)]


def mechanistic(task: SamplingTask, n: int, seed: int, min_len: int, max_len: int) -> list[str]:
    """Uniform over ALL token strings of the grammar tokens with length in [min_len, max_len].

    Uniform over strings, not over lengths: a length L is drawn with probability ∝ V^L.
    """
    if not 1 <= min_len <= max_len:
        raise BadInput(f"mechanistic: need 1 <= min_len <= max_len; got {min_len}..{max_len}")
    tokens = list(task.vocab.tokens)[N_SPECIAL:]
    v = len(tokens)
    lengths = np.arange(min_len, max_len + 1)
    logw = lengths * np.log(v)
    w = np.exp(logw - logw.max())
    rng = np.random.default_rng(seed)
    drawn = rng.choice(lengths, size=n, p=w / w.sum())
    return [detokenize([tokens[j] for j in rng.integers(0, v, size=int(L))]) for L in drawn]


def ood(
    task: SamplingTask, n: int, seed: int, *, train_max_size: int, max_size: int | None = None, **ranges: Any
) -> list[str]:
    """Natural inputs strictly larger than the training range (default: up to twice as large)."""
    hi = max_size if max_size is not None else 2 * train_max_size
    return natural(task, n, seed, min_size=train_max_size + 1, max_size=hi, **ranges)
