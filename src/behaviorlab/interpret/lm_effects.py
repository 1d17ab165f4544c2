"""Interventions on prompts, measured on the model's own answer.

The measure is the log-probability of the answer a batch teacher-forces (the model's greedy answer,
or given tokens such as the second half of a repeated sequence): mean per token, with hooks
attached or not. Ablation rows report its change and how many answer tokens stay the model's
top choice; with references, greedy exact-match accuracy too. Patching runs a corrupted prompt with
one component taken from the clean run and reports the recovered share of the clean answer's
log-probability, (patched − corrupted) / (clean − corrupted), summed over the pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from behaviorlab.errors import BadInput
from behaviorlab.interpret._layout import Prepared
from behaviorlab.interpret.ablate import Component, ablation_hooks
from behaviorlab.interpret.cache import run_with_cache
from behaviorlab.interpret.patching import _patch_hook
from behaviorlab.interpret.prompts import greedy_answers
from behaviorlab.lm.white_box import WhiteBox
from behaviorlab.models import HookedModel

Hooks = Sequence[tuple[str, Any]]
Tick = Callable[[int, int], None]  # (done, total) model passes: a progress bar


def _answer(model: HookedModel, prep: Prepared) -> tuple[Tensor, Tensor]:
    """Answer ids [B, T] (what tgt_in[t + 1] holds; pad after) and their mask [B, T]."""
    ans = torch.cat([prep.tgt_in[:, 1:], torch.full_like(prep.tgt_in[:, :1], model.pad_id)], dim=1)
    return ans, ans != model.pad_id


@torch.no_grad()
def answer_scores(
    model: HookedModel, prep: Prepared, hooks: Hooks = (), batch_size: int = 16
) -> tuple[Tensor, Tensor, Tensor]:
    """Per row: summed answer log-prob [B], answer tokens that are the top choice [B], count [B]."""
    sums, tops, counts = [], [], []
    with model.hooks(hooks):
        for start in range(0, prep.src.shape[0], batch_size):
            sl = slice(start, start + batch_size)
            part = Prepared(prep.src[sl], prep.tgt_in[sl], [], [])
            ans, ok = _answer(model, part)
            logp = torch.log_softmax(model(part.src, part.tgt_in).float(), dim=-1)  # [B, T, V]
            got = logp.gather(2, ans.clamp(min=0)[..., None])[..., 0]  # [B, T]
            top = logp.argmax(-1) == ans
            sums.append((got * ok).sum(1))
            tops.append((top & ok).sum(1))
            counts.append(ok.sum(1))
    return torch.cat(sums), torch.cat(tops), torch.cat(counts)


def _mean(x: Tensor, n: Tensor) -> float:
    total = int(n.sum())
    return float(x.sum()) / total if total else float("nan")


def correct_of(box: WhiteBox, prep: Prepared, hooks: Hooks, new_tokens: int) -> tuple[int, int]:
    """(exact matches of the greedy answers, prompts with a reference)."""
    ids = [row[row != box.model.pad_id].tolist() for row in prep.src]
    with box.model.hooks(hooks):
        outs = greedy_answers(box, ids, new_tokens)
    rows = [(box.text_of(o), ref) for o, ref in zip(outs, prep.targets, strict=True) if ref]
    return sum(_same(a, r) for a, r in rows), len(rows)


def accuracy_of(box: WhiteBox, prep: Prepared, hooks: Hooks, new_tokens: int) -> float | None:
    """Greedy exact match against the batch's references (None without references)."""
    if not prep.targets or not any(prep.targets):
        return None
    k, n = correct_of(box, prep, hooks, new_tokens)
    return k / n


def _same(answer: str, reference: str) -> bool:
    """Exact match of the first line, whitespace-normalised."""
    lines = [ln for ln in answer.splitlines() if ln.strip()]
    return " ".join((lines[0] if lines else "").split()) == " ".join(reference.split())


def ablate_answers(
    box: WhiteBox,
    prep: Prepared,
    components: Sequence[Component | Sequence[Component]],
    *,
    method: str = "zero",
    new_tokens: int = 8,
    seed: int = 0,
    tick: Tick | None = None,
) -> list[dict[str, Any]]:
    """One row per component (or group): answer log-prob per token, its change, top-1 kept;
    `tick(done, total)` after each (a progress bar)."""
    if method not in ("zero", "resample"):
        raise BadInput(f"ablation of prompts supports zero or resample; got {method!r}")
    model = box.model
    model.eval()
    base_lp, base_top, n = answer_scores(model, prep)
    base_acc = accuracy_of(box, prep, (), new_tokens)
    rows: list[dict[str, Any]] = []
    for g in components:
        if tick is not None:
            tick(len(rows), len(components))
        group = [g] if isinstance(g, Component) else list(g)
        hooks = ablation_hooks(group, method, None, seed)
        lp, top, _ = answer_scores(model, prep, hooks)
        row: dict[str, Any] = {
            "component": group[0].label if len(group) == 1 else f"{len(group)} components",
            "method": method,
            "size": len(group),
            "logprob": _mean(lp, n),
            "base_logprob": _mean(base_lp, n),
            "delta_logprob": _mean(lp - base_lp, n),
            "top1": _mean(top.float(), n),
            "base_top1": _mean(base_top.float(), n),
            "tokens": int(n.sum()),
        }
        if base_acc is not None:
            acc = accuracy_of(box, prep, hooks, new_tokens)
            row.update(accuracy=acc, base_accuracy=base_acc, drop=base_acc - (acc or 0.0))
        rows.append(row)
    if tick is not None:
        tick(len(rows), len(components))
    return rows


@torch.no_grad()
def patch_answers(
    model: HookedModel,
    clean: Prepared,
    corrupted: Prepared,
    components: Sequence[Component],
    tick: Tick | None = None,
) -> list[dict[str, Any]]:
    """Recovered share of the clean answer's log-prob when one component comes from the clean run
    (`tick(done, total)` after each)."""
    if clean.src.shape != corrupted.src.shape or bool(
        (clean.src != model.pad_id).ne(corrupted.src != model.pad_id).any()
    ):
        raise BadInput("patching needs each corrupted prompt to have as many tokens as its clean prompt")
    model.eval()
    forced = Prepared(corrupted.src, clean.tgt_in, [], [])  # the corrupted prompt, the clean answer
    names = sorted({c.hook for c in components})
    _, cache = run_with_cache(model, clean.src, clean.tgt_in, names=names)
    lp_c, _, n = answer_scores(model, clean)
    lp_x, _, _ = answer_scores(model, forced)
    den = float((lp_c - lp_x).sum())
    rows: list[dict[str, Any]] = []
    for c in components:
        if tick is not None:
            tick(len(rows), len(components))
        lp_p, _, _ = answer_scores(model, forced, [_patch_hook(c, cache[c.hook])])
        rows.append(
            {
                "component": c.label,
                "hook": c.hook,
                "head": c.head,
                "recovered": float((lp_p - lp_x).sum()) / den if abs(den) > 1e-9 else float("nan"),
                "clean_logprob": _mean(lp_c, n),
                "corrupted_logprob": _mean(lp_x, n),
                "patched_logprob": _mean(lp_p, n),
                "n": clean.src.shape[0],
            }
        )
    if tick is not None:
        tick(len(rows), len(components))
    return rows
