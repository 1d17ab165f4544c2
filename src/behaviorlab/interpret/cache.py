"""Activation caching: keep only the hooks asked for, teacher-forced or during cached generation.

During cached generation a hook fires once per step ([B, 1, ...], patterns [B, H, 1, K] with K
growing); the pieces are joined along the query dimension and patterns are zero-padded on the key
dimension, so a generated cache has the same layout as a teacher-forced one.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write
from behaviorlab.models import Generation, HookContext, HookedModel


class ActivationCache(Mapping[str, Tensor]):
    """Hook name -> activation; `.save()` to safetensors, `.summary()` as tidy rows."""

    def __init__(self, acts: dict[str, Tensor]) -> None:
        self._acts = acts

    def __getitem__(self, name: str) -> Tensor:
        try:
            return self._acts[name]
        except KeyError:
            raise BadInput(f"{name!r} is not cached; cached: {', '.join(self._acts)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._acts)

    def __len__(self) -> int:
        return len(self._acts)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {tuple(v.shape)}" for k, v in self._acts.items())
        return f"ActivationCache({shapes})"

    def save(self, path: Path) -> None:
        """Write every tensor to one safetensors file (atomically)."""
        tensors = {k: v.contiguous() for k, v in self._acts.items()}
        atomic_write(path, lambda tmp: save_file(tensors, str(tmp)))

    @classmethod
    def load(cls, path: Path) -> ActivationCache:
        """Read a cache written by `save`."""
        return cls(dict(load_file(str(path))))

    def summary(self) -> list[dict[str, Any]]:
        """One row per tensor: name, shape, mean, std, mean absolute value."""
        rows = []
        for k, v in self._acts.items():
            f = v.float()
            rows.append(
                {
                    "name": k,
                    "shape": list(v.shape),
                    "mean": float(f.mean()),
                    "std": float(f.std()) if f.numel() > 1 else 0.0,
                    "mean_abs": float(f.abs().mean()),
                }
            )
        return rows

    def save_summary(self, path: Path) -> None:
        """The summary rows as Parquet."""
        table = pa.Table.from_pylist(self.summary())
        atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def _join(parts: list[Tensor], name: str) -> Tensor:
    """Concatenate per-step pieces along the query dim (patterns: pad keys to the widest)."""
    if len(parts) == 1:
        return parts[0]
    if name.endswith("pattern"):  # [B, H, q, K_t]
        k = max(p.shape[-1] for p in parts)
        parts = [torch.nn.functional.pad(p, (0, k - p.shape[-1])) for p in parts]
        return torch.cat(parts, dim=2)
    return torch.cat(parts, dim=1)  # [B, q, ...]


def run_with_cache(
    model: HookedModel,
    src: Tensor,
    tgt_in: Tensor | None = None,
    *,
    generate: bool = False,
    names: Sequence[str] = ("*",),
    to_cpu: bool = True,
    dtype: torch.dtype | None = None,
    max_new_tokens: int = 64,
) -> tuple[Tensor | Generation, ActivationCache]:
    """Run teacher-forced (tgt_in given) or greedy generation, caching only hooks matching `names`.

    Returns (logits [B, T, V] or a Generation, cache).
    """
    if tgt_in is None and not generate:
        raise BadInput("run_with_cache needs tgt_in (teacher forcing) or generate=True")
    all_names = model.hook_names()
    chosen = [n for n in all_names if any(fnmatch.fnmatchcase(n, g) for g in names)]
    if not chosen:
        near = [m for g in names for m in difflib.get_close_matches(g, all_names, n=5, cutoff=0.4)]
        hint = ", ".join(dict.fromkeys(near)) or ", ".join(all_names[:8]) + ", ..."
        raise BadInput(f"no hook matches {', '.join(names)}; near names: {hint}")
    parts: dict[str, list[Tensor]] = {n: [] for n in chosen}

    def keep(x: Tensor, ctx: HookContext) -> None:
        y = x.detach()
        y = y.to("cpu") if to_cpu else y
        parts[ctx.name].append(y.to(dtype) if dtype is not None else y.clone())

    with torch.no_grad(), model.hooks([(n, keep) for n in chosen]):
        out: Tensor | Generation
        if generate:
            out = model.generate(src, max_new_tokens, greedy=True)
        else:
            assert tgt_in is not None
            out = model(src, tgt_in)
    acts = {n: _join(p, n) for n, p in parts.items() if p}
    return out, ActivationCache(acts)
