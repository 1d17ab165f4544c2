"""Transformer parts shared by the three transformer kinds: positions, attention, MLP, block.

Attention uses F.scaled_dot_product_attention unless a hook is attached to the pattern (or
the z/out path needs it): then it computes softmax(QKᵀ/√d + mask) explicitly so the pattern
[B, H, Tq, Tk] can be read or replaced. Masks are additive floats (0 or -inf) built once per pass.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from behaviorlab.errors import BadInput
from behaviorlab.models.config import ModelConfig
from behaviorlab.models.hooks import HookPoint, RunInfo


def sinusoid_table(n: int, d: int) -> Tensor:
    """The Vaswani et al. sinusoidal position table [n, d]."""
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    table = torch.zeros(n, d)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)[:, : d // 2]
    return table


class Positions(nn.Module):
    """Learned or sinusoidal position vectors; both are kept so the kind can swap at run time."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.kind: Literal["learned", "sinusoidal"] = cfg.pos_encoding
        self.learned = nn.Embedding(cfg.max_len, cfg.d_model)
        # Not persistent: a deterministic function of the config, so checkpoints stay small.
        self.register_buffer("sinusoid", sinusoid_table(cfg.max_len, cfg.d_model), persistent=False)

    def forward(self, positions: Tensor) -> Tensor:
        """Position vectors for `positions` [B, T] -> [B, T, D]; bounds are checked by the caller."""
        # No bound check here: reading positions.max() would sync and break torch.compile's graph.
        # Each model checks its lengths once (check_length) where it builds the positions.
        if self.kind == "learned":
            return self.learned(positions)
        table: Tensor = self.sinusoid  # type: ignore[assignment]
        return F.embedding(positions, table)


def check_length(n: int, max_len: int) -> None:
    """Refuse `n` positions (0..n-1) when the position table has only `max_len` rows."""
    if n > max_len:
        raise BadInput(
            f"position {n - 1} is beyond max_len={max_len}; use shorter sequences or raise model.max_len"
        )


def key_mask(valid: Tensor) -> Tensor:
    """Additive mask [B, 1, 1, K] from valid keys [B, K]; an all-pad row keeps key 0 (no NaN)."""
    valid = valid.clone()
    valid[:, 0] |= ~valid.any(dim=1)
    zero = torch.zeros((), dtype=torch.float32, device=valid.device)
    return torch.where(valid, zero, float("-inf"))[:, None, None, :]


def causal_mask(tq: int, tk: int, device: torch.device) -> Tensor:
    """Additive mask [Tq, Tk]: query i (the last tq of tk positions) sees keys ≤ its position."""
    return torch.full((tq, tk), float("-inf"), device=device).triu(tk - tq + 1)


