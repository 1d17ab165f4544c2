"""Score every head against attention hypotheses; rank; flag recursion heads.

score = mean attention mass a head puts on the hypothesis's target keys, over every (example,
query) where the hypothesis makes a claim; baseline = the same mean for uniform attention over the
keys the query can see. A recursion head sits in the final decoder layer, scores above a threshold
on a study hypothesis and beats its baseline by a wide margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from behaviorlab.interpret._layout import AttnSite, Prepared, View
from behaviorlab.interpret.attention import site_views
from behaviorlab.interpret.hypotheses import BUILTIN, Hypothesis, Sample, Target
from behaviorlab.models import HookedModel


def samples(prep: Prepared, rows: Sequence[int]) -> list[Sample]:
    """Hypothesis inputs for rows of a prepared batch."""
    return [
        Sample(
            prep.src_tokens[r],
            prep.tgt_tokens(r),
            prep.meta[r] if prep.meta else {},
            prep.seq_tokens[r] if prep.seq_tokens else [],
        )
        for r in rows
    ]


def target_mask(targets: Sequence[Sequence[Target]], q: int, k: int) -> Tensor:
    """Dense [B, Q, K] bool mask from per-row, per-query targets (out-of-range ones dropped)."""
    out = torch.zeros(len(targets), q, k, dtype=torch.bool)
    for b, per_query in enumerate(targets):
        for i, t in enumerate(per_query[:q]):
            if t is None:
                continue
            for j in [t] if isinstance(t, int) else t:
                if 0 <= j < k:
                    out[b, i, j] = True
    return out


def _score(v: View, tmask: Tensor) -> tuple[Tensor, float, int]:
    """Per-head summed mass [H], summed uniform baseline, and the number of scored items."""
    has = tmask.any(-1) & v.q_valid  # [B, Q]
    mass = (v.weights * tmask[:, None].float()).sum(-1)  # [B, H, Q]
    hits = (tmask & v.k_valid[:, None, :]).sum(-1).float()  # [B, Q]
    base = (hits / v.visible.clamp(min=1)).clamp(max=1.0)
    return (mass * has[:, None]).sum((0, 2)), float((base * has).sum()), int(has.sum())


def head_scores(
    model: HookedModel,
    prep: Prepared,
    hypotheses: Sequence[Hypothesis] = BUILTIN,
    *,
    batch_size: int = 256,
) -> list[dict[str, Any]]:
    """Rows {hypothesis, space, kind, layer, head, score, baseline, n}, best first per hypothesis."""
    acc: dict[tuple[str, AttnSite], list[Any]] = {}
    for idx, per_site in site_views(model, prep, batch_size):
        smp = samples(prep, idx)
        claims = {h.name: [list(h.fn(s)) for s in smp] for h in hypotheses}
        for hyp in hypotheses:
            if not any(any(t is not None for t in c) for c in claims[hyp.name]):
                continue
            masks: dict[tuple[int, int], Tensor] = {}  # sites of one space share their shape
            for site, vs in per_site.items():
                v = vs.get(hyp.space)
                if v is None:
                    continue
                shape = (v.weights.shape[2], v.weights.shape[3])
                if shape not in masks:
                    masks[shape] = target_mask(claims[hyp.name], *shape)
                tm = masks[shape]
                mass, base, n = _score(v, tm)
                prev = acc.setdefault((hyp.name, site), [torch.zeros_like(mass), 0.0, 0, hyp])
                prev[0] += mass
                prev[1] += base
                prev[2] += n
    rows = []
    for (name, site), (mass, base, n, hyp) in acc.items():
        if n == 0:
            continue
        for h in range(mass.shape[0]):
            rows.append(
                {
                    "hypothesis": name,
                    "space": hyp.space,
                    "study": hyp.study,
                    "kind": site.kind,
                    "layer": site.layer,
                    "head": h,
                    "score": float(mass[h]) / n,
                    "baseline": base / n,
                    "n": n,
                }
            )
    rows.sort(key=lambda r: (r["hypothesis"], -r["score"]))
    return rows


def top_heads(rows: Sequence[dict[str, Any]], hypothesis: str, k: int = 3) -> list[dict[str, Any]]:
    """The k best heads for one hypothesis."""
    return sorted((r for r in rows if r["hypothesis"] == hypothesis), key=lambda r: -r["score"])[:k]


def last_decoder_layer(model: HookedModel) -> int:
    """The deepest layer holding decoder-side (self or cross) attention; -1 when there is none."""
    return max((s.layer for s in model.attention_sites() if s.kind != "encoder"), default=-1)


def recursion_heads(
    rows: Sequence[dict[str, Any]],
    model: HookedModel,
    *,
    threshold: float = 0.4,
    ratio: float = 2.0,
    per_hypothesis: int = 2,
) -> list[dict[str, Any]]:
    """Final-decoder-layer heads scoring ≥ threshold and ≥ ratio × baseline on study hypotheses."""
    last = last_decoder_layer(model)
    found: list[dict[str, Any]] = []
    for hyp in dict.fromkeys(r["hypothesis"] for r in rows if r.get("study")):
        cands = [
            r
            for r in top_heads([r for r in rows if r["kind"] != "encoder"], hyp, 10**6)
            if r["layer"] == last and r["score"] >= threshold and r["score"] >= ratio * r["baseline"]
        ]
        found += cands[:per_hypothesis]
    found.sort(key=lambda r: -(r["score"] - r["baseline"]))
    return [{k: r[k] for k in ("kind", "layer", "head", "hypothesis", "score", "baseline")} for r in found]
