"""Ablation: zero, mean or resample any head, MLP, unit or position; exact-match accuracy drop.

A `Component` names a hook and optionally narrows it to one head (dim 2 of a `.z` hook
[B, T, H, dh]), one unit (the last dim, e.g. LSTM `dec.rnn.out`) and/or one position (where the
hook's ctx.positions equals it). Hooks act during cached generation, so accuracy is real greedy
exact match. Mean ablation uses the component's mean over a teacher-forced reference pass;
resample ablation takes the same activation from another input of the batch.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from behaviorlab.errors import BadInput
from behaviorlab.evaluate.predict import generate_strings
from behaviorlab.interpret._layout import attention_sites, prepare
from behaviorlab.interpret.cache import run_with_cache
from behaviorlab.models import HookContext, Seq2SeqModel
from behaviorlab.stats import versus_random
from behaviorlab.tasks import Example, Task

METHODS = ("zero", "mean", "resample")


@dataclass(frozen=True)
class Component:
    """A hook, optionally narrowed to a head, a unit and/or a position."""

    hook: str
    head: int | None = None
    unit: int | None = None
    position: int | None = None

    @property
    def label(self) -> str:
        """e.g. `dec.1.cross_attn.z[h2]`, `dec.rnn.out[u5]`, `enc.out[@3]`."""
        parts = (
            [f"h{self.head}"] * (self.head is not None)
            + [f"u{self.unit}"] * (self.unit is not None)
            + [f"@{self.position}"] * (self.position is not None)
        )
        return self.hook + (f"[{','.join(parts)}]" if parts else "")


def head_components(model: Seq2SeqModel, kinds: Sequence[str] | None = None) -> list[Component]:
    """Every attention head (via its `.z` hook), optionally of some kinds only."""
    return [
        Component(s.z_hook, head=h)
        for s in attention_sites(model)
        if s.z_hook is not None and (kinds is None or s.kind in kinds)
        for h in range(s.n_heads)
    ]


def head_component(kind: str, layer: int, head: int, model: Seq2SeqModel) -> Component:
    """The Component of head (kind, layer, head)."""
    for s in attention_sites(model):
        if (s.kind, s.layer) == (kind, layer) and s.z_hook is not None:
            return Component(s.z_hook, head=head)
    raise BadInput(f"no attention heads of kind {kind!r} at layer {layer}")


def mlp_components(model: Seq2SeqModel) -> list[Component]:
    """Every MLP output."""
    return [Component(n) for n in model.hook_names() if re.fullmatch(r"(enc|dec)\.\d+\.mlp\.out", n)]


def unit_components(model: Seq2SeqModel, hook: str = "dec.rnn.out") -> list[Component]:
    """Every unit (last-dim feature) of a hook; by default the LSTM decoder's hidden units."""
    if hook not in model.hook_names():
        raise BadInput(f"{hook!r} is not a hook of this model")
    return [Component(hook, unit=u) for u in range(model.cfg.d_model)]


def position_components(hook: str, n: int) -> list[Component]:
    """Positions 0..n-1 of one hook (e.g. `enc.out` or `dec.embed.pos`)."""
    return [Component(hook, position=p) for p in range(n)]


def _select(c: Component, x: Tensor, ctx: HookContext) -> Tensor:
    """Bool mask broadcastable to x marking the component's part of the activation."""
    sel = torch.ones((1,) * x.dim(), dtype=torch.bool)
    if c.head is not None:
        shape = [1] * x.dim()
        shape[2] = x.shape[2]
        sel = sel & (torch.arange(x.shape[2]) == c.head).view(shape)
    if c.unit is not None:
        sel = sel & (torch.arange(x.shape[-1]) == c.unit).view((1,) * (x.dim() - 1) + (-1,))
    if c.position is not None:
        at = ctx.positions == c.position  # [B, T]
        sel = sel & at.view(*at.shape, *([1] * (x.dim() - 2)))
    return sel