class KVCache:
    """Preallocated keys/values [B, H, Tmax, dh] of one self-attention layer, filled in order."""

    def __init__(self, batch: int, heads: int, t_max: int, d_head: int, ref: Tensor) -> None:
        self.k = ref.new_zeros(batch, heads, t_max, d_head)
        self.v = ref.new_zeros(batch, heads, t_max, d_head)
        self.n = 0

    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store new k, v [B, H, t, dh]; return all keys/values so far [B, H, n, dh]."""
        t = k.shape[2]
        self.k[:, :, self.n : self.n + t] = k
        self.v[:, :, self.n : self.n + t] = v
        self.n += t
        return self.k[:, :, : self.n], self.v[:, :, : self.n]


class Attention(nn.Module):
    """Multi-head attention; self (fused qkv) or cross (q from x, kv from memory)."""

    def __init__(self, cfg: ModelConfig, name: str, cross: bool) -> None:
        super().__init__()
        d, self.h, self.dh = cfg.d_model, cfg.n_heads, cfg.d_head
        self.cross = cross
        self.dropout = cfg.dropout
        if cross:
            self.q = nn.Linear(d, d)
            self.kv = nn.Linear(d, 2 * d)
        else:
            self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.hook_pattern = HookPoint(f"{name}.pattern")  # [B, H, Tq, Tk]
        self.hook_z = HookPoint(f"{name}.z")  # [B, Tq, H, dh], per-head outputs before proj

    def _heads(self, x: Tensor) -> Tensor:
        b, t, _ = x.shape  # [B, T, D] -> [B, H, T, dh]
        return x.view(b, t, self.h, self.dh).transpose(1, 2)

    def memory_kv(self, memory: Tensor) -> tuple[Tensor, Tensor]:
        """Cross-attention keys and values [B, H, S, dh] from encoder output (once per input)."""
        k, v = self.kv(memory).split(self.h * self.dh, dim=-1)
        return self._heads(k), self._heads(v)

    def forward(
        self,
        x: Tensor,  # [B, Tq, D]
        run: RunInfo,
        mask: Tensor | None = None,  # additive, broadcastable to [B, H, Tq, Tk]
        causal: bool = False,
        kv: tuple[Tensor, Tensor] | None = None,  # cross: precomputed memory keys/values
        cache: KVCache | None = None,  # self: keys/values of earlier steps
    ) -> Tensor:
        """Attention output after the output projection [B, Tq, D]."""
        if self.cross:
            assert kv is not None
            q, (k, v) = self._heads(self.q(x)), kv
        else:
            q, k, v = (self._heads(t) for t in self.qkv(x).split(self.h * self.dh, dim=-1))
            if cache is not None:
                k, v = cache.append(k, v)
        p_drop = self.dropout if self.training else 0.0
        if self.hook_pattern.active:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.dh)  # [B, H, Tq, Tk]
            if causal:
                scores = scores + causal_mask(q.shape[2], k.shape[2], q.device)
            if mask is not None:
                scores = scores + mask
            pattern = self.hook_pattern(scores.softmax(dim=-1), run)
            z = F.dropout(pattern, p_drop, self.training) @ v  # [B, H, Tq, dh]
        else:
            # SDPA's is_causal aligns top-left, right only when Tq == Tk (teacher forcing).
            z = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p_drop, is_causal=causal)
        z = self.hook_z(z.transpose(1, 2), run)  # [B, Tq, H, dh]
        return self.proj(z.reshape(z.shape[0], z.shape[1], -1))


class MLP(nn.Module):
    """Position-wise feed-forward: Linear -> GELU -> Linear."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.d_model, cfg.d_ff)
        self.out = nn.Linear(cfg.d_ff, cfg.d_model)

    def forward(self, x: Tensor) -> Tensor:
        """[B, T, D] -> [B, T, D]."""
        return self.out(F.gelu(self.fc(x)))


class Block(nn.Module):
    """One transformer layer: self-attention, optional cross-attention, MLP; pre- or post-norm."""

    def __init__(self, cfg: ModelConfig, prefix: str, self_name: str, cross: bool) -> None:
        super().__init__()
        self.pre = cfg.norm == "pre"
        self.dropout = cfg.dropout
        d = cfg.d_model
        self.ln_attn = nn.LayerNorm(d)
        self.attn = Attention(cfg, f"{prefix}.{self_name}", cross=False)
        self.hook_attn_out = HookPoint(f"{prefix}.{self_name}.out")
        self.cross: Attention | None = None
        if cross:
            self.ln_cross = nn.LayerNorm(d)
            self.cross = Attention(cfg, f"{prefix}.cross_attn", cross=True)
            self.hook_cross_out = HookPoint(f"{prefix}.cross_attn.out")
        self.ln_mlp = nn.LayerNorm(d)
        self.mlp = MLP(cfg)
        self.hook_mlp_out = HookPoint(f"{prefix}.mlp.out")
        self.hook_resid_post = HookPoint(f"{prefix}.resid.post")

    def _drop(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.dropout, self.training) if self.dropout else x

    def forward(
        self,
        x: Tensor,  # [B, T, D]
        run: RunInfo,
        mask: Tensor | None = None,
        causal: bool = False,
        cache: KVCache | None = None,
        memory_kv: tuple[Tensor, Tensor] | None = None,
        memory_mask: Tensor | None = None,  # [B, 1, 1, S]
    ) -> Tensor:
        """The residual stream after this layer [B, T, D]."""
        if self.pre:
            a = self.attn(self.ln_attn(x), run, mask, causal, cache=cache)
            x = x + self._drop(self.hook_attn_out(a, run))
            if self.cross is not None:
                c = self.cross(self.ln_cross(x), run, memory_mask, kv=memory_kv)
                x = x + self._drop(self.hook_cross_out(c, run))
            m = self.hook_mlp_out(self.mlp(self.ln_mlp(x)), run)
            x = x + self._drop(m)
        else:
            a = self.attn(x, run, mask, causal, cache=cache)
            x = self.ln_attn(x + self._drop(self.hook_attn_out(a, run)))
            if self.cross is not None:
                c = self.cross(x, run, memory_mask, kv=memory_kv)
                x = self.ln_cross(x + self._drop(self.hook_cross_out(c, run)))
            m = self.hook_mlp_out(self.mlp(x), run)
            x = self.ln_mlp(x + self._drop(m))
        return self.hook_resid_post(x, run)


