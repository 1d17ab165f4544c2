"""Activation patching: run a corrupted input with one component taken from the clean run.

Teacher-forced mode feeds the clean target prefix to both runs; at each decoding step t the
metric is the recovered logit difference, (patched − corrupted) / (clean − corrupted), where the
difference is logit[clean answer] − logit[corrupted answer], summed over the pairs whose answers
differ at t. Generate mode patches one component at one step of greedy generation and reports
the fraction of pairs (among those whose outputs differ) whose whole output becomes the model's clean output.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import torch
from torch import Tensor

from behaviorlab.batching import pad
from behaviorlab.errors import BadInput
from behaviorlab.interpret.ablate import Component, _select
from behaviorlab.interpret.cache import run_with_cache
from behaviorlab.models import HookContext, HookedModel
from behaviorlab.tasks import Example, Task

Pair = tuple[Example, Example]  # (clean, corrupted)


def make_pairs(task: Task, examples: Sequence[Example], seed: int = 0) -> list[Pair]:
    """Pair each example with another of the same input and output length but another output."""
    groups: dict[tuple[int, int], list[Example]] = defaultdict(list)
    v = task.vocab
    for e in examples:
        groups[(len(v.tokenize(e.input)), len(v.tokenize(e.output)))].append(e)
    rng = random.Random(seed)
    pairs = []
    for e in examples:
        others = [
            o for o in groups[(len(v.tokenize(e.input)), len(v.tokenize(e.output)))] if o.output != e.output
        ]
        if others:
            pairs.append((e, rng.choice(others)))
    return pairs


def _tensors(task: Task, pairs: Sequence[Pair]) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Clean src, corrupted src (same width), clean tgt_in, clean and corrupted answers [B, T]."""
    v = task.vocab
    cs = [v.encode(c.input) for c, _ in pairs]
    xs = [v.encode(x.input) for _, x in pairs]
    width = max(len(r) for r in cs + xs)
    yc = [v.encode(c.output) + [v.eos_id] for c, _ in pairs]
    yx = [v.encode(x.output) + [v.eos_id] for _, x in pairs]
    t = max(len(r) for r in yc)
    return (
        pad(cs, v.pad_id, width),
        pad(xs, v.pad_id, width),
        pad([[v.bos_id] + r[:-1] for r in yc], v.pad_id, t),
        pad(yc, v.pad_id, t),
        pad([r[:t] for r in yx], v.pad_id, t),
    )


def _patch_hook(c: Component, clean: Tensor) -> tuple[str, Any]:
    def fn(x: Tensor, ctx: HookContext) -> Tensor:
        p0 = int(ctx.positions[0, 0]) if ctx.step is not None else 0
        src = clean[:, p0 : p0 + x.shape[1]] if ctx.step is not None else clean
        if src.shape != x.shape:  # the clean run ended earlier: nothing to patch in
            return x
        return torch.where(_select(c, x, ctx), src.to(x.dtype), x)

    return c.hook, fn


@torch.no_grad()
def patch(
    model: HookedModel,
    task: Task,
    pairs: Sequence[Pair],
    components: Sequence[Component],
) -> list[dict[str, Any]]:
    """Teacher-forced patching: rows {component, step, recovered, clean_diff, corrupted_diff, n}."""
    if not pairs:
        raise BadInput("no (clean, corrupted) pairs to patch")
    model.eval()
    src_c, src_x, tgt_in, ans_c, ans_x = _tensors(task, pairs)
    names = sorted({c.hook for c in components})
    logits_c, cache = run_with_cache(model, src_c, tgt_in, names=names)
    logits_x = model(src_x, tgt_in)
    live = (ans_c != ans_x) & (ans_c != model.pad_id)  # [B, T] steps where the answers differ

    def diff(logits: Tensor) -> Tensor:  # [B, T] logit[clean answer] − logit[corrupted answer]
        return (logits.gather(2, ans_c[..., None]) - logits.gather(2, ans_x[..., None]))[..., 0]

    assert isinstance(logits_c, Tensor)
    d_c, d_x = diff(logits_c), diff(logits_x)
    rows = []
    for c in components:
        with model.hooks([_patch_hook(c, cache[c.hook])]):
            d_p = diff(model(src_x, tgt_in))
        for t in [*range(tgt_in.shape[1]), None]:
            m = live if t is None else live & (torch.arange(live.shape[1]) == t)[None, :]
            if not bool(m.any()):
                continue
            num, den = float((d_p - d_x)[m].sum()), float((d_c - d_x)[m].sum())
            rows.append(
                {
                    "component": c.label,
                    "hook": c.hook,
                    "head": c.head,
                    "position": c.position,
                    "step": -1 if t is None else t,
                    "recovered": num / den if abs(den) > 1e-9 else float("nan"),
                    "clean_diff": float(d_c[m].mean()),
                    "corrupted_diff": float(d_x[m].mean()),
                    "n": int(m.sum()),
                }
            )
    return rows


@torch.no_grad()
def patch_generation(
    model: HookedModel,
    task: Task,
    pairs: Sequence[Pair],
    components: Sequence[Component],
    steps: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Patch one component at one generation step; rows {component, step, recovered (output rate)}."""
    if not model.generation_patchable:
        raise BadInput(
            "generation-mode patching needs hook positions that index the generated cache "
            "(encoder-decoder and lstm models); use teacher-forced patching"
        )
    model.eval()
    src_c, src_x, tgt_in, _, _ = _tensors(task, pairs)
    names = sorted({c.hook for c in components})
    budget = tgt_in.shape[1] + 4
    gen_c, cache = run_with_cache(model, src_c, generate=True, names=names, max_new_tokens=budget)
    v = task.vocab
    assert not isinstance(gen_c, Tensor)
    clean = [v.decode(gen_c.tokens[r].tolist()) for r in range(len(pairs))]  # the model's own

    def outputs() -> list[str]:  # the corrupted inputs at the clean run's width, so shapes match
        gen = model.generate(src_x, budget)
        return [v.decode(gen.tokens[r].tolist()) for r in range(len(pairs))]

    base = outputs()
    differ = [i for i in range(len(pairs)) if base[i] != clean[i]]  # only these can recover
    rows = []
    for c in components:
        for t in steps if steps is not None else range(tgt_in.shape[1]):
            hook_name, fn = _patch_hook(c, cache[c.hook])

            def at_step(x: Tensor, ctx: HookContext, t: int = t, fn: Any = fn) -> Tensor:
                return fn(x, ctx) if ctx.step == t or ctx.step is None else x

            with model.hooks([(hook_name, at_step)]):
                outs = outputs()
            hit = sum(outs[i] == clean[i] for i in differ)
            rows.append(
                {
                    "component": c.label,
                    "hook": c.hook,
                    "head": c.head,
                    "position": c.position,
                    "step": t,
                    "recovered": hit / len(differ) if differ else float("nan"),
                    "n": len(differ),
                }
            )
    return rows


def to_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Rows as a pyarrow Table."""
    return pa.Table.from_pylist(list(rows))
