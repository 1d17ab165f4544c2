"""The training loop: deterministic, checkpointed, resumable bit-identically, with progress.

One loop for one process and for many: a `Replicas` object (train/replicas.py) says how a batch's
loss is computed across processes (`SingleProcess`, or `DataParallel` in train/distributed.py) and
which process writes files; everything else — data, schedule, optimizer, monitor, checkpoints — is
shared.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from behaviorlab.batching import Encoded, encode_examples
from behaviorlab.errors import BadInput, Interrupted
from behaviorlab.io import atomic_write_json
from behaviorlab.limits import require
from behaviorlab.models import Seq2SeqModel
from behaviorlab.optim import build_estimator, build_optimizer, step_kwargs
from behaviorlab.optim.estimators import HessianEstimator
from behaviorlab.outdir import mark
from behaviorlab.rundir import CHECKPOINTS, CONFIG, ENV, discard, unlock, write_summary
from behaviorlab.tasks import Example
from behaviorlab.tasks.base import Learnable
from behaviorlab.track import MetricsJournal, Tracker, open_tracker
from behaviorlab.train import checkpoint, determinism
from behaviorlab.train.budget import check_run, data_need
from behaviorlab.train.compiled import CompiledForward
from behaviorlab.train.config import ExperimentConfig, resolve_init
from behaviorlab.train.data import make_task, sample, write_data
from behaviorlab.train.init import init_state
from behaviorlab.train.phases import (
    LoopState,
    TrainingFailed,
    checkpoint_now,
    curve_splits,
    last_checkpoint_step,
    log_monitor,
    preflight,
    progress_bar,
    restore,
    warn_win_rate,
)
from behaviorlab.train.replicas import Replicas, SingleProcess
from behaviorlab.train.run import new_model, prepare
from behaviorlab.train.schedule import lr_factor


@dataclass
class Session:
    """Everything one training process holds between steps."""

    cfg: ExperimentConfig
    out: Path
    task: Learnable
    train_set: Encoded
    monitor: list[Example]
    monitor_set: Encoded | None  # the monitor examples encoded, when the token loss is logged
    model: Seq2SeqModel
    net: nn.Module
    opt: torch.optim.Optimizer
    estimator: HessianEstimator | None
    params: list[Tensor]
    base_lrs: list[float]
    st: LoopState
    replicas: Replicas
    compiled: CompiledForward  # the training forward, through torch.compile when asked
    curves: dict[str, list[Example]]  # splits whose accuracy is logged at every evaluation
    journal: MetricsJournal  # metrics.jsonl: every metrics row, appended (rank 0 writes)
    tracker: Tracker  # the optional results sinks ([track] sinks)
    fresh: bool = True  # this process created the run directory (not a resume)

    @property
    def writer(self) -> bool:
        """Only rank 0 writes files."""
        return self.replicas.rank == 0

    @property
    def ckpt_dir(self) -> Path:
        return self.out / CHECKPOINTS


def start(
    cfg: ExperimentConfig,
    out: Path,
    replicas: Replicas,
    *,
    resume: bool,
    force: bool,
    sinks: bool = True,
    allow_long: bool = False,
) -> Session:
    """Check everything checkable (sizes against this machine included), create (or reopen and
    lock) the run directory, build model and optimizer; `sinks=False` leaves the optional results
    sinks closed (a replay sends nothing anywhere). A fresh run that fails before its first step
    leaves nothing behind; a resumed one is left as it was."""
    cfg = resolve_init(cfg)  # a config built in code: pin the base's weights like validate does
    task = make_task(cfg.data)
    need = data_need(cfg.data)
    require(f"train {cfg.name}: data", need, out=out, hint="lower the splits' n", allow_long=allow_long)
    splits = sample(cfg.data)  # a pure function of the config: a resume rebuilds them
    longest = preflight(cfg, task, splits)  # before anything is written
    check_run(cfg, len(task.vocab), longest, out, allow_long=allow_long)
    initial = init_state(cfg, task)
    refusal = None
    if replicas.rank == 0:
        try:
            prepare(out, cfg, resume=resume, force=force)
        except BadInput as e:
            refusal = str(e)
    replicas.agree(refusal)
    try:
        return _open_session(cfg, out, replicas, task, splits, initial, resume=resume, sinks=sinks)
    except BaseException as e:
        if replicas.rank == 0:
            unlock(out) if resume else discard(out)
        if isinstance(e, OSError):
            kept = "the run is as it was" if resume else "nothing was kept"
            raise BadInput(f"{e.filename or out}: {e.strerror or e} while starting the run; {kept}") from None
        raise


def _open_session(
    cfg: ExperimentConfig,
    out: Path,
    replicas: Replicas,
    task: Learnable,
    splits: dict[str, list[Example]],
    initial: dict[str, Tensor] | None,
    *,
    resume: bool,
    sinks: bool,
) -> Session:
    curves = {name: splits[name][: cfg.train.eval_examples] for name in curve_splits(cfg, splits)}
    tc = cfg.train
    determinism.configure(tc.seed, tc.threads)
    if replicas.rank == 0:
        env = determinism.environment(tc.seed, tc.threads)
        if replicas.world > 1:
            env.update(world_size=replicas.world, backend="gloo")
        atomic_write_json(out / ENV, env)
        write_data(cfg.data, splits, out)
    train_set = encode_examples(task.vocab, splits["train"])
    monitor = splits.get(tc.monitor_split, splits["train"])[: tc.eval_examples]
    monitor_set = encode_examples(task.vocab, monitor) if tc.monitor != "accuracy" else None
    model = new_model(cfg, task)  # initialised from the seeded global RNG
    if initial is not None:
        model.load_state_dict(initial)
    opt = build_optimizer(cfg.optim, model.parameters())
    base_lrs = [g["lr"] for g in opt.param_groups]
    params: list[Tensor] = [p for p in model.parameters() if p.requires_grad]
    s = Session(
        cfg,
        out,
        task,
        train_set,
        monitor,
        monitor_set,
        model,
        model,
        opt,
        build_estimator(cfg.optim),
        params,
        base_lrs,
        LoopState(),
        replicas,
        CompiledForward(model, tc.compile),  # evaluation and Sophia's estimates stay eager
        curves,
        MetricsJournal(out),
        Tracker(),
    )
    s.fresh = not resume
    if resume and checkpoint.latest_entry(s.ckpt_dir) is not None:
        s.st = restore(s.ckpt_dir, model, opt)
    elif resume and s.writer:
        s.journal.truncate(0)  # killed before its first checkpoint: its rows start again
    if sinks and s.writer and cfg.track.sinks:
        s.tracker = open_tracker(cfg.track.sinks, out, cfg.name, cfg.track.model_dump())
    s.net = replicas.wrap(model) if not tc.compile else s.compiled.forward  # type: ignore[assignment]
    if s.writer:
        write_summary(
            out, {"kind": "train", "status": "running", "name": cfg.name, "config_digest": cfg.digest()}
        )
    return s


def _batch(s: Session, step: int, stream: int) -> tuple[Tensor, Tensor, Tensor]:
    tc = s.cfg.train
    idx = torch.randint(
        len(s.train_set), (tc.batch_size,), generator=determinism.step_generator(tc.seed, step, stream)
    )
    return s.train_set.batch(idx)


def step(s: Session) -> float:
    """One optimizer step (and a curvature update when due); returns the logged loss."""
    tc, st, pad = s.cfg.train, s.st, s.task.vocab.pad_id
    step = st.step
    factor = lr_factor(step, tc.steps, tc.warmup, tc.schedule, tc.min_lr_ratio)
    for g, base in zip(s.opt.param_groups, s.base_lrs, strict=True):
        g["lr"] = base * factor
    src, tin, tout = _batch(s, step, 0)
    s.compiled.start()
    loss, logged = s.replicas.loss(s.net, src, tin, tout, pad)
    if not torch.isfinite(logged):
        kept = last_checkpoint_step(s.ckpt_dir)
        note = mark(s.out, "failed", f"non-finite loss at step {step}") if s.writer else ""
        raise TrainingFailed(
            f"{s.out}: loss became {logged.item()} at step {step}; last good checkpoint: "
            f"{'none yet' if kept is None else f'step {kept}'}{note}"
        )
    s.opt.zero_grad(set_to_none=True)
    loss.backward()
    s.compiled.stop()
    if tc.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(s.params, tc.grad_clip)
    n_tokens = int((tout != pad).sum())
    if hasattr(s.opt, "track_win_rate"):  # Sophia: measure clipping only on logged steps (cost)
        s.opt.track_win_rate = (step + 1) % tc.eval_every == 0 or step + 1 == tc.steps
    s.opt.step(**step_kwargs(s.cfg.optim, n_tokens))
    if s.estimator is not None and s.estimator.due(step):
        hs, hi, ho = _batch(s, step, 1)

        def logits_fn(hs: Tensor = hs, hi: Tensor = hi, ho: Tensor = ho) -> tuple[Tensor, Tensor]:
            mask = ho != pad
            return s.model(hs, hi)[mask], ho[mask]

        gen = determinism.step_generator(tc.seed, step, 2)
        st.hessian_stats = dict(s.estimator.update(s.opt, s.params, logits_fn, gen))
        s.opt.zero_grad(set_to_none=True)
    st.step += 1
    st.tokens += n_tokens
    value = float(logged.item())
    st.loss_sum += value
    st.loss_count += 1
    return value


def after_step(s: Session) -> float | None:
    """Log the monitor split when due and write a checkpoint when due; the monitor accuracy."""
    tc, st = s.cfg.train, s.st
    acc = None
    if st.step % tc.eval_every == 0 or st.step == tc.steps:
        warn_win_rate(s.opt, st)
        # Weights are identical on every rank, so every rank computes the same accuracy and
        # takes the same early-stop decision without further communication.
        acc, rows = log_monitor(st, s.model, s.task, s.monitor, s.opt, tc, s.monitor_set, s.curves)
        if s.writer:
            s.journal.append(rows)
            for row in rows:
                values = {k: v for k, v in row.items() if k not in ("step", "split")}
                s.tracker.log_scalars(values, st.step, prefix=str(row["split"]))
    if s.writer and st.step % tc.checkpoint_every == 0:
        checkpoint_now(s.out, s.model, s.opt, st)
    return acc


def finish(s: Session, seconds: float, tokens0: int, last_acc: float | None) -> dict[str, Any]:
    """The final checkpoint, metrics and summary (written by rank 0), returned to every rank."""
    tc, st = s.cfg.train, s.st
    finished = st.step >= tc.steps or st.early_stopped
    summary: dict[str, Any] = {
        "kind": "train",
        "status": "trained" if finished else "stopped",
        "name": s.cfg.name,
        "task": s.task.key,
        "config_digest": s.cfg.digest(),
        "steps": st.step,
        "tokens": st.tokens,
        "early_stopped": st.early_stopped,
        "monitor_accuracy": last_acc,
        "train_seconds_this_session": round(seconds, 3),
        "compile_seconds": s.compiled.summary(),
        "tokens_per_second": round((st.tokens - tokens0) / seconds, 1) if seconds > 0 else None,
        "final_loss": st.last.get("loss"),
    }
    if st.last.get("monitor_loss") is not None:
        summary["final_monitor_loss"] = st.last["monitor_loss"]
    if s.replicas.world > 1:
        summary["world_size"] = s.replicas.world
    if s.writer:
        checkpoint_now(s.out, s.model, s.opt, st)
        s.journal.write_parquet()
        write_summary(s.out, summary)
        s.tracker.log_scalars({k: v for k, v in summary.items() if k != "steps"}, st.step, prefix="summary")
        s.tracker.log_artifact(s.out / CONFIG)
    return summary


def run(
    s: Session,
    *,
    progress: bool = True,
    stop_after: int | None = None,
    on_step: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Step until the budget, an early stop or `stop_after`; then finish. A failure at run time
    marks the run failed (or interrupted) with its reason; the last good checkpoint stays."""
    try:
        return _guarded(s, progress, stop_after, on_step)
    except BaseException:
        if s.writer and s.out.is_dir():
            s.journal.write_parquet_quietly()  # a failed or stopped run keeps its metrics table
        raise
    finally:
        s.tracker.close()
        if s.writer:
            unlock(s.out)


