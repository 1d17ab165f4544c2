"""The training loop: deterministic, checkpointed, resumable bit-identically, with progress."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import torch
import torch.nn.functional as F
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from torch import Tensor

from behaviorlab import tasks
from behaviorlab.batching import Encoded, encode_examples
from behaviorlab.errors import BadInput
from behaviorlab.evaluate import predict
from behaviorlab.evaluate.metrics import accuracy
from behaviorlab.io import atomic_write, atomic_write_json
from behaviorlab.models import Seq2SeqModel
from behaviorlab.optim import build_estimator, build_optimizer, optimizer_stats, step_kwargs
from behaviorlab.tasks import Example, Task
from behaviorlab.tasks.dataset import build_splits, write_splits
from behaviorlab.train import checkpoint, determinism
from behaviorlab.train.compiled import CompiledForward
from behaviorlab.train.config import ExperimentConfig, TrainConfig
from behaviorlab.train.rundir import (
    ENV,
    METRICS,
    new_model,
    prepare,
    write_summary,
)
from behaviorlab.train.schedule import lr_factor

WIN_RATE_LOW, WIN_RATE_HIGH = 0.1, 0.5
OPTIMIZER_COUNTERS = ("hessian_updates", "hessian_skipped")


class TrainingFailed(BadInput):
    """The run stopped itself (e.g. a NaN loss); the last good checkpoint is kept."""


@dataclass
class LoopState:
    """Everything besides weights/optimizer/RNG that a resume must restore exactly."""

    step: int = 0  # number of completed optimizer steps
    metrics: list[dict[str, Any]] = field(default_factory=list)
    loss_sum: float = 0.0  # running window for the logged train loss
    loss_count: int = 0
    early_stopped: bool = False
    tokens: int = 0
    hessian_stats: dict[str, float] = field(default_factory=dict)  # last estimator update
    # Optimizer counters that live outside its state_dict (Sophia's hessian_updates/skipped).
    optimizer_counters: dict[str, int] = field(default_factory=dict)


def _loss(model: Callable[[Tensor, Tensor], Tensor], src: Tensor, tin: Tensor, tout: Tensor) -> Tensor:
    """Mean cross-entropy on output tokens only (padding ignored)."""
    logits = model(src, tin)  # [B, T, V]
    return F.cross_entropy(logits.flatten(0, 1), tout.flatten(), ignore_index=0)


def _warn_win_rate(stats: dict[str, float], step: int) -> None:
    """Sophia's authors keep the unclipped fraction in 0.1-0.5; outside it, rho/gamma needs tuning."""
    win = stats.get("win_rate")
    if win is not None and not (WIN_RATE_LOW <= win <= WIN_RATE_HIGH):
        hint = (
            "raise rho (sophia-g) / lower gamma (sophia-h)"
            if win < WIN_RATE_LOW
            else "lower rho / raise gamma"
        )
        warnings.warn(
            f"step {step}: Sophia win rate {win:.3f} outside [{WIN_RATE_LOW}, {WIN_RATE_HIGH}]; {hint}",
            RuntimeWarning,
            stacklevel=2,
        )


def log_monitor(
    st: LoopState,
    model: Seq2SeqModel,
    task: Task,
    monitor: list[Example],
    opt: torch.optim.Optimizer,
    tc: TrainConfig,
) -> float | None:
    """Accuracy on the monitor examples, one metrics row, and the early-stop decision."""
    acc = accuracy(predict(model, task, monitor, tc.eval_batch_size))
    model.train()
    stats = {**optimizer_stats(opt), **st.hessian_stats}
    st.metrics.append(
        {
            "step": st.step,
            "split": tc.monitor_split,
            "loss": st.loss_sum / max(1, st.loss_count),
            "accuracy": acc,
            "lr": opt.param_groups[0]["lr"],
            **{k: float(v) for k, v in stats.items()},
        }
    )
    st.loss_sum, st.loss_count = 0.0, 0
    if tc.target_accuracy is not None and acc is not None and acc >= tc.target_accuracy:
        st.early_stopped = True
    return acc


def _save(ckpt_dir: Path, model: Seq2SeqModel, opt: torch.optim.Optimizer, st: LoopState) -> None:
    trainer = {
        "step": st.step,
        "metrics": st.metrics,
        "loss_sum": st.loss_sum,
        "loss_count": st.loss_count,
        "early_stopped": st.early_stopped,
        "tokens": st.tokens,
        "hessian_stats": st.hessian_stats,
        "optimizer_counters": {k: getattr(opt, k) for k in OPTIMIZER_COUNTERS if hasattr(opt, k)},
    }
    checkpoint.save(
        ckpt_dir,
        checkpoint.Checkpoint(st.step, model.state_dict(), opt.state_dict(), torch.get_rng_state(), trainer),
    )


def _write_metrics(out: Path, rows: list[dict[str, Any]]) -> None:
    table = pa.Table.from_pylist(rows) if rows else pa.table({"step": pa.array([], pa.int64())})
    atomic_write(out / METRICS, lambda tmp: pq.write_table(table, tmp))


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=False,
    )


