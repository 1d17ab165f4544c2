"""Sophia overhead benchmarks on a small transformer encoder-decoder (CPU).

1. SophiaG + GNB every 10 steps vs torch AdamW with fused=True (its fast CPU kernel, the lab's
   default): whole training iterations, amortised (goal ≤ 1.10). The default per-tensor AdamW
   runs alongside for reference only: a slow baseline would flatter Sophia.
2. Our SophiaH vs pytorch_optimizer.SophiaH at equal settings (goal ≤ 1.0).

Usage: python benchmarks/bench_sophia.py [--quick] [--threads N]. Prints ratios; exits 0.
Blocks of 10 iterations are interleaved across contenders (order rotated every round) and the
median block time is reported, then the optimizer step alone and a torch.profiler line per
contender (share of the time in matmul/attention kernels versus everything else).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from _bench import profile_line
from torch import Tensor

from behaviorlab.optim import (
    GNBEstimator,
    HutchinsonEstimator,
    SophiaG,
    SophiaH,
    hvp_safe_attention,
)

VOCAB, PAD, BOS, EOS = 64, 0, 1, 2
B, S, T = 16, 24, 24
EVERY = 10


class _TorchSeq2Seq(torch.nn.Module):
    """Fallback when behaviorlab.models is unavailable: nn.Transformer of similar size."""

    def __init__(self, d: int, heads: int, layers: int, ff: int):
        super().__init__()
        self.emb = torch.nn.Embedding(VOCAB, d)
        self.pos = torch.nn.Parameter(torch.zeros(64, d))
        self.tf = torch.nn.Transformer(d, heads, layers, layers, ff, dropout=0.0, batch_first=True)
        self.out = torch.nn.Linear(d, VOCAB)

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        mask = self.tf.generate_square_subsequent_mask(tgt_in.shape[1])
        enc_in = self.emb(src) + self.pos[: src.shape[1]]
        dec_in = self.emb(tgt_in) + self.pos[: tgt_in.shape[1]]
        return self.out(self.tf(enc_in, dec_in, tgt_mask=mask, tgt_is_causal=True))


def make_model(seed: int) -> tuple[torch.nn.Module, str]:
    """behaviorlab's encoder-decoder if importable, else the nn.Transformer stand-in."""
    d, heads, layers, ff = 192, 4, 2, 768
    try:
        from behaviorlab.models import ModelConfig, build_model

        cfg = ModelConfig(
            kind="encoder-decoder",
            d_model=d,
            n_heads=heads,
            enc_layers=layers,
            dec_layers=layers,
            d_ff=ff,
            max_len=64,
        )
        return build_model(cfg, VOCAB, PAD, BOS, EOS, seed=seed, hooks=False), "behaviorlab"
    except ImportError:
        torch.manual_seed(seed)
        return _TorchSeq2Seq(d, heads, layers, ff), "torch.nn.Transformer (fallback)"


