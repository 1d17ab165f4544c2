"""Any text model opened up: its hooked network, how its prompts become token ids, and attention
heads ablated by spec.

`white_box(model)` gives the `HookedModel` behind a `TextModel` (our runs' networks as they are;
Hugging Face and GGUF models hooked through lm/hooked_hf.py) with the model's own tokenization.
A spec may end in `#ablate=HEADS` (`smollm2#ablate=dec.3.h5,dec.4.h2`): `lm.load` then returns
the model with those heads' outputs zeroed whenever it generates or scores (their slice of the
input to the output projection), so any black-box tool measures it ablated, and its records name
the heads.
Heads: `{dec|enc}.{layer}.h{head}` for self-attention, `dec.{layer}.cross.h{head}` for
cross-attention.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from behaviorlab.errors import BadInput
from behaviorlab.lm.base import GREEDY, Completion, Decoding, ModelFacts, TextModel, facts
from behaviorlab.lm.hf_model import HFModel
from behaviorlab.lm.run import RunModel
from behaviorlab.models import HookContext, HookedModel, HookFn, HookHandle

ABLATE = "#ablate="
_HEAD = re.compile(r"^(dec|enc)\.(\d+)\.(?:(cross)\.)?h(\d+)$")


@dataclass(frozen=True)
class Head:
    """One attention head: stack, layer, self or cross attention, head index."""

    stack: str
    layer: int
    head: int
    cross: bool = False

    @property
    def label(self) -> str:
        """`dec.3.h5`, `dec.1.cross.h2`."""
        return f"{self.stack}.{self.layer}.{'cross.' if self.cross else ''}h{self.head}"

    @property
    def z_hook(self) -> str:
        """The hook holding this head's output before the output projection."""
        name = "cross_attn" if self.cross else ("attn" if self.stack == "enc" else "self_attn")
        return f"{self.stack}.{self.layer}.{name}.z"

    @property
    def kind(self) -> str:
        """The attention site kind (encoder | decoder | cross)."""
        return "cross" if self.cross else ("encoder" if self.stack == "enc" else "decoder")


def parse_heads(text: str) -> list[Head]:
    """`dec.3.h5,dec.4.h2` as heads (sorted, no repeats); BadInput naming the first bad item."""
    heads = []
    for item in (p.strip() for p in text.split(",")):
        m = _HEAD.match(item)
        if not m:
            raise BadInput(
                f"--ablate: {item!r} is not a head; write dec.LAYER.hHEAD (or enc.L.hH, dec.L.cross.hH), "
                "comma-separated, or top:HYPOTHESIS:K"
            )
        heads.append(Head(m[1], int(m[2]), int(m[4]), m[3] is not None))
    return sorted(set(heads), key=lambda h: (h.stack != "enc", h.layer, h.cross, h.head))


def split_ablation(spec: str) -> tuple[str, str | None]:
    """(the model spec, the heads text after `#ablate=`, or None)."""
    base, sep, heads = spec.partition(ABLATE)
    return (base, heads) if sep else (spec, None)


def check_heads(model: HookedModel, heads: Sequence[Head], where: str) -> None:
    """Every head exists in the model (BadInput naming the first that does not)."""
    sites = {(s.kind, s.layer): s for s in model.attention_sites() if s.z_hook is not None}
    for h in heads:
        site = sites.get((h.kind, h.layer))
        if site is None:
            layers = sorted({layer for kind, layer in sites if kind == h.kind})
            raise BadInput(f"{where}: no {h.kind} attention at layer {h.layer} (layers: {layers})")
        if not 0 <= h.head < site.n_heads:
            raise BadInput(f"{where}: {h.label}: layer {h.layer} has heads h0..h{site.n_heads - 1}")


@dataclass(frozen=True)
class ZeroHeads:
    """A z hook zeroing some heads' outputs; its `key` tells a prefix cache what it changes (the
    same heads zeroed give the same cache, lm/prefix.py)."""

    heads: tuple[int, ...]

    def __call__(self, x: Tensor, ctx: HookContext) -> Tensor:
        return x.index_fill(2, torch.tensor(self.heads), 0.0)  # z: [B, T, H, dh]

    @property
    def key(self) -> tuple[str, tuple[int, ...]]:
        return ("zero", self.heads)


def zeroing_hooks(heads: Sequence[Head]) -> list[tuple[str, HookFn]]:
    """(hook, fn) pairs zeroing each head's per-head output (one hook per layer)."""
    by_hook: dict[str, list[int]] = {}
    for h in heads:
        by_hook.setdefault(h.z_hook, []).append(h.head)
    return [(hook, ZeroHeads(tuple(sorted(idx)))) for hook, idx in by_hook.items()]


def zero_heads(model: HookedModel, heads: Sequence[Head]) -> list[HookHandle]:
    """Zero heads in every pass from now on; the handles undo it."""
    return [model.add_hook(hook, fn) for hook, fn in zeroing_hooks(heads)]


