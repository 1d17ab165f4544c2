"""One run across processes with DistributedDataParallel (gloo, CPU); same run directory as `train`.

Every rank draws the same global batch (cfg.train.batch_size, per-step generator) and takes the
rows `rank::world`. Each rank's loss is its token-summed cross-entropy divided by the global token
count, times world size (DDP averages gradients), so the gradient is exactly the global mean's and
the loss curve matches single-process `train` up to float summation order. Rank 0 writes files.

    torchrun --nproc_per_node 2 -m behaviorlab.train.distributed CONFIG --out DIR
    python -m behaviorlab.train.distributed CONFIG --out DIR --nproc 2   # spawns local workers
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Annotated, Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
import typer
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel

from behaviorlab import tasks
from behaviorlab.batching import encode_examples
from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json
from behaviorlab.optim import build_estimator, build_optimizer, step_kwargs
from behaviorlab.tasks.dataset import build_splits, write_splits
from behaviorlab.train import checkpoint, determinism
from behaviorlab.train.config import ExperimentConfig, load_config
from behaviorlab.train.loop import LoopState, _save, _write_metrics, log_monitor
from behaviorlab.train.rundir import ENV, SUMMARY, new_model, prepare, write_summary
from behaviorlab.train.schedule import lr_factor


def _global_loss(model: torch.nn.Module, src: Tensor, tin: Tensor, tout: Tensor, n_global: int) -> Tensor:
    """This shard's summed token cross-entropy over the global token count (a slice of the mean)."""
    logits = model(src, tin)
    return F.cross_entropy(logits.flatten(0, 1), tout.flatten(), ignore_index=0, reduction="sum") / n_global


def check_supported(cfg: ExperimentConfig, world: int) -> None:
    """Refuse configs this trainer cannot run exactly (before any process starts)."""
    tc = cfg.train
    if build_estimator(cfg.optim) is not None:
        raise BadInput(f"{cfg.name}: distributed training supports optimizers without a Hessian estimator")
    if tc.compile:
        raise BadInput(f"{cfg.name}: distributed training runs eager; set train.compile = false")
    if tc.batch_size < world:
        raise BadInput(f"{cfg.name}: train.batch_size {tc.batch_size} is smaller than {world} processes")