def init_weights(module: nn.Module, n_layers: int) -> None:
    """GPT-2 style init: N(0, 0.02), zero biases, residual projections scaled by 1/√(2·layers)."""
    for name, p in module.named_parameters():
        if p.dim() < 2:
            if name.endswith("bias"):
                nn.init.zeros_(p)
            continue
        residual = name.endswith(("proj.weight", "mlp.out.weight"))
        std = 0.02 / math.sqrt(2 * n_layers) if residual else 0.02
        nn.init.normal_(p, mean=0.0, std=std)


class Stack(nn.Module):
    """Embeddings' hooks, positions, N blocks, final LayerNorm (pre-norm): one side of a model."""

    def __init__(self, cfg: ModelConfig, n_layers: int, prefix: str, self_name: str, cross: bool):
        super().__init__()
        self.dropout = cfg.dropout
        self.heads, self.d_head = cfg.n_heads, cfg.d_head
        self.hook_tok = HookPoint(f"{prefix}.embed.tok")  # [B, T, D]
        self.hook_pos = HookPoint(f"{prefix}.embed.pos")  # [B, T, D]
        self.pos = Positions(cfg)
        self.blocks = nn.ModuleList(Block(cfg, f"{prefix}.{i}", self_name, cross) for i in range(n_layers))
        # Post-norm blocks end in a LayerNorm already; pre-norm needs one before the readout.
        self.ln_f: nn.Module = nn.LayerNorm(cfg.d_model) if cfg.norm == "pre" else nn.Identity()

    def forward(
        self,
        tok: Tensor,  # [B, T, D] token embeddings
        run: RunInfo,  # run.positions [B, T] index the position table
        mask: Tensor | None = None,
        causal: bool = False,
        caches: list[KVCache] | None = None,
        memory_kvs: list[tuple[Tensor, Tensor]] | None = None,
        memory_mask: Tensor | None = None,
    ) -> Tensor:
        """Final hidden states [B, T, D]."""
        x = self.hook_tok(tok, run) + self.hook_pos(self.pos(run.positions), run)
        if self.dropout:
            x = F.dropout(x, self.dropout, self.training)
        for i, block in enumerate(self.blocks):
            x = block(
                x,
                run,
                mask,
                causal,
                cache=caches[i] if caches is not None else None,
                memory_kv=memory_kvs[i] if memory_kvs is not None else None,
                memory_mask=memory_mask,
            )
        out: Tensor = self.ln_f(x)
        return out

    def memory_kvs(self, memory: Tensor) -> list[tuple[Tensor, Tensor]]:
        """Cross-attention keys/values of every layer for encoder output [B, S, D]."""
        kvs = []
        for blk in self.blocks:
            assert isinstance(blk, Block) and blk.cross is not None
            kvs.append(blk.cross.memory_kv(memory))
        return kvs

    def new_caches(self, batch: int, t_max: int, ref: Tensor) -> list[KVCache]:
        """Empty self-attention caches for `t_max` positions, one per layer."""
        return [KVCache(batch, self.heads, t_max, self.d_head, ref) for _ in self.blocks]


def arange_positions(batch: int, start: int, length: int, device: torch.device) -> Tensor:
    """Positions start..start+length-1 shared by every row [B, T] (an expanded view, no copy)."""
    return torch.arange(start, start + length, device=device).expand(batch, length)