def ablation_hooks(
    comps: Sequence[Component], method: str, means: dict[str, Tensor] | None = None, seed: int = 0
) -> list[tuple[str, Any]]:
    """(hook, fn) pairs that ablate `comps` by `method`."""
    if method not in METHODS:
        raise BadInput(f"ablation method must be one of {', '.join(METHODS)}; got {method!r}")
    pairs = []
    for c in comps:

        def fn(x: Tensor, ctx: HookContext, c: Component = c) -> Tensor:
            if method == "zero":
                new = torch.zeros_like(x)
            elif method == "mean":
                assert means is not None
                new = means[c.hook].to(x.dtype).expand_as(x)
            else:  # another input's activation at the same step and position
                shift = 1 + seed % max(1, x.shape[0] - 1)
                new = x.roll(shift, dims=0)
            return torch.where(_select(c, x, ctx), new, x)

        pairs.append((c.hook, fn))
    return pairs


def component_means(
    model: Seq2SeqModel, task: Task, examples: Sequence[Example], hooks: Sequence[str]
) -> dict[str, Tensor]:
    """Mean of each hook over a teacher-forced reference pass (batch and positions averaged)."""
    prep = prepare(model, task, examples, use_reference=True)
    _, cache = run_with_cache(model, prep.src, prep.tgt_in, names=sorted(set(hooks)))
    return {h: cache[h].float().mean(dim=(0, 1), keepdim=True) for h in cache}


def accuracy(
    model: Seq2SeqModel, task: Task, examples: Sequence[Example], hooks: Sequence[tuple[str, Any]] = ()
) -> float:
    """Greedy exact-match accuracy with the given hooks attached."""
    if not examples:
        return float("nan")
    longest = max(len(task.vocab.tokenize(e.output)) for e in examples)
    with model.hooks(hooks):
        gens = generate_strings(model, task, [e.input for e in examples], longest + 5)
    ok = 0
    for e, (toks, _) in zip(examples, gens, strict=True):
        ok += task.vocab.text_of(toks) == e.output
    return ok / len(examples)


def ablate(
    model: Seq2SeqModel,
    task: Task,
    examples: Sequence[Example],
    components: Sequence[Component | Sequence[Component]],
    *,
    method: str = "zero",
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per component (or group ablated together): accuracy, base accuracy and drop."""
    model.eval()
    groups = [[c] if isinstance(c, Component) else list(c) for c in components]
    means = None
    if method == "mean":
        means = component_means(model, task, examples, [c.hook for g in groups for c in g])
    base = accuracy(model, task, examples)
    rows = []
    for g in groups:
        acc = accuracy(model, task, examples, ablation_hooks(g, method, means, seed))
        label = g[0].label if len(g) == 1 else f"{len(g)} components"
        rows.append(
            {
                "component": label,
                "method": method,
                "size": len(g),
                "accuracy": acc,
                "base_accuracy": base,
                "drop": base - acc,
            }
        )
    return rows


def ablation_confirmation(
    run: Any,
    heads: Sequence[tuple[str, int, int]],
    *,
    n_random: int = 10,
    seed: int = 0,
    method: str = "zero",
    examples: Sequence[Example] | None = None,
) -> dict[str, Any]:
    """Accuracy drop from ablating the found heads vs random heads of the same count: every
    random draw, their median and range, and the rank p-value (stats.versus_random) — a mean of
    the draws would hide that some of them hurt as much as the found heads."""
    model, task = run.model, run.task
    examples = list(examples if examples is not None else run.splits.get("test_id", []))
    found = [head_component(k, layer, h, model) for k, layer, h in heads]
    pool = [c for c in head_components(model) if c not in found]
    rng = random.Random(seed)
    draws = [rng.sample(pool, min(len(found), len(pool))) for _ in range(n_random)] if found else []
    rows = ablate(model, task, examples, [found, *draws], method=method, seed=seed)
    rand = [r["drop"] for r in rows[1:]]
    vs = versus_random(rows[0]["drop"], rand).to_json()
    return {
        "found_heads": rows[0]["drop"],
        **{k: vs[k] for k in ("random_median", "random_low", "random_high", "at_least", "p_value")},
        "random_drops": rand,
        "n_random": len(rand),
        "n_heads": len(found),
        "base_accuracy": rows[0]["base_accuracy"],
        "method": method,
    }