def _guarded(
    s: Session, progress: bool, stop_after: int | None, on_step: Callable[[int], None] | None
) -> dict[str, Any]:
    """`_steps`, each failure at run time marking the run failed (or interrupted) with its reason."""
    try:
        return _steps(s, progress, stop_after, on_step)
    except KeyboardInterrupt:
        kept = last_checkpoint_step(s.ckpt_dir)
        note = mark(s.out, "interrupted", f"interrupted at step {s.st.step}") if s.writer else ""
        raise Interrupted(s.out, s.st.step, kept, note) from None
    except TrainingFailed:
        raise
    except OSError as e:  # a full disk, a vanished directory
        kept = last_checkpoint_step(s.ckpt_dir)
        where = f"{e.filename or s.out}: {e.strerror or e} at step {s.st.step}"
        if s.writer and s.fresh and kept is None:  # nothing a resume could use: leave nothing
            discard(s.out)
            raise TrainingFailed(f"{where}; no checkpoint yet, so nothing was kept") from None
        note = mark(s.out, "failed", f"{type(e).__name__}: {e}") if s.writer else ""
        raise TrainingFailed(f"{where}; last good checkpoint: step {kept}{note}") from None
    except (RuntimeError, ValueError, MemoryError) as e:  # torch rejecting something only at run time
        reason = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
        note = mark(s.out, "failed", reason) if s.writer else ""
        raise TrainingFailed(f"{s.out}: training failed at step {s.st.step}: {reason}{note}") from None


