"""Batches for analysis, and how each attention site's pattern reads in logical coordinates.

Every analysis works on a `Prepared` batch (inputs plus the output tokens to teacher-force) and on
`AttnSite`s (one per attention pattern hook). Where a site's queries and keys sit is the model's
business (`HookedModel.views`, models/hooked.py): its pattern comes back as *views* in the logical
spaces "encoder" (input queries × input keys), "decoder" (target queries × target keys), "cross"
(target queries × input keys) and "sequence" (every token the stack reads, in order). Target
position t holds tgt_in[t] = [bos, y1, ...][t] and is where y_{t+1} is predicted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from torch import Tensor

from behaviorlab.batching import pad
from behaviorlab.evaluate.predict import generate_strings
from behaviorlab.models import SPACES, AttnSite, Display, HookedModel, View
from behaviorlab.tasks import Example, Task
from behaviorlab.tasks.tokenize import SPECIALS

__all__ = ["SPACES", "AttnSite", "Prepared", "View", "attention_sites", "display_view", "prepare", "views"]


@dataclass
class Prepared:
    """A batch of inputs with the output tokens that are teacher-forced (generated or reference)."""

    src: Tensor  # [B, S] right-padded input ids
    tgt_in: Tensor  # [B, T] [bos] + output ids, right-padded
    src_tokens: list[list[str]]
    out_tokens: list[list[str]]  # output tokens without bos/eos
    meta: list[dict[str, int]] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # reference outputs (canonical strings)
    seq_tokens: list[list[str]] = field(default_factory=list)  # the "sequence" space's tokens
    tgt_first: list[str] = field(default_factory=list)  # what sits in the bos slot (default <bos>)

    def __len__(self) -> int:
        return len(self.src_tokens)

    def tgt_tokens(self, i: int) -> list[str]:
        """Decoder-input tokens of row i: `<bos>` (or the token in its slot) then the output."""
        return [self.tgt_first[i] if self.tgt_first else "<bos>", *self.out_tokens[i]]

    def with_sequence(self, model: HookedModel) -> Prepared:
        """Fill `seq_tokens` from the model's layout (in place; returns self)."""
        rows = range(len(self))
        self.seq_tokens = [model.sequence_tokens(self.src_tokens[i], self.tgt_tokens(i)) for i in rows]
        return self


def prepare(
    model: HookedModel,
    task: Task,
    examples: Sequence[Example],
    outputs: Sequence[Sequence[str]] | None = None,
    *,
    use_reference: bool = False,
) -> Prepared:
    """Encode examples; outputs default to the model's greedy generations (or the references)."""
    vocab = task.vocab
    if outputs is None:
        if use_reference:
            outputs = [vocab.tokenize(e.output) for e in examples]
        else:
            longest = max((len(vocab.tokenize(e.output)) for e in examples), default=1)
            gens = generate_strings(model, task, [e.input for e in examples], longest + 5)
            outputs = [[t for t in toks if t not in SPECIALS] for toks, _ in gens]
    src_tokens = [vocab.tokenize(e.input) for e in examples]
    src = pad([[vocab.id(t) for t in s] for s in src_tokens], vocab.pad_id)
    tgt_in = pad([[vocab.bos_id] + [vocab.id(t) for t in o] for o in outputs], vocab.pad_id)
    return Prepared(
        src,
        tgt_in,
        src_tokens,
        [list(o) for o in outputs],
        [dict(e.meta) for e in examples],
        [e.output for e in examples],
    ).with_sequence(model)


def attention_sites(model: HookedModel) -> list[AttnSite]:
    """Every attention pattern hook of a model, in module order."""
    return model.attention_sites()


def views(model: HookedModel, site: AttnSite, pattern: Tensor, prep: Prepared) -> dict[str, View]:
    """Logical views of one site's pattern (teacher-forced on prep) keyed by space."""
    return model.views(site, pattern, prep.src != model.pad_id, prep.tgt_in != model.pad_id)


def display_view(model: HookedModel, site: AttnSite, vs: dict[str, View]) -> Display:
    """The one map to draw per head, with the token rows that label its axes."""
    return model.display(site, vs)


def side_tokens(prep: Prepared, i: int, side: str) -> list[str]:
    """Tokens of row i on one side: "src" (input), "tgt" (decoder input) or "seq" (sequence)."""
    if side == "src":
        return prep.src_tokens[i]
    return prep.tgt_tokens(i) if side == "tgt" else prep.seq_tokens[i]
