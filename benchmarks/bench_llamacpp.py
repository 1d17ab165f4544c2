"""llama.cpp (`llama:FILE`, llama-cpp-python) vs our transformers path (`gguf:FILE`, dequantised to
float32) on SmolLM2-135M-Instruct, on the probe suite's kind of prompts.

    .venv/bin/python benchmarks/bench_llamacpp.py [--prompts 48] [--tokens 32] [--threads 1] [--rounds 2]

Each backend runs in a child process of its own (so peak memory is its own), alternating
hf, llama, hf, llama… for `--rounds`. A child loads the model (the GGUF cache already warm for
transformers), then generates greedily for every prompt in one batched `generate` call (chat
template on, as the probes ask SmolLM2), then scores its own outputs. Reported: load seconds,
generated tokens per second and CPU seconds of the generate call, peak resident memory, greedy
agreement between the two backends (first 8 tokens and all tokens identical), per-token log-prob
|Δ| over the tokens both generated identically, and whether the tokenisations are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any


def prompts(n: int) -> list[str]:
    """Prompts like the probes send: openings to continue, short questions, few-shot string maps,
    planted strings to repeat (a quarter each)."""
    from behaviorlab.lm.fewshot import few_shot_prompt
    from behaviorlab.probes.base import rng_for
    from behaviorlab.probes.content import WORDS, invented_word, question
    from behaviorlab.probes.repetition import OPENINGS

    rng = rng_for(0, "bench-llamacpp")
    out: list[str] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            out.append(f"Continue this text: {OPENINGS[(i // 4) % len(OPENINGS)]}")
        elif kind == 1:
            out.append(f"{question(rng)[0]} Answer with one word or number.")
        elif kind == 2:
            demos = [(w, w.upper()) for w in rng.sample(WORDS, 4)]
            out.append(few_shot_prompt(demos, rng.choice(WORDS), gap="\n\n"))
        else:
            out.append("Repeat exactly: " + " ".join(invented_word(rng) for _ in range(4)) + "\n")
    return out


def child(backend: str, n: int, tokens: int, threads: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    os.environ["BEHAVIORLAB_LLAMA_THREADS"] = str(threads)
    from behaviorlab.lm import load
    from behaviorlab.lm.gguf_to_hf import smollm2_path

    path = smollm2_path()
    spec = f"{'llama' if backend == 'llama' else 'gguf'}:{path}"
    t0 = time.perf_counter()
    model = load(spec)
    load_s = time.perf_counter() - t0
    ps = prompts(n)
    c0, w0 = time.process_time(), time.perf_counter()
    comps = model.generate(ps, tokens, chat=True)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    generated = sum(len(c.tokens) for c in comps)
    return {
        "backend": backend,
        "spec": model.spec,
        "load_s": load_s,
        "gen_wall_s": wall,
        "gen_cpu_s": cpu,
        "tokens": generated,
        "tokens_per_s": generated / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "outputs": [list(c.tokens) for c in comps],
        "logprobs": [list(c.logprobs) for c in comps],
        "tokenized": [model.tokenize(p) for p in ps],
    }


def run_child(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", backend, "--prompts", str(args.prompts)]
    cmd += ["--tokens", str(args.tokens), "--threads", str(args.threads)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def agreement(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """Greedy agreement and log-prob differences over the identically generated tokens."""
    first8 = same = 0
    deltas: list[float] = []
    for ta, tb, la, lb in zip(a["outputs"], b["outputs"], a["logprobs"], b["logprobs"], strict=True):
        first8 += ta[:8] == tb[:8]
        same += ta == tb
        for x, y, pa, pb in zip(ta, tb, la, lb, strict=False):
            if x != y:
                break
            deltas.append(abs(pa - pb))
    n = len(a["outputs"])
    return {
        "first8": first8 / n,
        "all": same / n,
        "dlogp_mean": statistics.fmean(deltas),
        "dlogp_max": max(deltas),
        "tokenization_identical": float(a["tokenized"] == b["tokenized"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=48)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", choices=("hf", "llama"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.prompts, args.tokens, args.threads)))
        return
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; threads {args.threads}")
    runs: dict[str, list[dict[str, Any]]] = {"hf": [], "llama": []}
    for _ in range(args.rounds):
        for backend in ("hf", "llama"):
            runs[backend].append(run_child(backend, args))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    med = {
        b: {
            k: statistics.median(r[k] for r in rs)
            for k in ("load_s", "tokens_per_s", "gen_cpu_s", "peak_rss_mb")
        }
        for b, rs in runs.items()
    }
    print(f"{args.prompts} prompts x {args.tokens} greedy tokens, chat template, medians of {args.rounds}")
    print(f"{'':16}{'transformers':>14}{'llama.cpp':>12}{'ratio':>9}")
    for key in ("load_s", "tokens_per_s", "gen_cpu_s", "peak_rss_mb"):
        h, ll = med["hf"][key], med["llama"][key]
        print(f"{key:16}{h:14.2f}{ll:12.2f}{ll / h:9.3f}")
    same_run = all(r["outputs"] == runs["llama"][0]["outputs"] for r in runs["llama"])
    agree = agreement(runs["hf"][0], runs["llama"][0])
    print(f"llama.cpp outputs identical across rounds: {same_run}")
    print(
        f"greedy agreement on {args.prompts} prompts: first 8 tokens {agree['first8']:.0%}, all "
        f"{args.tokens} {agree['all']:.0%}; log-prob |Δ| over identical tokens "
        f"mean {agree['dlogp_mean']:.3f} "
        f"max {agree['dlogp_max']:.3f} nats; tokenisation identical: {bool(agree['tokenization_identical'])}"
    )


if __name__ == "__main__":
    main()