def _steps(
    s: Session, progress: bool, stop_after: int | None, on_step: Callable[[int], None] | None
) -> dict[str, Any]:
    tc, st = s.cfg.train, s.st
    s.model.train()
    t0, tokens0 = time.perf_counter(), st.tokens
    last_acc: float | None = None
    with progress_bar(progress and s.writer) as bar:
        bar_task = bar.add_task(s.cfg.name, total=tc.steps, completed=st.step, stats="")
        while st.step < tc.steps and not st.early_stopped:
            if stop_after is not None and st.step >= stop_after:
                break
            loss = step(s)
            acc = after_step(s)
            last_acc = acc if acc is not None else last_acc
            elapsed = time.perf_counter() - t0
            tps = (st.tokens - tokens0) / elapsed if elapsed > 0 else 0.0
            acc_text = f" acc {last_acc:.3f}" if last_acc is not None else ""
            bar.update(bar_task, completed=st.step, stats=f"loss {loss:.4f}{acc_text} {tps:,.0f} tok/s")
            if on_step is not None:
                on_step(st.step)
    return finish(s, time.perf_counter() - t0, tokens0, last_acc)


def train(
    cfg: ExperimentConfig,
    out: Path,
    *,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    on_step: Callable[[int], None] | None = None,
    sinks: bool = True,
    allow_long: bool = False,
) -> dict[str, Any]:
    """Train a run into `out` in this process; returns the summary. `stop_after` ends early;
    `sinks=False` sends nothing to the config's results sinks (a replay); `allow_long` starts a
    run whose estimated time is over the limit (limits.py)."""
    s = start(cfg, out, SingleProcess(), resume=resume, force=force, sinks=sinks, allow_long=allow_long)
    return run(s, progress=progress, stop_after=stop_after, on_step=on_step)
