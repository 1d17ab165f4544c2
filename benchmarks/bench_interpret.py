"""Batched perturbation vs a per-example Python loop: 1,000 inputs × 16 perturbations.

    .venv/bin/python benchmarks/bench_interpret.py [--inputs 1000] [--perts 16] [--loop-inputs 60]
        [--repeats 3]

Model: the demo's size (d_model 64, 4 heads, 2+2 layers) on binary-successor (natural), briefly
trained so outputs have realistic lengths. The batched path decodes all 16,000 (input ×
perturbation) pairs in chunks of 2,048 forced-prefix decodes; the looped path decodes one pair at
a time (batch of 1), exactly as `perturb_looped`. The loop is timed on `--loop-inputs` inputs (×16
pairs each) and scaled linearly to all inputs (its cost is per pair by construction); pass
`--loop-inputs 1000` to time it in full. Results of the timed subset are checked equal.
Both sides run `--repeats` times, interleaved with the order rotated, in process CPU time; the
medians and their ratio are printed, then a torch.profiler line per side (the share of the time
in matmul/attention kernels versus everything else, on a 20-input slice).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import torch
from _bench import profile_line, race

from behaviorlab import tasks
from behaviorlab.batching import encode_examples, encode_sources
from behaviorlab.interpret.edits import Perturbation, originals_of, random_perturbations
from behaviorlab.interpret.perturb import perturb, perturb_looped
from behaviorlab.models import ModelConfig, Seq2SeqModel, build_model


def _model(task: tasks.Task) -> Seq2SeqModel:
    """A demo-size model after 150 quick AdamW steps (enough for eos and sensible lengths)."""
    v = task.vocab
    cfg = ModelConfig(d_model=64, n_heads=4, enc_layers=2, dec_layers=2, d_ff=128)
    model = build_model(cfg, len(v), v.pad_id, v.bos_id, v.eos_id, seed=0)
    data = encode_examples(v, task.sample(2000, 1, min_size=1, max_size=10))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(150):
        src, tin, tout = data.batch(torch.randint(len(data), (64,), generator=g))
        loss = torch.nn.functional.cross_entropy(
            model(src, tin).flatten(0, 1), tout.flatten(), ignore_index=0
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", type=int, default=1000)
    ap.add_argument("--perts", type=int, default=16)
    ap.add_argument("--loop-inputs", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    task = tasks.get("binary-successor", order="natural")
    model = _model(task)
    ex = task.sample(a.inputs, 7, min_size=1, max_size=10)
    src = encode_sources(task.vocab, [e.input for e in ex])
    g = originals_of(model, src, 20, 2048)
    perts = random_perturbations(task, g, a.perts - 2, seed=0)
    for ps, out in zip(perts, g, strict=True):  # two position swaps per input too
        p = max(1, len(out) // 2)
        ps += [Perturbation("pos_swap", p, other=p + 1), Perturbation("pos_replace", 1, other=p)]
    pairs = sum(len(p) for p in perts)

    k = min(a.loop_inputs, a.inputs)
    out: dict[str, Any] = {}

    def run_batched() -> None:
        out["batched"] = perturb(model, task, ex, perts)

    def run_looped() -> None:
        out["looped"] = perturb_looped(model, task, ex[:k], perts[:k])

    # race() warms each side up once, then times `repeats` rotated rounds.
    timing = race({"batched": run_batched, "looped": run_looped}, a.repeats, clock=time.process_time)
    t_batched, t_loop_subset = timing["batched"][0], timing["looped"][0]
    t_loop = t_loop_subset * a.inputs / k
    same = all(x["output"] == y["output"] for x, y in zip(out["batched"], out["looped"], strict=False))

    cmd = "python " + " ".join(sys.argv)
    print(f"command: {cmd}")
    print(f"pairs: {pairs} ({a.inputs} inputs x {a.perts} perturbations), threads={a.threads}")
    print(f"process CPU time, medians of {a.repeats} interleaved rounds (order rotated)")
    print(f"batched: {t_batched:.2f} s ({1e3 * t_batched / pairs:.3f} ms/pair)")
    print(f"looped:  {t_loop:.2f} s (timed {t_loop_subset:.2f} s on {k} inputs, scaled x{a.inputs / k:.1f})")
    print(f"looped results identical on the timed subset: {same}")
    print(f"speedup (looped / batched): {t_loop / t_batched:.1f}x")
    few = min(20, k)
    print(profile_line("batched", lambda: perturb(model, task, ex[:few], perts[:few]), steps=1))
    print(profile_line("looped", lambda: perturb_looped(model, task, ex[:few], perts[:few]), steps=1))


if __name__ == "__main__":
    main()
