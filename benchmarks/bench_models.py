"""Model benchmarks: training speed vs HF BART, hook-point overhead, cached vs uncached decoding.

Run: `.venv/bin/python benchmarks/bench_models.py [--quick] [--threads N] [--wall]`. Prints a
table with ratios and exits 0. Timings are medians over interleaved repeats with the order rotated
each round (A B, B A, ...) so drift in machine load and cache warmth hit both sides alike. Both
sides train with the same step: fused AdamW, and BART with its key/value cache off (use_cache=False:
training needs no cache, and building one is work our model does not do). Defaults suit a shared
2-core box: one intra-op thread (multi-threaded kernels there mostly measure contention) and
process CPU time rather than wall time (time spent descheduled by other people's jobs is not
ours); `--wall` for wall time. Each training row ends with a torch.profiler line: the share of a
step in matmul/attention kernels versus everything else.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from _bench import profile_line, race
from torch import Tensor, nn

from behaviorlab.models import HookPoint, ModelConfig, RunInfo, Seq2SeqModel, build_model

V, PAD, BOS, EOS = 32, 0, 1, 2


def batch(b: int, s: int, t: int, seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """Random src [B, S], tgt_in [B, T], y [B, T] with ragged lengths (real padding)."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(3, V, (b, s), generator=g)
    y = torch.randint(3, V, (b, t), generator=g)
    for i in range(b):  # ragged: rows 3/4 to full length
        src[i, s - (i % (s // 4)) :] = PAD
        n = t - (i % (t // 4))
        y[i, n - 1] = EOS
        y[i, n:] = PAD
    tgt_in = torch.cat([torch.full((b, 1), BOS), y[:, :-1]], dim=1).masked_fill(y == PAD, PAD)
    return src, tgt_in, y


def bart(cfg: ModelConfig) -> nn.Module:
    """HF BartForConditionalGeneration of the same size (no dropout), built from a config."""
    from transformers import BartConfig, BartForConditionalGeneration

    bc = BartConfig(
        vocab_size=V,
        d_model=cfg.d_model,
        encoder_layers=cfg.enc_layers,
        decoder_layers=cfg.dec_layers,
        encoder_attention_heads=cfg.n_heads,
        decoder_attention_heads=cfg.n_heads,
        encoder_ffn_dim=cfg.d_ff,
        decoder_ffn_dim=cfg.d_ff,
        max_position_embeddings=cfg.max_len,
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
        pad_token_id=PAD,
        bos_token_id=BOS,
        eos_token_id=EOS,
        decoder_start_token_id=BOS,
    )
    torch.manual_seed(0)
    return BartForConditionalGeneration(bc)


def train_step_fn(model: nn.Module, hf: bool, data: tuple[Tensor, Tensor, Tensor]) -> Callable[[], None]:
    """One fused-AdamW step: forward, cross-entropy (pad ignored), backward, step."""
    src, tgt_in, y = data
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    model.train()

    def step() -> None:
        if hf:
            logits = model(
                input_ids=src, attention_mask=src != PAD, decoder_input_ids=tgt_in, use_cache=False
            ).logits
        else:
            logits = model(src, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1), ignore_index=PAD)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


CLOCK = time.process_time


def interleaved(fns: list[Callable[[], object]], repeats: int, inner: int) -> list[tuple[float, float]]:
    """(median, min) seconds per call of each fn, timed in alternation, order rotated per round."""
    timing = race({str(i): fn for i, fn in enumerate(fns)}, repeats, inner, CLOCK)
    return [timing[str(i)] for i in range(len(fns))]


def size(cfg: ModelConfig) -> str:
    return f"d={cfg.d_model} h={cfg.n_heads} L={cfg.enc_layers}+{cfg.dec_layers} ff={cfg.d_ff}"


def bench_training(cfg: ModelConfig, shape: tuple[int, int, int], repeats: int, label: str) -> list[str]:
    data = batch(*shape)
    ours = train_step_fn(build_model(cfg, V, PAD, BOS, EOS, seed=0), False, data)
    peer = train_step_fn(bart(cfg), True, data)
    (t_ours, m_ours), (t_bart, m_bart) = interleaved([ours, peer], repeats, 3)
    toks = shape[0] * shape[2]  # target tokens per step
    return [
        f"train {label} {size(cfg)} B/S/T={shape} (fused AdamW both; BART use_cache=False)",
        f"  tokens/s ours          {toks / t_ours:10.0f}   ({t_ours * 1e3:.1f} ms/step median)",
        f"  tokens/s HF BART       {toks / t_bart:10.0f}   ({t_bart * 1e3:.1f} ms/step median)",
        f"  ratio ours/bart        {t_bart / t_ours:10.2f}x  (min-based {m_bart / m_ours:.2f}x; goal >= 1.3)",
        profile_line("ours", ours),
        profile_line("BART", peer),
    ]


def bench_hooks(cfg: ModelConfig, shape: tuple[int, int, int], repeats: int, label: str) -> list[str]:
    src, tgt_in, _ = batch(*shape)
    hooked = build_model(cfg, V, PAD, BOS, EOS, seed=0).eval()
    bare = build_model(cfg, V, PAD, BOS, EOS, seed=0, hooks=False).eval()
    n_points = len(hooked.hook_names())

    def fwd(m: Seq2SeqModel) -> Callable[[], None]:
        def run() -> None:
            with torch.no_grad():
                m(src, tgt_in)

        return run

    (t_on, m_on), (t_off, m_off) = interleaved([fwd(hooked), fwd(bare)], repeats, 10)
    # Deterministic bound: the cost of one empty hook-point call times the calls per forward.
    point, x = HookPoint("bench"), torch.zeros(1)
    info = RunInfo(None, torch.zeros(1, 1, dtype=torch.long))
    t0 = CLOCK()
    for _ in range(100_000):
        point(x, info)
    per_call = (CLOCK() - t0) / 100_000
    return [
        f"forward {label} {size(cfg)} B/S/T={shape}: {n_points} hook points",
        f"  none attached {t_on * 1e3:.3f} ms; compiled out {t_off * 1e3:.3f} ms (medians)",
        f"  ratio hooked/compiled  {t_on / t_off:10.3f}   (min-based {m_on / m_off:.3f}; goal <= 1.03)",
        f"  empty hook call {per_call * 1e9:.0f} ns x {n_points} = "
        f"{100 * per_call * n_points / m_off:.2f}% of the forward",
    ]


def bench_generation(cfg: ModelConfig, b: int, s: int, repeats: int) -> list[str]:
    src, _, _ = batch(b, s, 8)
    lines = []
    for kind in ["encoder-decoder", "decoder-only"]:
        model = build_model(cfg.model_copy(update={"kind": kind}), V, PAD, BOS, EOS, seed=0).eval()
        model.eos_id = V  # an id the head cannot emit: every run decodes all 32 steps

        def gen(use_cache: bool, m: Seq2SeqModel = model) -> Callable[[], None]:
            return lambda: m.generate(src, 32, use_cache=use_cache)  # type: ignore[return-value]

        (t_cache, m_cache), (t_plain, m_plain) = interleaved([gen(True), gen(False)], repeats, 1)
        lines += [
            f"greedy 32 tokens {kind:15s} B={b} S={s}: cached {t_cache * 1e3:7.1f} ms; "
            f"uncached {t_plain * 1e3:7.1f} ms (medians)",
            f"  speedup cached         {t_plain / t_cache:10.2f}x  (min-based "
            f"{m_plain / m_cache:.2f}x; goal >= 5)",
        ]
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--wall", action="store_true", help="wall-clock instead of process CPU time")
    args = ap.parse_args()
    global CLOCK
    CLOCK = time.perf_counter if args.wall else time.process_time
    torch.set_num_threads(args.threads)
    repeats = 3 if args.quick else 9
    cfg = ModelConfig(d_model=128, n_heads=4, enc_layers=2, dec_layers=2, d_ff=512, max_len=128)
    shape = (32, 32, 32)  # batch, src len, tgt len
    print(f"$ python {' '.join(sys.argv)}")
    clock = "wall" if args.wall else "process CPU"
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, repeats {repeats}, "
        f"V={V}, {clock} time"
    )
    # The demo's real shape: what `make demo` trains (demo.configs.MODEL, batch 64, ~12 tokens).
    demo = ModelConfig(d_model=64, n_heads=4, enc_layers=2, dec_layers=2, d_ff=128)
    lines = bench_training(cfg, shape, repeats, "train-size")
    lines += bench_training(demo, (64, 12, 12), repeats, "demo")
    lines += bench_hooks(cfg, shape, repeats, "train-size")
    tiny = ModelConfig(d_model=32, n_heads=2, enc_layers=2, dec_layers=2, d_ff=64)
    lines += bench_hooks(tiny, (4, 12, 12), repeats, "tiny")
    lines += bench_generation(cfg, 16, 24, repeats)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
