"""`HookedModel`: the white-box interface — what `interpret` may ask of any model it opens up.

Our own kinds implement it (`Seq2SeqModel`), and so does a Hugging Face or GGUF language model
wrapped by `lm.hooked_hf`. A model is run on (src, tgt_in) batches: src [B, S] holds the input
ids right-padded with `pad_id`, tgt_in [B, T] the decoder input `[bos] + y` right-padded; logits
position t predicts y_{t+1}. Besides hooks (models/hooks.py) a model states where its attention
lives (`attention_sites`) and how a pattern of one site reads in logical coordinates (`views`):

- "encoder": input queries × input keys; "decoder": target queries × target keys; "cross":
  target queries × input keys (target position t holds tgt_in[t]);
- "sequence": every real token the one stack reads, in reading order (input, then output) — the
  space language-model hypotheses (previous token, induction) are stated in.

Patterns are always per query head [B, H, Tq, Tk]: grouped-query models repeat each key/value
head for the query heads that share it, as their own attention does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

from behaviorlab.models.generate import Generation, StepFn
from behaviorlab.models.hooks import HookFn, HookHandle

SPACES = ("encoder", "decoder", "cross", "sequence")


@dataclass(frozen=True)
class AttnSite:
    """One attention pattern hook: its kind (encoder|decoder|cross), layer, heads and z hook.

    `kv_heads` is how many key/value heads feed the `n_heads` query heads (fewer under
    grouped-query attention; query head h reads key/value head h // (n_heads // kv_heads)).
    """

    kind: str
    layer: int
    hook: str
    z_hook: str | None  # per-head outputs [B, T, H, dh]; None for the LSTM's single attention
    n_heads: int
    kv_heads: int | None = None

    @property
    def kv_group(self) -> int:
        """Query heads per key/value head (1 without grouped-query attention)."""
        return self.n_heads // (self.kv_heads or self.n_heads)


@dataclass
class View:
    """A pattern in one logical space: weights, which cells exist, and visible keys per query."""

    weights: Tensor  # [B, H, Q, K]
    q_valid: Tensor  # [B, Q] bool
    k_valid: Tensor  # [B, K] bool
    visible: Tensor  # [B, Q] float: keys the query could attend to (uniform baseline's denominator)


@dataclass(frozen=True)
class Display:
    """The one map to draw per head: its space, view, and which token rows label its axes."""

    space: str
    view: View
    q_side: str  # "src" | "tgt" | "seq"
    k_sides: tuple[str, ...]  # key axis: one side, or input then target keys


@runtime_checkable
class HookedModel(Protocol):
    """Named hooks, attention sites and their layout, teacher-forced and cached runs."""

    pad_id: int
    bos_id: int
    eos_id: int
    training: bool
    one_pass: bool  # emits every output token in one pass (no prefix to force)
    generation_patchable: bool  # hook positions index a generated cache's query dim

    def hook_names(self) -> list[str]:
        """Every hook point name, in module order."""
        ...

    def add_hook(self, name_or_glob: str, fn: HookFn) -> HookHandle:
        """Attach `fn` to every matching hook point."""
        ...

    def remove_hooks(self) -> None:
        """Detach every hook function."""
        ...

    def hooks(self, pairs: Iterable[tuple[str, HookFn]]) -> AbstractContextManager[None]:
        """Attach (name_or_glob, fn) pairs for a `with` block."""
        ...

    def __call__(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        """Teacher-forced logits [B, T, V]; position t predicts y_{t+1}."""
        ...

    def generate(
        self,
        src: Tensor,
        max_new_tokens: int,
        *,
        greedy: bool = True,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
    ) -> Generation:
        """Cached decoding until eos or the budget (hooks see each step)."""
        ...

    def stepper(self, src: Tensor, max_new_tokens: int) -> StepFn:
        """Cached decoding one step at a time: step(prev ids [B], t) -> next logits [B, V]."""
        ...

    def max_new(self, src: Tensor, max_new_tokens: int) -> int:
        """The generation budget that fits the model's positions."""
        ...

    def is_eos(self, ids: Tensor) -> Tensor:
        """Bool mask of ids that end a sequence."""
        ...

    def eval(self) -> Any:
        """Inference mode (no dropout)."""
        ...

    def train(self, mode: bool = True) -> Any:
        """Training mode."""
        ...

    def attention_sites(self) -> list[AttnSite]:
        """Every attention pattern hook, in module order."""
        ...

    def views(self, site: AttnSite, pattern: Tensor, src_ok: Tensor, tgt_ok: Tensor) -> dict[str, View]:
        """A teacher-forced pattern [B, H, Tq, Tk] of `site` in each logical space it covers."""
        ...

    def display(self, site: AttnSite, views: dict[str, View]) -> Display:
        """The map to draw for a site."""
        ...

    def sequence_tokens(self, src: list[str], tgt: list[str]) -> list[str]:
        """The "sequence" space's tokens for one row (tgt starts with the bos slot)."""
        ...

    def position_table(self, stack: str) -> Callable[[Tensor], Tensor] | None:
        """Position vectors of a stack ("enc"/"dec") for positions [B, T], if it adds any."""
        ...

    def d_model(self) -> int:
        """Width of the residual stream."""
        ...


def gather_view(p: Tensor, qi: Tensor, ki: Tensor) -> Tensor:
    """p[b, :, qi[b], ki[b]] for per-row index tensors qi [B, Q], ki [B, K] -> [B, H, Q, K]."""
    b, h, _, kt = p.shape
    rows = p.gather(2, qi[:, None, :, None].expand(b, h, qi.shape[1], kt))
    return rows.gather(3, ki[:, None, None, :].expand(b, h, qi.shape[1], ki.shape[1]))


def joined_views(pattern: Tensor, src_ok: Tensor, tgt_ok: Tensor, tgt_shift: int) -> dict[str, View]:
    """Views of one causal stack over [left-padded src | tgt]: target position t sits at
    S + t + tgt_shift (0 when a bos token separates them, -1 when the last input token predicts
    the first output token, as in a pretrained LM)."""
    b, s = src_ok.shape
    t = tgt_ok.shape[1]
    n_src = src_ok.sum(1)  # [B]
    offset = s - n_src  # left padding inside the model
    ar_s, ar_t = torch.arange(s)[None, :], torch.arange(t)[None, :]
    si = (offset[:, None] + ar_s).clamp(max=s - 1)  # [B, S]
    ti = (s + tgt_shift + ar_t).clamp(min=0).expand(b, -1)  # [B, T]
    visible = n_src[:, None].float() + ar_t.float() + 1 + tgt_shift
    # "sequence": the input's real tokens, then the target's that the input does not hold already
    width = s + t + tgt_shift
    j = torch.arange(width)[None, :]  # [1, W]
    before = j < n_src[:, None]
    seq = torch.where(before, offset[:, None] + j, s + j - n_src[:, None]).clamp(max=pattern.shape[-1] - 1)
    seq_ok = j < (n_src + tgt_ok.sum(1) + tgt_shift)[:, None]  # [B, W]
    return {
        "encoder": View(gather_view(pattern, si, si), src_ok, src_ok, (ar_s.float() + 1).expand(b, -1)),
        "decoder": View(gather_view(pattern, ti, ti), tgt_ok, tgt_ok, visible),
        "cross": View(gather_view(pattern, ti, si), tgt_ok, src_ok, visible),
        "sequence": View(gather_view(pattern, seq, seq), seq_ok, seq_ok, (j.float() + 1).expand(b, -1)),
    }


def stack_views(site: AttnSite, pattern: Tensor, src_ok: Tensor, tgt_ok: Tensor) -> dict[str, View]:
    """Views of a model with an encoder stack and a decoder stack: each site in its own space; the
    encoder's self-attention is also the "sequence" space (the input is what it reads)."""
    n_src = src_ok.sum(1, keepdim=True).float()  # [B, 1]
    if site.kind == "encoder":
        q = pattern.shape[2]  # encoder-only adds output slots after the input
        valid = torch.zeros(src_ok.shape[0], q, dtype=torch.bool)
        valid[:, : src_ok.shape[1]] = src_ok
        slots = max(0, q - src_ok.shape[1])
        q_ok = torch.arange(q)[None, :] < n_src + slots  # own slots only
        v = View(pattern, q_ok, valid, n_src.expand(-1, q))
        return {"encoder": v, "sequence": v}
    if site.kind == "decoder":
        t_idx = torch.arange(tgt_ok.shape[1])[None, :].float()
        return {"decoder": View(pattern, tgt_ok, tgt_ok, (t_idx + 1).expand_as(tgt_ok))}
    return {"cross": View(pattern, tgt_ok, src_ok, n_src.expand_as(tgt_ok))}


_SIDES = {"encoder": ("src", ("src",)), "decoder": ("tgt", ("tgt",)), "cross": ("tgt", ("src",))}


def own_display(site: AttnSite, views: dict[str, View]) -> Display:
    """Draw a site in its own space, labelled by the side(s) its queries and keys read."""
    q_side, k_sides = _SIDES[site.kind]
    return Display(site.kind, views[site.kind], q_side, k_sides)
