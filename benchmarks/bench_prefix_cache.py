"""Shared-prefix KV caching on 8-shot prompts, SmolLM2-135M-Instruct (the packaged GGUF).

    .venv/bin/python benchmarks/bench_prefix_cache.py [--queries 32] [--shots 8] [--tokens 20] [--reps 3]

The prompts are what `explain --model smollm2 --task binary-successor --shots 8` sends: the same
8 demonstrations, then one query each. Three contestants answer the same queries greedily with
the same budget and the newline stop, in one batch of `--queries`:
  cached   our adapter, the demonstrations passed as `prefix` (read once, KV cache copied per batch);
  uncached our adapter, the full prompts (prefix caching off);
  peer     transformers' own `model.generate` on the full prompts (left-padded batch, greedy,
           the newline stop as `stop_strings`), the path most users would write.
Tokens are checked identical across the three; the ratio is in generated tokens per second of
process CPU time (wall beside it); medians over interleaved, rotated repetitions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import torch

from behaviorlab import lm, tasks
from behaviorlab.lm.fewshot import demonstrations, question
from behaviorlab.lm.hf_model import HFModel
from behaviorlab.tasks.dataset import derive_seed


def peer(model: HFModel, prompts: list[str], budget: int) -> list[list[int]]:
    """transformers' generate on the full prompts: new token ids per row, eos and pads dropped."""
    tok = model.tokenizer
    tok.padding_side = "left"
    enc = tok(prompts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        out = model.model.generate(
            **enc,
            max_new_tokens=budget,
            do_sample=False,
            stop_strings=["\n"],
            tokenizer=tok,
            pad_token_id=model.pad_id,
        )
    rows = []
    for row in out[:, enc["input_ids"].shape[1] :].tolist():
        ids = []
        for t in row:
            if t in model.eos_ids or t == model.pad_id:
                break
            ids.append(t)
            if "\n" in tok.decode([t]):
                break
        rows.append(ids)
    return rows


def race(fns: dict[str, Callable[[], None]], reps: int) -> dict[str, tuple[float, float]]:
    """(median CPU, median wall) seconds per call: one warm-up call each, then rotated rounds."""
    for fn in fns.values():
        fn()
    names = list(fns)
    times: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in fns}
    for r in range(reps):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            cpu, wall = time.process_time(), time.perf_counter()
            fns[name]()
            times[name][0].append(time.process_time() - cpu)
            times[name][1].append(time.perf_counter() - wall)
    return {n: (statistics.median(c), statistics.median(w)) for n, (c, w) in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=32)
    ap.add_argument("--shots", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=20)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model: Any = lm.load("smollm2")
    task = tasks.get("binary-successor", order="natural")
    demos = [(e.input, e.output) for e in task.sample(a.shots, derive_seed(0, "demos"), max_size=8)]
    shots = demonstrations(demos)
    asked = [question(e.input) for e in task.sample(a.queries, 1, max_size=8, edge_fraction=0.25)]
    full = [shots + q for q in asked]
    got: dict[str, list[list[int]]] = {}

    def ours(cached: bool) -> None:
        model.prefix_cache = cached
        done = model.generate(asked, a.tokens, stop=["\n"], prefix=shots)
        got["cached" if cached else "uncached"] = [
            model.tokenizer.convert_tokens_to_ids(list(c.tokens)) for c in done
        ]

    def theirs() -> None:
        got["peer"] = peer(model, full, a.tokens)

    fns = {"cached": lambda: ours(True), "uncached": lambda: ours(False), "peer": theirs}
    print(f"command: python {' '.join(sys.argv)}")
    print(
        f"torch {torch.__version__}, threads={a.threads}, {a.queries} queries, {a.shots}-shot prefix of "
        f"{len(model.tokenize(shots))} tokens, budget {a.tokens}, reps={a.reps}"
    )
    timed = race(fns, a.reps)
    cpu = {n: timed[n][0] for n in fns}
    wall = {n: timed[n][1] for n in fns}
    made = sum(len(r) for r in got["cached"])
    same = sum(x == y == z for x, y, z in zip(got["cached"], got["uncached"], got["peer"], strict=True))
    print(f"{made} tokens generated per call; {same}/{a.queries} rows token-identical across the three")
    for name in fns:
        c, w = cpu[name], wall[name]
        print(f"    {name:9s} cpu {c:7.2f} s  {made / c:7.1f} tokens/cpu-s   wall {w:7.2f} s")
    for other in ("uncached", "peer"):
        print(
            f"    cached vs {other}: {cpu[other] / cpu['cached']:.1f}x cpu, "
            f"{wall[other] / wall['cached']:.1f}x wall"
        )


if __name__ == "__main__":
    main()
