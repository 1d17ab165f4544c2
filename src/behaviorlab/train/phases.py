"""The loop's parts that do not depend on how many processes train: checks before anything is
written, loop state and its checkpoint, the monitor, metrics and the progress bar."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from behaviorlab.batching import Encoded
from behaviorlab.errors import BadInput
from behaviorlab.evaluate.metrics import accuracy
from behaviorlab.evaluate.predict import predict
from behaviorlab.models import ModelConfig, Seq2SeqModel
from behaviorlab.optim import build_optimizer, optimizer_stats
from behaviorlab.rundir import CHECKPOINTS
from behaviorlab.tasks import Example
from behaviorlab.tasks.base import Learnable
from behaviorlab.track import MetricsJournal
from behaviorlab.train import checkpoint
from behaviorlab.train.config import ExperimentConfig, TrainConfig

WIN_RATE_LOW, WIN_RATE_HIGH = 0.1, 0.5
WIN_RATE_PATIENCE = 3  # consecutive logged steps outside the band before a warning
OPTIMIZER_COUNTERS = ("hessian_updates", "hessian_skipped")


class TrainingFailed(BadInput):
    """The run stopped itself (e.g. a NaN loss); the last good checkpoint is kept."""


def last_checkpoint_step(ckpt_dir: Path) -> int | None:
    """The step of the newest checkpoint, if any."""
    entry = checkpoint.latest_entry(ckpt_dir)
    return None if entry is None else int(entry["step"])


@dataclass
class LoopState:
    """Everything besides weights/optimizer/RNG that a resume must restore exactly."""

    step: int = 0  # number of completed optimizer steps
    metrics_rows: int = 0  # rows in the metrics journal (a resume cuts it back to this many)
    last: dict[str, float | None] = field(default_factory=dict)  # the newest monitor row's losses
    loss_sum: float = 0.0  # running window for the logged train loss
    loss_count: int = 0
    early_stopped: bool = False
    tokens: int = 0
    hessian_stats: dict[str, float] = field(default_factory=dict)  # last estimator update
    # Optimizer counters that live outside its state_dict (Sophia's hessian_updates/skipped).
    optimizer_counters: dict[str, int] = field(default_factory=dict)
    win_rate_outside: int = 0  # consecutive logged steps with Sophia's win rate outside the band


def length_problem(model: ModelConfig, src_len: int, tgt_len: int) -> str | None:
    """Why a model of this config cannot read `src_len` tokens and write `tgt_len` (eos included)."""
    if model.kind == "lstm":
        return None
    if model.kind == "decoder-only":
        total = src_len + tgt_len
        return (
            None
            if total <= model.max_len
            else f"prompt + output = {total} tokens > model.max_len={model.max_len}"
        )
    longest = max(src_len, tgt_len)
    if longest > model.max_len:
        return f"a sequence of {longest} tokens > model.max_len={model.max_len}"
    if model.kind == "encoder-only" and tgt_len > src_len + model.extra_slots:
        return f"an output of {tgt_len} tokens > input {src_len} + model.extra_slots={model.extra_slots}"
    return None


def preflight(cfg: ExperimentConfig, task: Learnable, splits: dict[str, list[Example]]) -> int:
    """Every check that can be made before a run directory is touched; the longest sequence (the
    source plus the target, eos included) in tokens."""
    if not splits.get("train"):
        raise BadInput(f"{cfg.name}: the train split is empty")
    v = task.vocab
    longest = 0
    for name, examples in splits.items():
        for e in examples:
            src, tgt = len(v.tokenize(e.input)), len(v.tokenize(e.output)) + 1
            longest = max(longest, src + tgt)
            problem = length_problem(cfg.model, src, tgt)
            if problem is not None:
                raise BadInput(f"{cfg.name}: split {name!r} input {e.input[:40]!r}: {problem}")
    # Hyperparameters torch rejects (e.g. betas outside [0, 1)) fail here, not mid-run.
    probe = torch.nn.Parameter(torch.zeros(1))
    try:
        build_optimizer(cfg.optim, [probe])
    except (ValueError, RuntimeError) as e:
        raise BadInput(f"{cfg.name}: optimizer {cfg.optim.name} rejects its settings: {e}") from None
    return longest


def curve_splits(cfg: ExperimentConfig, splits: dict[str, list[Example]]) -> list[str]:
    """The splits whose accuracy training logs at every evaluation: `[track] curves`, else every
    split but train and the monitor's (none when the monitor reads only the token loss)."""
    tc, asked = cfg.train, cfg.track.curves
    if asked is None:
        return [n for n in splits if n not in ("train", tc.monitor_split)] if tc.monitor != "loss" else []
    unknown = [n for n in asked if n not in splits]
    if unknown:
        names = ", ".join(unknown)
        raise BadInput(f"{cfg.name}: track.curves names unknown split(s) {names}; splits: {list(splits)}")
    return list(asked)


def _knob(opt: torch.optim.Optimizer) -> tuple[str, float] | None:
    """The hyperparameter that moves Sophia's win rate, and its value (None for other optimizers)."""
    group = opt.param_groups[0]
    for name in ("rho", "gamma"):  # SophiaG clips at rho·bs·h, SophiaH at gamma·h
        if name in group:
            return name, float(group[name])
    return None


