"""One training step at the demo's real shape: default AdamW vs fused AdamW vs fused + compile.

    .venv/bin/python benchmarks/bench_train_step.py [--quick] [--repeats 15] [--block 10]

The demo's binary-successor model and batches (d_model 64, 4 heads, 2+2 layers, d_ff 128, batch
64 of the demo's own train split, ~12 tokens), the step exactly as the training loop takes it
(forward, cross-entropy, backward, gradient clipping, optimizer step). Each contestant has its
own model from the same seed; blocks of `--block` steps run interleaved with the order rotated,
timed in process CPU time; medians and ratios are printed, then the optimizer step alone and
a profile line per contestant. Compile time is wall time (inductor compiles in worker processes),
by default with an empty inductor cache (what a first run pays); `--warm-cache` keeps the user's
cache (what later runs of the same model pay).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from _bench import profile_line, race
from torch import Tensor

from behaviorlab import tasks
from behaviorlab.batching import Encoded, encode_examples
from behaviorlab.demo.configs import binary_raw
from behaviorlab.models import Seq2SeqModel, build_model
from behaviorlab.optim import build_optimizer
from behaviorlab.tasks.dataset import build_splits
from behaviorlab.train.compiled import CompiledForward
from behaviorlab.train.config import ExperimentConfig, validate
from behaviorlab.train.determinism import step_generator


def demo() -> tuple[ExperimentConfig, Encoded, tasks.Task]:
    """The demo's binary-successor (natural order) config, encoded train split and task."""
    cfg = validate(binary_raw("natural", quick=False), "demo")
    task = tasks.get(cfg.data.task, **cfg.data.options)
    return cfg, encode_examples(task.vocab, build_splits(cfg.data)["train"]), task


def batches(data: Encoded, n: int, batch: int) -> list[tuple[Tensor, Tensor, Tensor]]:
    """The loop's first `n` batches (seed 0), trimmed to their longest row as the loop does."""
    idx = [torch.randint(len(data), (batch,), generator=step_generator(0, i, 0)) for i in range(n)]
    return [data.batch(i) for i in idx]


class Trainer:
    """One contestant: a model, its optimizer and the loop's step over a fixed batch cycle."""

    def __init__(self, cfg: ExperimentConfig, task: tasks.Task, fused: bool, compiled: bool) -> None:
        v = task.vocab
        self.model: Seq2SeqModel = build_model(cfg.model, len(v), v.pad_id, v.bos_id, v.eos_id, seed=0)
        self.opt = build_optimizer(cfg.optim.model_copy(update={"fused": fused}), self.model.parameters())
        self.fwd = CompiledForward(self.model, compiled)
        self.clip = cfg.train.grad_clip
        self.i = 0

    def step(self, data: list[tuple[Tensor, Tensor, Tensor]]) -> None:
        """Forward, loss, backward, clip, optimizer step on the next batch of the cycle."""
        src, tin, tout = data[self.i % len(data)]
        self.i += 1
        self.fwd.start()
        logits = self.fwd.forward(src, tin)
        loss = F.cross_entropy(logits.flatten(0, 1), tout.flatten(), ignore_index=0)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.fwd.stop()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.opt.step()


def block(fn: Callable[[], None], n: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(n):
            fn()

    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats (a smoke run)")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--block", type=int, default=10, help="steps per timed block")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warm-cache", action="store_true", help="reuse inductor's on-disk cache")
    a = ap.parse_args()
    if not a.warm_cache:  # set before anything compiles: inductor reads it when it first caches
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-inductor-")
    torch.set_num_threads(a.threads)
    repeats = 3 if a.quick else a.repeats
    cfg, encoded, task = demo()
    data = batches(encoded, 32, cfg.train.batch_size)
    mean_t = sum(b[2].shape[1] for b in data) / len(data)
    mean_s = sum(b[0].shape[1] for b in data) / len(data)
    print(f"$ python {' '.join(sys.argv)}")
    print(
        f"torch {torch.__version__}, threads {a.threads}; demo model d={cfg.model.d_model} "
        f"h={cfg.model.n_heads} L={cfg.model.enc_layers}+{cfg.model.dec_layers} ff={cfg.model.d_ff}, "
        f"batch {cfg.train.batch_size}, mean S {mean_s:.1f} / T {mean_t:.1f} tokens; "
        f"{repeats} rotated rounds of {a.block}-step blocks, process CPU time"
    )
    trainers = {
        "default AdamW": Trainer(cfg, task, fused=False, compiled=False),
        "fused AdamW": Trainer(cfg, task, fused=True, compiled=False),
        "fused + compile": Trainer(cfg, task, fused=True, compiled=True),
    }
    t0 = time.perf_counter()
    for b in data:  # every batch length once: whatever compiling there is happens here
        trainers["fused + compile"].step([b])
    warm = time.perf_counter() - t0
    compiled = trainers["fused + compile"].fwd
    timing = race({k: block(lambda t=t: t.step(data), a.block) for k, t in trainers.items()}, repeats)
    base = timing["default AdamW"][0]
    for name, (med, low) in timing.items():
        print(
            f"  train step {name:16s} {1e3 * med / a.block:7.2f} ms median "
            f"(min {1e3 * low / a.block:.2f}); ratio default/this {base / med:.3f}x"
        )
    print(
        f"  fused vs default: {timing['default AdamW'][0] / timing['fused AdamW'][0]:.3f}x; "
        f"compile on top of fused: {timing['fused AdamW'][0] / timing['fused + compile'][0]:.3f}x; "
        f"compile time {compiled.seconds:.1f} s wall, {'warm' if a.warm_cache else 'empty'} inductor cache "
        f"({warm:.1f} s for the first {len(data)} steps)"
    )
    # The optimizer step alone, on gradients left by one backward.
    steps = {}
    for name in ("default AdamW", "fused AdamW"):
        t = trainers[name]
        t.step(data)
        steps[name] = block(t.opt.step, a.block)
    opt_t = race(steps, repeats)
    d, f = opt_t["default AdamW"][0], opt_t["fused AdamW"][0]
    print(
        f"  optimizer step alone: default {1e3 * d / a.block:.2f} ms, fused {1e3 * f / a.block:.2f} ms "
        f"(medians) -> {d / f:.2f}x"
    )
    for name, t in trainers.items():
        print(profile_line(name, lambda t=t: t.step(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
