"""How one optimizer step's loss is computed across processes, and which process writes files:
`SingleProcess` here, `DataParallel` in train/distributed.py; the loop (loop.py) is the same."""

from __future__ import annotations

from typing import Protocol

import torch.nn.functional as F
from torch import Tensor, nn

from behaviorlab.errors import BadInput
from behaviorlab.models import Seq2SeqModel


class Replicas(Protocol):
    """How one optimizer step's loss is computed across processes, and who writes files."""

    rank: int
    world: int

    def wrap(self, model: Seq2SeqModel) -> nn.Module:
        """The module to run forward through (DDP in many processes)."""
        ...

    def loss(
        self, net: nn.Module, src: Tensor, tin: Tensor, tout: Tensor, pad_id: int
    ) -> tuple[Tensor, Tensor]:
        """(loss to backpropagate, the global mean token loss for logging) for the global batch."""
        ...

    def agree(self, refusal: str | None) -> None:
        """Raise BadInput on every process when the writer refused (one clean error)."""
        ...


class SingleProcess:
    """The whole batch in this process."""

    rank, world = 0, 1

    def wrap(self, model: Seq2SeqModel) -> nn.Module:
        """The model itself."""
        return model

    def loss(
        self, net: nn.Module, src: Tensor, tin: Tensor, tout: Tensor, pad_id: int
    ) -> tuple[Tensor, Tensor]:
        """Mean cross-entropy on output tokens only (padding ignored)."""
        logits = net(src, tin)  # [B, T, V]
        loss = F.cross_entropy(logits.flatten(0, 1), tout.flatten(), ignore_index=pad_id)
        return loss, loss.detach()

    def agree(self, refusal: str | None) -> None:
        """Nothing to agree with."""
        if refusal is not None:
            raise BadInput(refusal)