def train(
    cfg: ExperimentConfig,
    out: Path,
    *,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    on_step: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train a run into `out`; returns the summary. `stop_after` ends early (tests of resume)."""
    task = tasks.get(cfg.data.task, **cfg.data.options)
    prepare(out, cfg, resume=resume, force=force)
    tc = cfg.train
    determinism.configure(tc.seed, tc.threads)
    atomic_write_json(out / ENV, determinism.environment(tc.seed, tc.threads))

    # Splits are a pure function of the config, so a resume rebuilds them instead of trusting
    # files a killed process may have left behind.
    splits = build_splits(cfg.data)
    write_splits(splits, out / "data", cfg.data, force=True)
    train_set: Encoded = encode_examples(task.vocab, splits["train"])
    if len(train_set) == 0:
        raise BadInput(f"{cfg.name}: the train split is empty")
    monitor = splits.get(tc.monitor_split, splits["train"])[: tc.eval_examples]

    model = new_model(cfg, task)  # initialised from the seeded global RNG
    opt = build_optimizer(cfg.optim, model.parameters())
    estimator = build_estimator(cfg.optim)
    base_lrs = [g["lr"] for g in opt.param_groups]
    params: list[Tensor] = [p for p in model.parameters() if p.requires_grad]
    compiled = CompiledForward(model, tc.compile)  # evaluation and Sophia's estimates stay eager
    st = LoopState()
    ckpt_dir = out / "checkpoints"
    if resume and checkpoint.latest_entry(ckpt_dir) is not None:
        ck = checkpoint.load(ckpt_dir)
        model.load_state_dict(ck.model)
        opt.load_state_dict(ck.optimizer)
        torch.set_rng_state(ck.rng)
        st = LoopState(**ck.trainer)
        for k, v in st.optimizer_counters.items():
            setattr(opt, k, v)
    write_summary(out, {"status": "running", "name": cfg.name, "config_digest": cfg.digest()})

    model.train()
    t0, tokens0 = time.perf_counter(), st.tokens
    last_acc: float | None = None
    with _progress(progress) as bar:
        bar_task = bar.add_task(cfg.name, total=tc.steps, completed=st.step, stats="")
        while st.step < tc.steps and not st.early_stopped:
            if stop_after is not None and st.step >= stop_after:
                break
            step = st.step
            factor = lr_factor(step, tc.steps, tc.warmup, tc.schedule, tc.min_lr_ratio)
            for g, base in zip(opt.param_groups, base_lrs, strict=True):
                g["lr"] = base * factor
            idx = torch.randint(
                len(train_set),
                (tc.batch_size,),
                generator=determinism.step_generator(tc.seed, step, 0),
            )
            src, tin, tout = train_set.batch(idx)
            compiled.start()
            loss = _loss(compiled.forward, src, tin, tout)
            if not torch.isfinite(loss):
                last = checkpoint.latest_entry(ckpt_dir)
                kept = f"last good checkpoint: step {last['step']}" if last else "no checkpoint yet"
                write_summary(out, {"status": "failed", "error": f"non-finite loss at step {step}"})
                raise TrainingFailed(f"{out}: loss became {loss.item()} at step {step}; {kept}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            compiled.stop()
            if tc.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, tc.grad_clip)
            n_tokens = int((tout != 0).sum())
            if hasattr(opt, "track_win_rate"):  # Sophia: measure clipping only on logged steps (cost)
                opt.track_win_rate = (step + 1) % tc.eval_every == 0 or step + 1 == tc.steps
            opt.step(**step_kwargs(cfg.optim, n_tokens))
            if estimator is not None and estimator.due(step):
                hidx = torch.randint(
                    len(train_set),
                    (tc.batch_size,),
                    generator=determinism.step_generator(tc.seed, step, 1),
                )
                hs, hi, ho = train_set.batch(hidx)

                def logits_fn(hs: Tensor = hs, hi: Tensor = hi, ho: Tensor = ho) -> tuple[Tensor, Tensor]:
                    mask = ho != 0
                    return model(hs, hi)[mask], ho[mask]

                gen = determinism.step_generator(tc.seed, step, 2)
                st.hessian_stats = dict(estimator.update(opt, params, logits_fn, gen))
                opt.zero_grad(set_to_none=True)
            st.step += 1
            st.tokens += n_tokens
            st.loss_sum += float(loss.item())
            st.loss_count += 1
            if st.step % tc.eval_every == 0 or st.step == tc.steps:
                _warn_win_rate(optimizer_stats(opt), st.step)
                last_acc = log_monitor(st, model, task, monitor, opt, tc)
            if st.step % tc.checkpoint_every == 0:
                _save(ckpt_dir, model, opt, st)
                _write_metrics(out, st.metrics)
            elapsed = time.perf_counter() - t0
            tps = (st.tokens - tokens0) / elapsed if elapsed > 0 else 0.0
            acc_text = f" acc {last_acc:.3f}" if last_acc is not None else ""
            bar.update(
                bar_task,
                completed=st.step,
                stats=f"loss {loss.item():.4f}{acc_text} {tps:,.0f} tok/s",
            )
            if on_step is not None:
                on_step(st.step)
    _save(ckpt_dir, model, opt, st)
    _write_metrics(out, st.metrics)
    elapsed = time.perf_counter() - t0
    finished = st.step >= tc.steps or st.early_stopped
    summary: dict[str, Any] = {
        "status": "trained" if finished else "stopped",
        "name": cfg.name,
        "task": task.key,
        "config_digest": cfg.digest(),
        "steps": st.step,
        "early_stopped": st.early_stopped,
        "monitor_accuracy": last_acc,
        "train_seconds_this_session": round(elapsed, 3),
        "compile_seconds": compiled.summary(),
        "tokens_per_second": round((st.tokens - tokens0) / elapsed, 1) if elapsed > 0 else None,
        "final_loss": st.metrics[-1]["loss"] if st.metrics else None,
    }
    write_summary(out, summary)
    return summary