def make_batch(gen: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """Random tokens with right padding on the targets (the masked positions are ignored)."""
    src = torch.randint(3, VOCAB, (B, S), generator=gen)
    tgt = torch.randint(3, VOCAB, (B, T), generator=gen)
    lengths = torch.randint(T // 2, T + 1, (B,), generator=gen)
    tgt[torch.arange(T)[None, :] >= lengths[:, None]] = PAD
    tgt_in = torch.cat([torch.full((B, 1), BOS), tgt[:, :-1]], dim=1)
    return src, tgt_in, tgt


def logits_fn_for(model: torch.nn.Module, batch: tuple[Tensor, Tensor, Tensor]):  # noqa: ANN201
    """(logits [N, V], targets [N]) at non-padding positions, fresh forward each call."""
    src, tgt_in, tgt = batch

    def fn() -> tuple[Tensor, Tensor]:
        keep = tgt != PAD
        return model(src, tgt_in)[keep], tgt[keep]

    return fn


Block = Callable[[int], None]  # runs EVERY iterations starting at global step `start`


def _next(batches: list, step: int) -> tuple[Tensor, Tensor, Tensor]:  # type: ignore[type-arg]
    """A fresh batch for the estimator, as the official loop draws one."""
    return batches[(step + 1) % len(batches)]


def _loss(model: torch.nn.Module, batch: tuple[Tensor, Tensor, Tensor]) -> Tensor:
    logits, targets = logits_fn_for(model, batch)()
    return F.cross_entropy(logits, targets)


def adamw_block(seed: int, batches: list, fused: bool = True) -> Block:  # type: ignore[type-arg]
    model, _ = make_model(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01, fused=fused)
    OPTIMIZERS[f"adamw(fused={fused})"] = (model, opt)

    def run(start: int) -> None:
        for i in range(EVERY):
            _loss(model, batches[(start + i) % len(batches)]).backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

    return run


def sophia_g_block(seed: int, batches: list) -> Block:  # type: ignore[type-arg]
    model, _ = make_model(seed)
    params = list(model.parameters())
    opt, est = SophiaG(params, lr=1e-4), GNBEstimator(every=EVERY)
    OPTIMIZERS["sophia-g"] = (model, opt)
    gen = torch.Generator().manual_seed(seed)

    def run(start: int) -> None:
        for i in range(EVERY):
            step, batch = start + i, batches[(start + i) % len(batches)]
            _loss(model, batch).backward()
            opt.step(bs=int((batch[2] != PAD).sum()))
            opt.zero_grad(set_to_none=True)
            if est.due(step):
                est.update(opt, params, logits_fn_for(model, _next(batches, step)), gen)

    return run


def sophia_h_block(seed: int, batches: list, fused: bool) -> Block:  # type: ignore[type-arg]
    """Ours; `fused` estimates from the training loss (as pytorch_optimizer does)."""
    model, _ = make_model(seed)
    params = list(model.parameters())
    opt, est = SophiaH(params, lr=1e-4), HutchinsonEstimator(every=EVERY, probe="rademacher")
    gen = torch.Generator().manual_seed(seed)

    def run(start: int) -> None:
        for i in range(EVERY):
            step, batch = start + i, batches[(start + i) % len(batches)]
            if fused and est.due(step):
                with hvp_safe_attention():  # fused SDPA kernels have no double backward
                    loss = _loss(model, batch)
                est.update_from_loss(opt, params, loss, gen)
            else:
                _loss(model, batch).backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            if not fused and est.due(step):
                est.update(opt, params, logits_fn_for(model, _next(batches, step)), gen)

    return run


def peer_sophia_h_block(seed: int, batches: list) -> Block:  # type: ignore[type-arg]
    """pytorch_optimizer.SophiaH: create_graph backward on its Hessian steps (every 10th)."""
    from pytorch_optimizer import SophiaH as PeerSophiaH

    model, _ = make_model(seed)
    opt = PeerSophiaH(
        model.parameters(),
        lr=1e-4,
        betas=(0.965, 0.99),
        weight_decay=0.1,
        p=1.0,
        update_period=EVERY,
        num_samples=1,
        hessian_distribution="rademacher",
    )

    def run(start: int) -> None:
        for i in range(EVERY):
            step = start + i
            # Its own counter refreshes h on steps 1, 11, 21, ... i.e. step % EVERY == 0 here.
            if step % EVERY == 0:
                with hvp_safe_attention():  # same kernel choice as ours on Hessian steps
                    loss = _loss(model, batches[step % len(batches)])
                loss.backward(create_graph=True)
            else:
                _loss(model, batches[step % len(batches)]).backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

    return run


OPTIMIZERS: dict[str, tuple[torch.nn.Module, torch.optim.Optimizer]] = {}  # filled by the blocks


def step_alone(batches: list, repeats: int) -> None:  # type: ignore[type-arg]
    """The optimizer step by itself on one backward's gradients, interleaved, CPU medians."""
    times: dict[str, list[float]] = {n: [] for n in OPTIMIZERS}
    for model, _ in OPTIMIZERS.values():
        _loss(model, batches[0]).backward()
    for r in range(repeats):
        names = list(OPTIMIZERS)
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            opt = OPTIMIZERS[name][1]
            kw = {"bs": 256} if isinstance(opt, SophiaG) else {}
            c0 = time.process_time()
            for _ in range(EVERY):
                opt.step(**kw)
            times[name].append((time.process_time() - c0) / EVERY)
    med = {n: statistics.median(ts) for n, ts in times.items()}
    print(
        "[step] optimizer step alone (CPU medians): "
        + ", ".join(f"{n} {1e3 * v:.2f} ms" for n, v in med.items())
        + f"; default/fused AdamW {med['adamw(fused=False)'] / med['adamw(fused=True)']:.2f}x"
    )


Timing = dict[str, tuple[float, float]]  # name -> (median CPU s/it, median wall s/it)


def race(blocks: dict[str, Block], repeats: int) -> Timing:
    """Median seconds per iteration, blocks interleaved (order rotated) after one warm-up each.

    CPU time (process_time) is the headline: on shared cores wall time mostly measures the
    neighbours. Wall time is reported alongside.
    """
    names = list(blocks)
    for name in names:
        blocks[name](0)
    cpu: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            c0, w0 = time.process_time(), time.perf_counter()
            blocks[name]((r + 1) * EVERY)
            cpu[name].append((time.process_time() - c0) / EVERY)
            wall[name].append((time.perf_counter() - w0) / EVERY)
    return {n: (statistics.median(cpu[n]), statistics.median(wall[n])) for n in names}


def report(tag: str, t: Timing, ours: str, base: str, goal: str) -> None:
    """One line: both timings and the CPU and wall ratios."""
    (oc, ow), (bc, bw) = t[ours], t[base]
    print(
        f"[{tag}] {ours} vs {base}: CPU {oc * 1e3:.1f} / {bc * 1e3:.1f} ms/it -> ratio "
        f"{oc / bc:.3f} (goal {goal}); "
        f"wall {ow * 1e3:.1f} / {bw * 1e3:.1f} ms/it -> {ow / bw:.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (smoke run)")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    # pytorch_optimizer's protocol needs backward(create_graph=True); its leak warning is expected.
    warnings.filterwarnings("ignore", message="Using backward\\(\\) with create_graph=True")
    repeats = 3 if args.quick else 15
    gen = torch.Generator().manual_seed(0)
    batches = [make_batch(gen) for _ in range(8)]
    model, source = make_model(0)
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"model: {source}, {n_params / 1e6:.2f}M params; batch {B}x{S}->{T}; "
        f"threads {args.threads}; {repeats} repeats of {EVERY}-iteration blocks"
    )

    blocks1 = {
        "adamw(fused)": adamw_block(1, batches),
        "sophia-g+gnb": sophia_g_block(1, batches),
        "adamw(default loop)": adamw_block(1, batches, fused=False),
    }
    t = race(blocks1, repeats)
    report("1", t, "sophia-g+gnb", "adamw(fused)", "<= 1.10")
    report("1b", t, "sophia-g+gnb", "adamw(default loop)", "info: the slow baseline")
    report("1c", t, "adamw(fused)", "adamw(default loop)", "info")
    step_alone(batches, repeats)
    for name in ("adamw(fused)", "sophia-g+gnb"):
        print(profile_line(f"{name} (one {EVERY}-step block)", lambda b=blocks1[name]: b(0), steps=1))
    t = race(
        {
            "pytorch_optimizer.SophiaH": peer_sophia_h_block(2, batches),
            "sophia-h(same-batch HVP)": sophia_h_block(2, batches, fused=True),
            "sophia-h(fresh-batch HVP)": sophia_h_block(2, batches, fused=False),
        },
        repeats,
    )
    report("2", t, "sophia-h(same-batch HVP)", "pytorch_optimizer.SophiaH", "<= 1.0")
    report("2b", t, "sophia-h(fresh-batch HVP)", "pytorch_optimizer.SophiaH", "info: +1 fwd/bwd")


if __name__ == "__main__":
    main()
