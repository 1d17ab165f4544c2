"""Where attention lives in each model kind, and how to read its patterns in logical coordinates.

Every analysis works on a `Prepared` batch (inputs plus the output tokens to teacher-force) and on
`AttnSite`s (one per attention pattern hook). A site exposes *views* in three logical spaces:
"encoder" (input queries × input keys), "decoder" (target queries × target keys) and "cross"
(target queries × input keys). Target position t holds tgt_in[t] = [bos, y1, ...][t] and is where
y_{t+1} is predicted. A decoder-only model's one self-attention serves all three spaces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from behaviorlab.batching import pad
from behaviorlab.evaluate.predict import generate_strings
from behaviorlab.models import Seq2SeqModel
from behaviorlab.tasks import Example, Task
from behaviorlab.tasks.tokenize import SPECIALS

SPACES = ("encoder", "decoder", "cross")
_PATTERN = re.compile(r"^(enc|dec)\.(\d+)\.(attn|self_attn|cross_attn)\.pattern$")


def model_kind(model: Seq2SeqModel) -> str:
    """The ModelConfig kind: encoder-decoder, decoder-only, encoder-only or lstm."""
    return str(model.cfg.kind)


@dataclass
class Prepared:
    """A batch of inputs with the output tokens that are teacher-forced (generated or reference)."""

    src: Tensor  # [B, S] right-padded input ids
    tgt_in: Tensor  # [B, T] [bos] + output ids, right-padded
    src_tokens: list[list[str]]
    out_tokens: list[list[str]]  # output tokens without bos/eos
    meta: list[dict[str, int]] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # reference outputs (canonical strings)

    def __len__(self) -> int:
        return len(self.src_tokens)

    def tgt_tokens(self, i: int) -> list[str]:
        """Decoder-input tokens of row i: `<bos>` then the output tokens."""
        return ["<bos>", *self.out_tokens[i]]


def prepare(
    model: Seq2SeqModel,
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
    )


@dataclass(frozen=True)
class AttnSite:
    """One attention pattern hook: its kind (encoder|decoder|cross), layer, heads and z hook."""

    kind: str
    layer: int
    hook: str
    z_hook: str | None  # per-head outputs [B, T, H, dh]; None for the LSTM's single attention
    n_heads: int


def attention_sites(model: Seq2SeqModel) -> list[AttnSite]:
    """Every attention pattern hook of a model, in module order."""
    sites = []
    for name in model.hook_names():
        m = _PATTERN.match(name)
        if m:
            kind = {"attn": "encoder", "self_attn": "decoder", "cross_attn": "cross"}[m[3]]
            z = name.removesuffix("pattern") + "z"
            sites.append(AttnSite(kind, int(m[2]), name, z, model.cfg.n_heads))
        elif name == "dec.attn.pattern":  # LSTM: one Luong attention over the encoder states
            sites.append(AttnSite("cross", 0, name, None, 1))
    return sites


@dataclass
class View:
    """A pattern in one logical space: weights, which cells exist, and visible keys per query."""

    weights: Tensor  # [B, H, Q, K]
    q_valid: Tensor  # [B, Q] bool
    k_valid: Tensor  # [B, K] bool
    visible: Tensor  # [B, Q] float: keys the query could attend to (uniform baseline's denominator)


def _gather(p: Tensor, qi: Tensor, ki: Tensor) -> Tensor:
    """p[b, :, qi[b], ki[b]] for per-row index tensors qi [B, Q], ki [B, K] -> [B, H, Q, K]."""
    b, h, _, kt = p.shape
    rows = p.gather(2, qi[:, None, :, None].expand(b, h, qi.shape[1], kt))
    return rows.gather(3, ki[:, None, None, :].expand(b, h, qi.shape[1], ki.shape[1]))


def views(site: AttnSite, pattern: Tensor, prep: Prepared, kind: str, pad_id: int) -> dict[str, View]:
    """Logical views of one site's pattern (teacher-forced on prep) keyed by space."""
    src_ok = prep.src != pad_id  # [B, S]
    tgt_ok = prep.tgt_in != pad_id  # [B, T]
    n_src = src_ok.sum(1, keepdim=True).float()  # [B, 1]
    t_idx = torch.arange(prep.tgt_in.shape[1])[None, :].float()  # [1, T]
    s_idx = torch.arange(prep.src.shape[1])[None, :].float()
    if kind == "decoder-only":
        s = prep.src.shape[1]
        offset = s - src_ok.sum(1)  # left padding inside the model
        si = (offset[:, None] + torch.arange(s)[None, :]).clamp(max=s - 1)  # [B, S]
        ti = (s + torch.arange(prep.tgt_in.shape[1]))[None, :].expand(len(prep), -1)
        return {
            "encoder": View(_gather(pattern, si, si), src_ok, src_ok, (s_idx + 1).expand_as(src_ok)),
            "decoder": View(_gather(pattern, ti, ti), tgt_ok, tgt_ok, n_src + t_idx + 1),
            "cross": View(_gather(pattern, ti, si), tgt_ok, src_ok, n_src + t_idx + 1),
        }
    if site.kind == "encoder":
        q = pattern.shape[2]  # encoder-only adds output slots after the input
        valid = torch.zeros(len(prep), q, dtype=torch.bool)
        valid[:, : src_ok.shape[1]] = src_ok
        q_ok = torch.arange(q)[None, :] < n_src + model_slots(pattern, prep)  # own slots only
        return {"encoder": View(pattern, q_ok, valid, n_src.expand(-1, q))}
    if site.kind == "decoder":
        return {"decoder": View(pattern, tgt_ok, tgt_ok, (t_idx + 1).expand_as(tgt_ok))}
    return {"cross": View(pattern, tgt_ok, src_ok, n_src.expand_as(tgt_ok))}


def model_slots(pattern: Tensor, prep: Prepared) -> int:
    """Extra output slots an encoder-only pattern has beyond the input width (0 otherwise)."""
    return max(0, pattern.shape[2] - prep.src.shape[1])


def display_view(site: AttnSite, vs: dict[str, View], kind: str) -> tuple[str, View]:
    """The one map to draw per head: decoder-only targets over [input keys | target keys]."""
    if kind == "decoder-only":
        c, d = vs["cross"], vs["decoder"]
        w = torch.cat([c.weights, d.weights], dim=3)
        return "decoder", View(w, d.q_valid, torch.cat([c.k_valid, d.k_valid], 1), d.visible)
    ((space, v),) = vs.items()
    return space, v


def space_tokens(prep: Prepared, i: int, side: str, width: int) -> list[str]:
    """Tokens of row i on one side ("src" or "tgt"), padded with `<pad>`/`<slot>` to width."""
    toks = prep.src_tokens[i] if side == "src" else prep.tgt_tokens(i)
    filler = "<slot>" if side == "src" else "<pad>"
    return (toks + [filler] * width)[:width]
