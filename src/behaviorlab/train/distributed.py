"""One run across processes with DistributedDataParallel (gloo, CPU): the same loop and run
directory as single-process training, with `DataParallel` computing each step's loss.

Every rank draws the same global batch (cfg.train.batch_size, per-step generator) and takes the
rows `rank::world`. Each rank's loss is its token-summed cross-entropy divided by the global token
count, times world size (DDP averages gradients), so the gradient is exactly the global mean's and
the loss curve matches single-process training up to float summation order. Rank 0 writes files.

    behaviorlab train CONFIG --out DIR --nproc 2          # spawns local workers
    torchrun --nproc_per_node 2 -m behaviorlab train CONFIG --out DIR   # joins torchrun's group
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from behaviorlab.errors import BadInput
from behaviorlab.limits import WORKER_BYTES, Need, require
from behaviorlab.models import Seq2SeqModel
from behaviorlab.optim import build_estimator
from behaviorlab.rundir import SUMMARY
from behaviorlab.train.budget import run_need
from behaviorlab.train.config import ExperimentConfig
from behaviorlab.train.loop import run, start


class DataParallel:
    """This process's shard of the global batch, gradients averaged by DDP."""

    def __init__(self) -> None:
        self.rank, self.world = dist.get_rank(), dist.get_world_size()

    def wrap(self, model: Seq2SeqModel) -> nn.Module:
        """The model under DDP (gradients all-reduced in backward)."""
        return DistributedDataParallel(model)

    def loss(
        self, net: nn.Module, src: Tensor, tin: Tensor, tout: Tensor, pad_id: int
    ) -> tuple[Tensor, Tensor]:
        """(this shard's slice of the global mean × world, the global mean loss)."""
        n_global = int((tout != pad_id).sum())
        shard = slice(self.rank, None, self.world)
        logits = net(src[shard], tin[shard])  # [B/world, T, V]
        part = (
            F.cross_entropy(logits.flatten(0, 1), tout[shard].flatten(), ignore_index=pad_id, reduction="sum")
            / n_global
        )
        total = part.detach().clone()
        dist.all_reduce(total)  # the global mean, for logging and the NaN check on every rank
        return part * self.world, total  # DDP divides the summed gradients by world size

    def agree(self, refusal: str | None) -> None:
        """Every rank waits for rank 0's verdict on the run directory."""
        box: list[str | None] = [refusal]
        dist.broadcast_object_list(box, src=0)
        if box[0] is not None:
            raise BadInput(box[0])


def check_supported(cfg: ExperimentConfig, world: int) -> None:
    """Refuse configs this trainer cannot run exactly (before any process starts)."""
    if build_estimator(cfg.optim) is not None:
        raise BadInput(f"{cfg.name}: distributed training supports optimizers without a Hessian estimator")
    if cfg.train.compile:
        raise BadInput(f"{cfg.name}: distributed training runs eager; set train.compile = false")
    if cfg.train.batch_size < world:
        raise BadInput(
            f"{cfg.name}: train.batch_size {cfg.train.batch_size} is smaller than {world} processes"
        )


def train_rank(
    cfg: ExperimentConfig, out: Path, *, resume: bool = False, force: bool = False, allow_long: bool = False
) -> dict[str, Any]:
    """The loop on one rank of an initialised gloo process group; rank 0 writes the run dir."""
    check_supported(cfg, dist.get_world_size())
    s = start(cfg, out, DataParallel(), resume=resume, force=force, allow_long=allow_long)
    summary = run(s, progress=False)
    dist.barrier()
    return summary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawned(rank: int, world: int, port: int, cfg_json: str, out: str, resume: bool, force: bool) -> None:
    # (torch's spawn already ends a rank whose parent dies: SIGINT, so the run is marked interrupted)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        # The parent checked the run's time against the limit (and --allow-long) before spawning.
        cfg = ExperimentConfig.model_validate_json(cfg_json)
        train_rank(cfg, Path(out), resume=resume, force=force, allow_long=True)
    finally:
        dist.destroy_process_group()


def under_torchrun() -> bool:
    """True when torchrun started this process (it sets RANK and WORLD_SIZE)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def join_torchrun(
    cfg: ExperimentConfig, out: Path, *, resume: bool = False, force: bool = False, allow_long: bool = False
) -> dict[str, Any]:
    """Join torchrun's process group (env:// rendezvous) and train this rank."""
    dist.init_process_group("gloo")
    try:
        return train_rank(cfg, out, resume=resume, force=force, allow_long=allow_long)
    finally:
        dist.destroy_process_group()


def train_distributed(
    cfg: ExperimentConfig,
    out: Path,
    *,
    nproc: int = 2,
    resume: bool = False,
    force: bool = False,
    allow_long: bool = False,
) -> dict[str, Any]:
    """Spawn `nproc` local worker processes (gloo) to train one run; returns its summary."""
    import torch.multiprocessing as tmp

    if nproc < 1:
        raise BadInput(f"--nproc must be at least 1; got {nproc}")
    check_supported(cfg, nproc)
    require("train --nproc", Need(memory=nproc * WORKER_BYTES, parts=(f"{nproc} processes",)))
    if not allow_long:  # the ranks share the steps but each step waits for all: the one-rank time
        require(f"train {cfg.name}", Need(seconds=run_need(cfg, 1, 1).seconds), hint="lower steps")
    args = (nproc, _free_port(), cfg.model_dump_json(), str(out), resume, force)
    try:
        tmp.spawn(_spawned, args=args, nprocs=nproc, join=True)
    except tmp.ProcessRaisedException as e:
        last = str(e).strip().splitlines()[-1]
        for prefix in ("behaviorlab.errors.BadInput: ", "behaviorlab.train.phases.TrainingFailed: "):
            if last.startswith(prefix):  # a worker's bad input stays bad input
                raise BadInput(last[len(prefix) :]) from None
        raise
    return dict(json.loads((out / SUMMARY).read_text()))
