"""The pre-flight estimate of a training run (the rules are limits.py's): its data before it is
sampled, then — once the longest sequence is known — the model, its optimizer state, activations,
a checkpoint and the steps. Every figure is a floor, so a refusal means the run cannot fit."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from behaviorlab.limits import RUN_FILES_BYTES, WORKER_BYTES, Need, require
from behaviorlab.models import ModelConfig
from behaviorlab.tasks.dataset import DatasetSpec, spec_need
from behaviorlab.tasks.recorded import RecordedSpec
from behaviorlab.train.config import ExperimentConfig

FLOAT = 4  # bytes of a float32
# A ceiling on CPU float32 throughput per thread (multiply-adds count two): no step is faster.
FLOPS_PER_THREAD = 5e10
STEP_SECONDS = 3e-4  # the smallest model's optimizer step (measured: ~1.5 ms)
RECORDED_EXPANSION = 2  # recorded Parquet bytes -> Python strings in memory, at the least


def data_need(data: DatasetSpec | RecordedSpec) -> Need:
    """What reading or sampling the run's data needs."""
    if isinstance(data, DatasetSpec):
        return spec_need(data)
    size = sum(Path(f).stat().st_size for f in data.files.values() if Path(f).is_file())
    return Need(memory=size * RECORDED_EXPANSION, disk=size, parts=(f"{len(data.files)} recorded files",))


def model_need(model: ModelConfig, vocab: int, *, states: int = 4) -> tuple[Need, int]:
    """(memory of the weights, gradients and `states - 2` optimizer moments; the parameter count)."""
    params, positions = model.size_estimate(vocab)
    memory = FLOAT * (params * states + positions)
    return Need(memory=memory, parts=(f"{params:,} parameters",)), params


def fit_need(
    model: ModelConfig,
    vocab: int,
    longest: int,
    *,
    steps: int,
    batch_size: int,
    eval_batch_size: int = 0,
    threads: int = 1,
    states: int = 4,
) -> Need:
    """Training `model` for `steps` on sequences of `longest` tokens: memory of weights, gradients
    and optimizer moments (`states` copies in all) and one step's activations; disk of a
    checkpoint; the steps' time."""
    need, params = model_need(model, vocab, states=states)
    t = max(1, min(longest, model.max_len) if model.kind != "lstm" else longest)
    layers = model.enc_layers + model.dec_layers
    # One step keeps, per layer, at least the residual stream, the attention and MLP outputs and
    # the heads' score matrices, and the logits (with their gradient) at the end.
    widths = 3 * model.d_model + model.d_ff
    scores = 0 if model.kind == "lstm" else model.n_heads * t
    activations = FLOAT * max(batch_size, eval_batch_size) * t * (layers * (widths + scores) + 2 * vocab)
    checkpoint = FLOAT * params * (states - 1)  # weights and optimizer moments
    flops = 6 * params * batch_size * t  # forward and backward, two per multiply-add
    seconds = steps * (STEP_SECONDS + flops / (FLOPS_PER_THREAD * threads))
    return Need(
        memory=need.memory + activations,
        disk=checkpoint + RUN_FILES_BYTES,
        seconds=seconds,
        parts=(*need.parts, f"{steps:,} steps of {batch_size} x {t} tokens"),
    )


def run_need(cfg: ExperimentConfig, vocab: int, longest: int) -> Need:
    """`fit_need` of an experiment config."""
    tc = cfg.train
    return fit_need(
        cfg.model,
        vocab,
        longest,
        steps=tc.steps,
        batch_size=tc.batch_size,
        eval_batch_size=tc.eval_batch_size,
        threads=tc.threads,
        states=4 if cfg.optim.name == "adamw" else 5,  # weights, grads, 2 moments (+ Sophia's h)
    )


def check_run(cfg: ExperimentConfig, vocab: int, longest: int, out: Path, *, allow_long: bool) -> None:
    """Refuse a run that cannot fit this machine (one line: the estimate, the limit, what to lower)."""
    require(
        f"train {cfg.name}",
        run_need(cfg, vocab, longest),
        out=out,
        hint="lower model sizes, batch_size or steps",
        allow_long=allow_long,
    )


# A job waiting in a sweep's, study's or experiment's list: its config as JSON and its arguments.
JOB_BYTES = 4 * 1024


def jobs_need(jobs: Iterable[tuple[ExperimentConfig, int]], workers: int) -> Need:
    """`count` runs of each config, `workers` at a time: every worker holds a process and the
    largest model; the runs' disk and time add up (time shared by the workers); the job list
    itself is held in memory. Without data lengths, sequences count as one token (a floor)."""
    runs, memory, disk, seconds = 0, 0.0, 0.0, 0.0
    for cfg, count in jobs:
        one = run_need(cfg, 1, 1) + data_need(cfg.data)
        runs += count
        memory = max(memory, one.memory)
        disk += one.disk * count
        seconds += one.seconds * count
    par = max(1, min(workers, runs))
    return Need(
        memory=par * (WORKER_BYTES + memory) + runs * JOB_BYTES,
        disk=disk,
        seconds=seconds / par,
        parts=(f"{runs:,} runs, {par} at a time",),
    )
