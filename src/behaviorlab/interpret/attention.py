"""Attention maps of every kind and head, averaged over inputs grouped by a metadata field.

Maps align by logical position: a cell (query i, key j) is averaged over the examples of the group
where both positions exist, so padded and variable-length batches mix cleanly. Axis labels are
positions: `i`, or `i:token` only where every input of the group has that same token there (a
map averaged over many inputs is not one example's tokens); unique, so plotly keeps them apart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor

from behaviorlab.interpret._layout import (
    AttnSite,
    Prepared,
    View,
    attention_sites,
    display_view,
    model_kind,
    views,
)
from behaviorlab.interpret.cache import run_with_cache
from behaviorlab.interpret.figures import attention_figure
from behaviorlab.models import Seq2SeqModel


@dataclass
class AttentionMap:
    """One head's (averaged) map; `to_dict` is the analysis/attention.json record."""

    kind: str
    layer: int
    head: int
    query_tokens: list[str]
    key_tokens: list[str]
    weights: list[list[float]]  # [query][key]
    group: str
    n: int  # examples averaged

    def to_dict(self) -> dict[str, Any]:
        """The attention.json record."""
        return asdict(self)

    def figure(self) -> Any:
        """A plotly heatmap with positions on both axes (tokens only where the inputs agree)."""
        title = f"{self.kind} · layer {self.layer} · head {self.head} · {self.group} (n={self.n})"
        return attention_figure(self.weights, self.key_tokens, self.query_tokens, title)


def take(prep: Prepared, idx: Sequence[int]) -> Prepared:
    """Rows `idx` of a prepared batch (tensor widths unchanged)."""
    ix = torch.as_tensor(list(idx), dtype=torch.long)
    return Prepared(
        prep.src[ix],
        prep.tgt_in[ix],
        [prep.src_tokens[i] for i in idx],
        [prep.out_tokens[i] for i in idx],
        [prep.meta[i] for i in idx] if prep.meta else [],
        [prep.targets[i] for i in idx] if prep.targets else [],
    )


def site_views(
    model: Seq2SeqModel, prep: Prepared, batch_size: int = 256
) -> Iterator[tuple[list[int], dict[AttnSite, dict[str, View]]]]:
    """Teacher-forced patterns of every site, as logical views, one chunk of rows at a time."""
    sites = attention_sites(model)
    kind = model_kind(model)
    for start in range(0, len(prep), batch_size):
        idx = list(range(start, min(len(prep), start + batch_size)))
        part = take(prep, idx)
        _, cache = run_with_cache(model, part.src, part.tgt_in, names=[s.hook for s in sites])
        yield idx, {s: views(s, cache[s.hook], part, kind, model.pad_id) for s in sites}


def _labels(
    prep: Prepared, rows: Sequence[int], side: str, width: int, valid: Tensor, prefix: str = ""
) -> list[str]:
    """`i` per position, `i:token` where every row that has the position has that token there."""
    out = []
    for i in range(width):
        c: Counter[str] = Counter()
        for r_pos, r in enumerate(rows):
            if bool(valid[r_pos, i]):
                toks = prep.src_tokens[r] if side == "src" else prep.tgt_tokens(r)
                c[toks[i] if i < len(toks) else "<slot>"] += 1
        out.append(f"{prefix}{i}:{next(iter(c))}" if len(c) == 1 else f"{prefix}{i}")
    return out


def _sides(space: str, kind: str) -> tuple[str, list[str]]:
    """Query side and the key sides of the display view."""
    if kind == "decoder-only":
        return "tgt", ["src", "tgt"]
    return {"encoder": ("src", ["src"]), "decoder": ("tgt", ["tgt"]), "cross": ("tgt", ["src"])}[space]


def attention_maps(
    model: Seq2SeqModel,
    prep: Prepared,
    *,
    group_by: str | None = None,
    kinds: Sequence[str] | None = None,
    layers: Sequence[int] | None = None,
    batch_size: int = 256,
) -> list[AttentionMap]:
    """Average maps per (site, head, group); group "all" when `group_by` is None."""
    kind = model_kind(model)
    groups = [str(m.get(group_by, "?")) if group_by else "all" for m in (prep.meta or [{}] * len(prep))]
    acc: dict[tuple[AttnSite, str], list[Any]] = {}
    members: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    for idx, per_site in site_views(model, prep, batch_size):
        for site, vs in per_site.items():
            if (kinds and site.kind not in kinds) or (layers is not None and site.layer not in layers):
                continue
            space, v = display_view(site, vs, kind)
            cell = (v.q_valid[:, :, None] & v.k_valid[:, None, :]).float()  # [B, Q, K]
            for g in set(groups[i] for i in idx):
                rows = torch.tensor([j for j, i in enumerate(idx) if groups[i] == g])
                w = (v.weights[rows] * cell[rows, None]).sum(0)  # [H, Q, K]
                qv, kv = v.q_valid[rows].any(0), v.k_valid[rows].any(0)
                prev = acc.get((site, g))
                n, c = cell[rows].sum(0), len(rows)
                if prev is None:
                    acc[(site, g)] = [w, n, qv, kv, c, space]
                else:
                    prev[0] += w
                    prev[1] += n
                    prev[2] |= qv
                    prev[3] |= kv
                    prev[4] += c
    return [m for (site, g), a in acc.items() for m in _finish(site, g, a, prep, members[g], kind)]


def _finish(
    site: AttnSite, group: str, a: list[Any], prep: Prepared, rows: list[int], kind: str
) -> list[AttentionMap]:
    """Turn accumulated sums into one AttentionMap per head, trimmed to positions that exist."""
    wsum, count, qv, kv, n, space = a
    mean = wsum / count.clamp(min=1)  # [H, Q, K]
    q_side, k_sides = _sides(space, kind)
    qi = torch.nonzero(qv).flatten()
    ki = torch.nonzero(kv).flatten()
    valid_q = _valid_matrix(prep, rows, q_side, mean.shape[1])
    q_labels = _labels(prep, rows, q_side, mean.shape[1], valid_q)
    k_labels: list[str] = []
    for side in k_sides:  # decoder-only keys: the prompt (labelled in0, in1, ...) then targets
        two = len(k_sides) > 1
        width = (prep.src.shape[1] if side == "src" else prep.tgt_in.shape[1]) if two else mean.shape[2]
        valid = _valid_matrix(prep, rows, side, width)
        k_labels += _labels(prep, rows, side, width, valid, "in" if two and side == "src" else "")
    sub = mean[:, qi][:, :, ki]
    return [
        AttentionMap(
            site.kind,
            site.layer,
            h,
            [q_labels[i] for i in qi.tolist()],
            [k_labels[i] for i in ki.tolist()],
            sub[h].tolist(),
            group,
            n,
        )
        for h in range(sub.shape[0])
    ]


def _valid_matrix(prep: Prepared, rows: list[int], side: str, width: int) -> Tensor:
    """[len(rows), width] bool: does position i exist in row r (input slots count as existing)."""
    out = torch.zeros(len(rows), width, dtype=torch.bool)
    for j, r in enumerate(rows):
        n = len(prep.src_tokens[r]) if side == "src" else len(prep.out_tokens[r]) + 1
        out[j, :n] = True
        if side == "src" and width > prep.src.shape[1]:  # encoder-only output slots
            out[j, n : n + width - prep.src.shape[1]] = True
    return out