def train_rank(
    cfg: ExperimentConfig, out: Path, *, resume: bool = False, force: bool = False
) -> dict[str, Any]:
    """The loop on one rank of an initialised gloo process group; rank 0 writes the run dir."""
    rank, world = dist.get_rank(), dist.get_world_size()
    tc = cfg.train
    check_supported(cfg, world)
    task = tasks.get(cfg.data.task, **cfg.data.options)
    refusal: list[str | None] = [None]
    if rank == 0:
        try:
            prepare(out, cfg, resume=resume, force=force)
        except BadInput as e:
            refusal[0] = str(e)
    # Every rank waits for rank 0's verdict, so a refused run directory is one clean error.
    dist.broadcast_object_list(refusal, src=0)
    if refusal[0] is not None:
        raise BadInput(refusal[0])
    determinism.configure(tc.seed, tc.threads)
    splits = build_splits(cfg.data)
    if rank == 0:
        env = {
            **determinism.environment(tc.seed, tc.threads),
            "world_size": world,
            "backend": "gloo",
        }
        atomic_write_json(out / ENV, env)
        write_splits(splits, out / "data", cfg.data, force=True)
    train_set = encode_examples(task.vocab, splits["train"])
    monitor = splits.get(tc.monitor_split, splits["train"])[: tc.eval_examples]
    model = new_model(cfg, task)
    opt = build_optimizer(cfg.optim, model.parameters())
    base_lrs = [g["lr"] for g in opt.param_groups]
    params = [p for p in model.parameters() if p.requires_grad]
    st, ckpt_dir = LoopState(), out / "checkpoints"
    if resume and checkpoint.latest_entry(ckpt_dir) is not None:
        ck = checkpoint.load(ckpt_dir)
        model.load_state_dict(ck.model)
        opt.load_state_dict(ck.optimizer)
        torch.set_rng_state(ck.rng)
        st = LoopState(**ck.trainer)
    ddp = DistributedDataParallel(model)
    if rank == 0:
        write_summary(out, {"status": "running", "name": cfg.name, "config_digest": cfg.digest()})
    t0, tokens0, last_acc = time.perf_counter(), st.tokens, None
    model.train()
    while st.step < tc.steps and not st.early_stopped:
        step = st.step
        factor = lr_factor(step, tc.steps, tc.warmup, tc.schedule, tc.min_lr_ratio)
        for g, base in zip(opt.param_groups, base_lrs, strict=True):
            g["lr"] = base * factor
        gen = determinism.step_generator(tc.seed, step, 0)
        idx = torch.randint(len(train_set), (tc.batch_size,), generator=gen)
        src, tin, tout = train_set.batch(idx)  # the global batch, trimmed as in `train`
        n_tokens = int((tout != 0).sum())
        shard = slice(rank, None, world)
        loss = _global_loss(ddp, src[shard], tin[shard], tout[shard], n_tokens)
        opt.zero_grad(set_to_none=True)
        (loss * world).backward()  # DDP divides the summed gradients by world size
        if tc.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, tc.grad_clip)
        opt.step(**step_kwargs(cfg.optim, n_tokens))
        total = loss.detach().clone()
        dist.all_reduce(total)  # the global mean loss, for logging and the NaN check
        if not torch.isfinite(total):
            if rank == 0:
                write_summary(out, {"status": "failed", "error": f"non-finite loss at step {step}"})
            raise BadInput(f"{out}: loss became {total.item()} at step {step}")
        st.step += 1
        st.tokens += n_tokens
        st.loss_sum += float(total.item())
        st.loss_count += 1
        if st.step % tc.eval_every == 0 or st.step == tc.steps:
            # Weights are identical on every rank, so every rank computes the same accuracy and
            # takes the same early-stop decision without further communication.
            last_acc = log_monitor(st, model, task, monitor, opt, tc)
        if rank == 0 and st.step % tc.checkpoint_every == 0:
            _save(ckpt_dir, model, opt, st)
            _write_metrics(out, st.metrics)
    elapsed = time.perf_counter() - t0
    summary: dict[str, Any] = {
        "status": "trained",
        "name": cfg.name,
        "task": task.key,
        "config_digest": cfg.digest(),
        "steps": st.step,
        "early_stopped": st.early_stopped,
        "monitor_accuracy": last_acc,
        "world_size": world,
        "train_seconds_this_session": round(elapsed, 3),
        "tokens_per_second": round((st.tokens - tokens0) / elapsed, 1) if elapsed > 0 else None,
        "final_loss": st.metrics[-1]["loss"] if st.metrics else None,
    }
    if rank == 0:
        _save(ckpt_dir, model, opt, st)
        _write_metrics(out, st.metrics)
        write_summary(out, summary)
    dist.barrier()
    return summary


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawned(rank: int, world: int, port: int, cfg_json: str, out: str, resume: bool, force: bool) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        train_rank(ExperimentConfig.model_validate_json(cfg_json), Path(out), resume=resume, force=force)
    finally:
        dist.destroy_process_group()


def train_distributed(
    cfg: ExperimentConfig, out: Path, *, nproc: int = 2, resume: bool = False, force: bool = False
) -> dict[str, Any]:
    """Spawn `nproc` local worker processes (gloo) to train one run; returns its summary."""
    import torch.multiprocessing as tmp

    check_supported(cfg, nproc)
    args = (nproc, _free_port(), cfg.model_dump_json(), str(out), resume, force)
    try:
        tmp.spawn(_spawned, args=args, nprocs=nproc, join=True)
    except tmp.ProcessRaisedException as e:
        last = str(e).strip().splitlines()[-1]
        if last.startswith("behaviorlab.errors.BadInput: "):  # a worker's bad input stays bad input
            raise BadInput(last.split(": ", 1)[1]) from None
        raise
    return dict(json.loads((out / SUMMARY).read_text()))


def main(
    config: Annotated[Path, typer.Argument(help="Experiment TOML.")],
    out: Annotated[Path, typer.Option("--out", help="Run directory to write.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override, e.g. optim.lr=3e-4.")] = None,
    nproc: Annotated[int, typer.Option(help="Workers to spawn when not under torchrun.")] = 2,
    resume: Annotated[bool, typer.Option(help="Continue from the last checkpoint.")] = False,
    force: Annotated[bool, typer.Option(help="Replace an existing run directory.")] = False,
) -> None:
    """Train one run with DistributedDataParallel; under torchrun, join its process group."""
    from behaviorlab.cli._common import fail

    try:
        cfg = load_config(config, set_ or [])
        if "RANK" in os.environ:  # launched by torchrun: env:// rendezvous
            dist.init_process_group("gloo")
            try:
                train_rank(cfg, out, resume=resume, force=force)
            finally:
                dist.destroy_process_group()
        else:
            train_distributed(cfg, out, nproc=nproc, resume=resume, force=force)
    except BadInput as e:
        raise fail(e.one_line()) from None


if __name__ == "__main__":
    typer.run(main)