def warn_win_rate(opt: torch.optim.Optimizer, st: LoopState) -> None:
    """Warn when Sophia's win rate stays outside the authors' 0.1-0.5 band for long.

    One logged value outside the band is common (h starts at zero; the estimate is noisy), so the
    warning comes once per excursion, after `WIN_RATE_PATIENCE` consecutive logged steps outside.
    Both thresholds clip where |m| ≥ knob·h, so raising rho (G) or gamma (H) raises the win rate.
    """
    win = optimizer_stats(opt).get("win_rate")
    knob = _knob(opt)
    if win is None or knob is None:
        return
    if WIN_RATE_LOW <= win <= WIN_RATE_HIGH:
        st.win_rate_outside = 0
        return
    st.win_rate_outside += 1
    if st.win_rate_outside != WIN_RATE_PATIENCE:
        return
    name, value = knob
    move = "raise" if win < WIN_RATE_LOW else "lower"
    effect = "almost every coordinate is clipped (sign descent)" if win < WIN_RATE_LOW else "few are clipped"
    warnings.warn(
        f"step {st.step}: Sophia win rate {win:.3g} has been outside [{WIN_RATE_LOW}, {WIN_RATE_HIGH}] "
        f"for {WIN_RATE_PATIENCE} logged steps: {effect}; {move} {name} (now {value:g}) to bring it back",
        RuntimeWarning,
        stacklevel=2,
    )


@torch.no_grad()
def monitor_loss(model: Seq2SeqModel, data: Encoded, batch_size: int) -> float:
    """Teacher-forced cross-entropy per target token (eos included, padding not) over `data`."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for lo in range(0, len(data), batch_size):
        src, tin, tout = data.batch(torch.arange(lo, min(lo + batch_size, len(data))))
        logits = model(src, tin)
        total += float(
            F.cross_entropy(logits.flatten(0, 1), tout.flatten(), ignore_index=data.pad_id, reduction="sum")
        )
        count += int((tout != data.pad_id).sum())
    model.train(was_training)
    return total / max(count, 1)


def log_monitor(
    st: LoopState,
    model: Seq2SeqModel,
    task: Learnable,
    monitor: list[Example],
    opt: torch.optim.Optimizer,
    tc: TrainConfig,
    monitor_set: Encoded | None = None,
    curves: dict[str, list[Example]] | None = None,
) -> tuple[float | None, list[dict[str, Any]]]:
    """Monitor accuracy and/or token loss, the early-stop decision, and the metrics rows: the
    monitor split's, then the accuracy of each curve split (in- and out-of-distribution curves)."""
    acc = None
    if tc.monitor != "loss":
        acc = accuracy(predict(model, task, monitor, tc.eval_batch_size))
    model.train()
    row: dict[str, Any] = {}
    if tc.monitor != "accuracy" and monitor_set is not None:
        loss = monitor_loss(model, monitor_set, tc.eval_batch_size)
        row = {"monitor_loss": loss, "monitor_perplexity": math.exp(min(loss, 700.0))}
    stats = {**optimizer_stats(opt), **st.hessian_stats}
    rows = [
        {
            "step": st.step,
            "split": tc.monitor_split,
            "loss": st.loss_sum / max(1, st.loss_count),
            "accuracy": acc,
            "lr": opt.param_groups[0]["lr"],
            **{k: float(v) for k, v in stats.items()},
            **row,
        }
    ]
    for split, examples in (curves or {}).items():
        # Greedy decoding in eval mode draws nothing from the RNG: training goes on unchanged.
        split_acc = accuracy(predict(model, task, examples, tc.eval_batch_size))
        rows.append({"step": st.step, "split": split, "accuracy": split_acc})
    model.train()
    st.last = {"loss": rows[0]["loss"], "monitor_loss": row.get("monitor_loss")}
    st.metrics_rows += len(rows)
    st.loss_sum, st.loss_count = 0.0, 0
    if tc.target_accuracy is not None and acc is not None and acc >= tc.target_accuracy:
        st.early_stopped = True
    return acc, rows


def checkpoint_now(out: Path, model: Seq2SeqModel, opt: torch.optim.Optimizer, st: LoopState) -> None:
    """The metrics journal on disk, then weights, optimizer, RNG and loop state (with the
    journal's row count, so a resume knows which rows are its own)."""
    MetricsJournal(out).flush()
    st.optimizer_counters = {k: getattr(opt, k) for k in OPTIMIZER_COUNTERS if hasattr(opt, k)}
    ck = checkpoint.Checkpoint(
        st.step, model.state_dict(), opt.state_dict(), torch.get_rng_state(), asdict(st)
    )
    checkpoint.save(out / CHECKPOINTS, ck)


def restore(ckpt_dir: Path, model: Seq2SeqModel, opt: torch.optim.Optimizer) -> LoopState:
    """Load the latest checkpoint into model and optimizer and cut the metrics journal back to its
    rows; the loop state to continue from."""
    ck = checkpoint.load(ckpt_dir)
    model.load_state_dict(ck.model)
    opt.load_state_dict(ck.optimizer)
    torch.set_rng_state(ck.rng)
    trainer = dict(ck.trainer)
    journal = MetricsJournal(ckpt_dir.parent)
    if "metrics" in trainer:  # a checkpoint written before the journal held its rows itself
        rows = trainer.pop("metrics")
        journal.truncate(0)
        journal.append(rows)
        trainer["metrics_rows"] = len(rows)
        last = rows[-1] if rows else {}
        trainer["last"] = {"loss": last.get("loss"), "monitor_loss": last.get("monitor_loss")}
    st = LoopState(**trainer)
    journal.truncate(st.metrics_rows)
    for k, v in st.optimizer_counters.items():
        setattr(opt, k, v)
    return st


def progress_bar(enabled: bool) -> Progress:
    """Step bar with loss, monitor accuracy and tokens per second."""
    return Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}", markup=False),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=False,
    )