@dataclass
class WhiteBox:
    """A text model with its hooked network and tokenization (for prompts given as text)."""

    text: TextModel
    model: HookedModel

    @property
    def spec(self) -> str:
        return self.text.spec

    @property
    def name(self) -> str:
        return self.text.name

    def prompt_ids(self, prompt: str, chat: bool = False) -> list[int]:
        """Token ids of a prompt as the model reads it (special tokens and chat template included)."""
        if isinstance(self.text, HFModel):
            return self.text.prompt_ids(prompt, chat)
        assert isinstance(self.text, RunModel)
        return self.text.run.task.vocab.encode(prompt)

    def pieces(self, ids: Sequence[int]) -> list[str]:
        """Token strings of ids (axis labels); padding and unknown ids skipped."""
        if isinstance(self.text, HFModel):
            good = [i for i in ids if 0 <= i < len(self.text.tokenizer)]
            return [str(t) for t in self.text.tokenizer.convert_ids_to_tokens(good)]
        assert isinstance(self.text, RunModel)
        tokens = self.text.run.task.vocab.tokens
        return [tokens[i] for i in ids if 0 <= i < len(tokens)]

    def text_of(self, ids: Sequence[int]) -> str:
        """Generated ids as text (ends and padding dropped)."""
        keep = [int(i) for i in ids if int(i) >= 0 and not bool(self.model.is_eos(torch.tensor(int(i))))]
        if isinstance(self.text, HFModel):
            return self.text._decode(keep)
        assert isinstance(self.text, RunModel)
        return self.text.run.task.vocab.decode(keep)

    def slot_pieces(self, src_pieces: Sequence[Sequence[str]]) -> list[str]:
        """What sits in the bos slot of each row: a causal LM's last prompt token (it predicts the
        first answer token), else the decoder's start token."""
        model = self.model
        if isinstance(self.text, HFModel) and not self.text.seq2seq:
            return [row[-1] if row else "" for row in src_pieces]
        start = self.pieces([model.bos_id])
        return [start[0] if start else "<bos>"] * len(src_pieces)

    def plain_ids(self) -> list[int]:
        """Ordinary (non-special) token ids: what random-token prompts are drawn from."""
        if isinstance(self.text, HFModel):
            tok = self.text.tokenizer
            special = set(tok.all_special_ids)
            rows = self.text.model.get_input_embeddings().num_embeddings  # a tokenizer may add ids
            return [i for i in range(min(len(tok), rows)) if i not in special]
        assert isinstance(self.text, RunModel)
        return list(range(3, len(self.text.run.task.vocab.tokens)))

    def start_ids(self) -> list[int]:
        """What a plain prompt starts with before its text (a Llama tokenizer's bos), if anything."""
        if not isinstance(self.text, HFModel):
            return []
        tok = self.text.tokenizer
        bare = tok("a", add_special_tokens=False)["input_ids"]
        full = list(tok("a")["input_ids"])
        return full[: full.index(bare[0])] if bare and bare[0] in full else []


def white_box(text: TextModel) -> WhiteBox:
    """The white-box view of a text model (our runs and Hugging Face / GGUF models)."""
    if isinstance(text, HFModel):
        from behaviorlab.lm.hooked_hf import hook_hf

        return WhiteBox(text, hook_hf(text))
    if isinstance(text, RunModel):
        text.run.model.eval()
        return WhiteBox(text, text.run.model)
    if isinstance(text, AblatedModel):
        raise BadInput(
            f"{text.spec}: open the model without #ablate= (interpret ablate --heads zeroes heads)"
        )
    raise BadInput(f"{text.spec}: no white-box view of a {type(text).__name__}")


class AblatedModel:
    """A text model whose named heads are zeroed while it generates or scores (the model itself is
    untouched between calls, so one loaded network can serve several variants)."""

    def __init__(self, text: TextModel, heads: Sequence[Head]) -> None:
        self.box = white_box(text)
        check_heads(self.box.model, heads, text.spec)
        self.inner, self.heads = text, list(heads)
        label = ",".join(h.label for h in self.heads)
        self.spec = f"{text.spec}{ABLATE}{label}"
        self.name = f"{text.name} −{len(heads)} head{'s' * (len(heads) != 1)}"
        self.alphabet = text.alphabet
        self.has_chat_template = text.has_chat_template
        self.context_length = text.context_length

    def __repr__(self) -> str:
        return f"<AblatedModel {self.spec}>"

    def tokenize(self, text: str) -> list[str]:
        """As the model reads `text`."""
        return self.inner.tokenize(text)

    def facts(self) -> ModelFacts:
        """The model's own facts (ablating heads changes none of them)."""
        return facts(self.inner)

    def generate(
        self,
        prompts: Sequence[str],
        max_new_tokens: int,
        *,
        decoding: Decoding = GREEDY,
        stop: Sequence[str] = (),
        chat: bool = False,
        prefix: str = "",
    ) -> list[Completion]:
        """The model's completions with the heads zeroed (a shared prefix read with them zeroed too,
        and cached apart from the unablated model's: the cache is keyed by the zeroed heads)."""
        with self.box.model.hooks(zeroing_hooks(self.heads)):
            return self.inner.generate(
                prompts, max_new_tokens, decoding=decoding, stop=stop, chat=chat, prefix=prefix
            )

    def score(
        self, prompts: Sequence[str], continuations: Sequence[str], *, chat: bool = False, prefix: str = ""
    ) -> list[list[float]]:
        """Teacher-forced log-probs with the heads zeroed."""
        with self.box.model.hooks(zeroing_hooks(self.heads)):
            return self.inner.score(prompts, continuations, chat=chat, prefix=prefix)


def with_ablation(text: TextModel, heads_text: str) -> AblatedModel:
    """The model seen with heads zeroed; its spec and name say which."""
    return AblatedModel(text, parse_heads(heads_text))
