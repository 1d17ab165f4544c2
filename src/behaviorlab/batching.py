"""Examples to padded tensors: y = tokens(output) + [eos], tgt_in = [bos] + y[:-1]."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from behaviorlab.tasks import Example
from behaviorlab.tasks.tokenize import Vocab


@dataclass(frozen=True)
class Encoded:
    """A whole split as padded id tensors, ready to index batches from."""

    src: Tensor  # [N, S] long, right-padded
    tgt_in: Tensor  # [N, T] long, [bos] + y[:-1]
    tgt_out: Tensor  # [N, T] long, y = output ids + [eos], pad after
    pad_id: int

    def __len__(self) -> int:
        return int(self.src.shape[0])

    def batch(self, idx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Rows `idx`, trimmed to the longest real sequence in the batch (saves compute)."""
        src, tin, tout = self.src[idx], self.tgt_in[idx], self.tgt_out[idx]
        s = max(1, int((src != self.pad_id).sum(1).max()))  # an empty prompt keeps one pad column
        t = int((tout != self.pad_id).sum(1).max())
        return src[:, :s], tin[:, :t], tout[:, :t]


def pad(rows: Sequence[Sequence[int]], pad_id: int, width: int | None = None) -> Tensor:
    """Right-pad integer rows into a [N, width] long tensor."""
    width = width or max((len(r) for r in rows), default=1)
    out = torch.full((len(rows), max(width, 1)), pad_id, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(list(r), dtype=torch.long)
    return out


def encode_sources(vocab: Vocab, inputs: Sequence[str]) -> Tensor:
    """Inputs as a [N, S] right-padded id tensor."""
    return pad([vocab.encode(x) for x in inputs], vocab.pad_id)


def encode_examples(vocab: Vocab, examples: Sequence[Example]) -> Encoded:
    """Encode a split for teacher-forced training."""
    ys = [vocab.encode(e.output) + [vocab.eos_id] for e in examples]
    tin = [[vocab.bos_id] + y[:-1] for y in ys]
    return Encoded(
        src=encode_sources(vocab, [e.input for e in examples]),
        tgt_in=pad(tin, vocab.pad_id),
        tgt_out=pad(ys, vocab.pad_id),
        pad_id=vocab.pad_id,
    )
