"""Run perturbations batched (the fast path) or looped (the reference), and watch chosen heads."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import torch

from behaviorlab.batching import encode_sources
from behaviorlab.interpret._layout import prepare
from behaviorlab.interpret.attention import site_views
from behaviorlab.interpret.edits import Perturbation, Plan, decode_plan, originals_of, plan
from behaviorlab.interpret.hypotheses import Hypothesis
from behaviorlab.interpret.scores import samples, target_mask
from behaviorlab.models import HookedModel
from behaviorlab.tasks import Example, Task

Head = tuple[str, int, int]  # (kind, layer, head)


def _per_example(
    perts: Sequence[Perturbation] | Sequence[Sequence[Perturbation]], n: int
) -> list[list[Perturbation]]:
    if perts and isinstance(perts[0], Perturbation):
        return [list(perts)] * n  # type: ignore[arg-type]
    return [list(p) for p in perts]  # type: ignore[arg-type]


def _budget(task: Task, examples: Sequence[Example], perts: Sequence[Sequence[Perturbation]]) -> int:
    longest = max(len(task.vocab.tokenize(e.output)) for e in examples)
    return longest + 6 + max((p.keep + 1 for ps in perts for p in ps), default=0)


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per op: how often the output changed, followed the edit, and stayed correct."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["op"]].append(r)
    return [
        {
            "op": op,
            "n": len(rs),
            "changed_rate": sum(r["changed"] for r in rs) / len(rs),
            "follows_edit_rate": sum(r["follows_edit"] for r in rs) / len(rs),
            "correct_rate": sum(r["correct"] for r in rs) / len(rs),
        }
        for op, rs in sorted(groups.items())
    ]


def rows_of(
    task: Task,
    examples: Sequence[Example],
    originals: Sequence[list[int]],
    pl: Plan,
    outs: Sequence[list[int]],
) -> list[dict[str, Any]]:
    """Tidy rows, one per (input × perturbation) pair."""
    v = task.vocab
    rows = []
    for k, out in enumerate(outs):
        i, p = pl.example[k], pl.perts[k]
        text = v.decode(out)
        rows.append(
            {
                "input": examples[i].input,
                "perturbation": p.label,
                "op": p.op,
                "position": p.position,
                "original": v.decode(originals[i]),
                "output": text,
                "changed": out != originals[i],
                "follows_edit": out == pl.edited[k],
                "correct": text == examples[i].output,
            }
        )
    return rows


@torch.no_grad()
def perturb(
    model: HookedModel,
    task: Task,
    examples: Sequence[Example],
    perturbations: Sequence[Perturbation] | Sequence[Sequence[Perturbation]],
    *,
    batch_size: int = 2048,
    heads: Sequence[Head] = (),
    hypothesis: Hypothesis | None = None,
) -> list[dict[str, Any]]:
    """One row per (input × perturbation): original and perturbed outputs, changed, followed, correct.

    `perturbations` is one list for every input or one list per input. With `heads` and a
    `hypothesis`, rows also hold each head's attention mass on the hypothesis before and after.
    """
    model.eval()
    if not examples:
        return []
    perts = _per_example(perturbations, len(examples))
    src = encode_sources(task.vocab, [e.input for e in examples])  # [N, S]
    max_new = _budget(task, examples, perts)
    originals = originals_of(model, src, max_new, batch_size)
    pl = plan(originals, perts, task)
    outs = decode_plan(model, src, pl, max_new, batch_size)
    rows = rows_of(task, examples, originals, pl, outs)
    if heads and hypothesis is not None:
        _head_change(model, task, examples, originals, pl, outs, rows, heads, hypothesis)
    return rows


@torch.no_grad()
def perturb_looped(
    model: HookedModel,
    task: Task,
    examples: Sequence[Example],
    perturbations: Sequence[Perturbation] | Sequence[Sequence[Perturbation]],
) -> list[dict[str, Any]]:
    """The reference: one decode per (input, perturbation) pair in a Python loop."""
    model.eval()
    perts = _per_example(perturbations, len(examples))
    max_new = _budget(task, examples, perts)
    rows: list[dict[str, Any]] = []
    for e, ps in zip(examples, perts, strict=True):
        src = encode_sources(task.vocab, [e.input])
        orig = originals_of(model, src, max_new, 1)
        for p in ps:
            pl = plan(orig, [[p]], task)
            rows += rows_of(task, [e], orig, pl, decode_plan(model, src, pl, max_new, 1))
    return rows


def head_masses(
    model: HookedModel,
    task: Task,
    examples: Sequence[Example],
    outputs: Sequence[list[str]],
    heads: Sequence[Head],
    hyp: Hypothesis,
) -> list[list[float]]:
    """Per example, each head's mean attention mass on the hypothesis target (nan: no claim)."""
    prep = prepare(model, task, examples, outputs)
    out = [[math.nan] * len(heads) for _ in examples]
    for idx, per_site in site_views(model, prep):
        claims = [list(hyp.fn(s)) for s in samples(prep, idx)]
        for site, vs in per_site.items():
            v = vs.get(hyp.space)
            wanted = [j for j, h in enumerate(heads) if h[:2] == (site.kind, site.layer)]
            if v is None or not wanted:
                continue
            tm = target_mask(claims, v.weights.shape[2], v.weights.shape[3])  # [B, Q, K]
            has = (tm.any(-1) & v.q_valid).float()  # [B, Q]
            mass = (v.weights * tm[:, None].float()).sum(-1)  # [B, H, Q]
            mean = (mass * has[:, None]).sum(-1) / has.sum(-1, keepdim=True)  # [B, H]
            for j in wanted:
                for r, i in enumerate(idx):
                    out[i][j] = float(mean[r, heads[j][2]])
    return out


def _head_change(
    model: HookedModel,
    task: Task,
    examples: Sequence[Example],
    originals: Sequence[list[int]],
    pl: Plan,
    outs: Sequence[list[int]],
    rows: list[dict[str, Any]],
    heads: Sequence[Head],
    hyp: Hypothesis,
) -> None:
    """Add `{kind}.{layer}.{head}:before/after` attention masses to each row (in place)."""
    v = task.vocab

    def toks(ids: list[int]) -> list[str]:
        return [v.tokens[i] for i in ids if i not in (v.eos_id, v.pad_id, v.bos_id)]

    before = head_masses(model, task, examples, [toks(g) for g in originals], heads, hyp)
    pair_ex = [examples[i] for i in pl.example]
    after = head_masses(model, task, pair_ex, [toks(o) for o in outs], heads, hyp)
    for k, row in enumerate(rows):
        for j, (kind, layer, head) in enumerate(heads):
            row[f"{kind}.{layer}.{head}:before"] = before[pl.example[k]][j]
            row[f"{kind}.{layer}.{head}:after"] = after[k][j]
