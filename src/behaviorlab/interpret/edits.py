"""Edits for perturbation experiments: what to change during generation, and the batched decode
that applies them (`interpret.perturb` runs the experiment and reads its results).

Token ops act on the model's own greedy output g (eos included) at generated position p:
insert v before g[p], flip g[p] to v, or remove g[p]. Decoding is then forced through the edited
sequence up to and including its position p (plus `keep` more edited tokens) and continues
greedily. A position at or after len(g) is past the end: the row reproduces g unchanged.
Position ops ("pos_swap", "pos_replace") change `stack`.embed.pos at positions `position` and
`other` (hook positions: decoder-input index in an encoder-decoder; see models/) during a free
greedy decode. Every (input × perturbation) pair runs in one batched decode.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import torch

from behaviorlab.batching import pad
from behaviorlab.errors import BadInput
from behaviorlab.interpret._decode import PosEdits, forced_decode
from behaviorlab.models import HookedModel
from behaviorlab.tasks import Task

TokenOp = Literal["insert", "remove", "flip"]
PosOp = Literal["pos_swap", "pos_replace"]
Op = Literal[TokenOp, PosOp, "none"]
TOKEN_OPS: tuple[TokenOp, ...] = get_args(TokenOp)
POS_OPS: tuple[PosOp, ...] = get_args(PosOp)


@dataclass(frozen=True)
class Perturbation:
    """One edit: op, generated position, token (insert/flip), partner position (pos ops)."""

    op: Op
    position: int
    token: str | None = None
    other: int | None = None
    stack: str = "dec"
    keep: int = 0

    def __post_init__(self) -> None:
        if self.op not in TOKEN_OPS + POS_OPS + ("none",):
            raise BadInput(f"unknown perturbation {self.op!r}; use {', '.join(TOKEN_OPS + POS_OPS)}")
        if self.op in ("insert", "flip") and self.token is None:
            raise BadInput(f"{self.op} needs a token")
        if self.op in POS_OPS and self.other is None:
            raise BadInput(f"{self.op} needs `other` (the partner position)")

    @property
    def label(self) -> str:
        """Short text, e.g. `flip@3->X1`, `pos_swap@dec:2<->5`."""
        if self.op in POS_OPS:
            return f"{self.op}@{self.stack}:{self.position}<->{self.other}"
        return f"{self.op}@{self.position}" + (f"->{self.token}" if self.token else "")


def edit(g: list[int], p: Perturbation, token_id: int | None) -> tuple[list[int], list[int]]:
    """(edited sequence, forced prefix) for token ops; past-the-end edits force all of g."""
    if p.op not in TOKEN_OPS or p.position >= len(g) or p.position < 0:
        return g, (g if p.op in TOKEN_OPS else [])
    i = p.position
    if p.op == "insert":
        e = g[:i] + [token_id or 0] + g[i:]
    elif p.op == "flip":
        e = g[:i] + [token_id or 0] + g[i + 1 :]
    else:
        e = g[:i] + g[i + 1 :]
    return e, e[: i + 1 + p.keep]


@dataclass
class Plan:
    """The flattened (input × perturbation) pairs of one perturbation run."""

    example: list[int]  # index into the inputs, per pair
    perts: list[Perturbation]
    edited: list[list[int]]
    forced: list[list[int]]


def plan(originals: Sequence[list[int]], perts: Sequence[Sequence[Perturbation]], task: Task) -> Plan:
    """Pair every input with each of its perturbations and build the forced prefixes."""
    out = Plan([], [], [], [])
    for i, (g, ps) in enumerate(zip(originals, perts, strict=True)):
        for p in ps:
            tok = task.vocab.id(p.token) if p.token is not None else None
            e, f = edit(g, p, tok)
            out.example.append(i)
            out.perts.append(p)
            out.edited.append(e)
            out.forced.append(f)
    return out


def _pos_edits(perts: Sequence[Perturbation], stack: str) -> PosEdits | None:
    rows = [p.op in POS_OPS and p.stack == stack for p in perts]
    if not any(rows):
        return None
    a = torch.tensor([p.position if r else -1 for p, r in zip(perts, rows, strict=True)])
    b = torch.tensor([p.other if r and p.other is not None else -1 for p, r in zip(perts, rows, strict=True)])
    swap = torch.tensor([p.op == "pos_swap" for p in perts])
    return PosEdits(stack, a, b, swap)


def decode_plan(
    model: HookedModel, src: torch.Tensor, pl: Plan, max_new: int, batch_size: int
) -> list[list[int]]:
    """Decode every pair (batched in chunks); returns each pair's output ids (eos included)."""
    outs: list[list[int]] = []
    for start in range(0, len(pl.perts), batch_size):
        sl = slice(start, start + batch_size)
        idx = torch.tensor(pl.example[sl])
        rows_src = src[idx]
        rows_src = rows_src[:, : max(1, int((rows_src != model.pad_id).sum(1).max()))]
        forced = pad(pl.forced[sl], model.pad_id)
        flen = torch.tensor([len(f) for f in pl.forced[sl]])
        perts = pl.perts[sl]
        enc, dec = _pos_edits(perts, "enc"), _pos_edits(perts, "dec")
        if enc is not None and dec is not None:
            raise BadInput("one batch mixes encoder and decoder position edits; run them apart")
        gen = forced_decode(model, rows_src, forced, flen, max_new, enc or dec)
        outs += [gen.tokens[r, : int(gen.lengths[r])].tolist() for r in range(len(perts))]
    return outs


def originals_of(model: HookedModel, src: torch.Tensor, max_new: int, batch_size: int) -> list[list[int]]:
    """The unperturbed greedy outputs (eos included)."""
    outs: list[list[int]] = []
    for start in range(0, src.shape[0], batch_size):
        part = src[start : start + batch_size]
        part = part[:, : max(1, int((part != model.pad_id).sum(1).max()))]
        gen = model.generate(part, max_new)
        outs += [gen.tokens[r, : int(gen.lengths[r])].tolist() for r in range(part.shape[0])]
    return outs


def random_perturbations(
    task: Task, originals: Sequence[list[int]], n: int, seed: int, ops: Sequence[Op] = TOKEN_OPS
) -> list[list[Perturbation]]:
    """n random token edits per input at positions of its output (eos excluded)."""
    rng = random.Random(seed)
    grammar = list(task.vocab.tokens[3:])
    out = []
    for g in originals:
        body = max(1, len(g) - 1)
        ps = []
        for _ in range(n):
            op, i = rng.choice(list(ops)), rng.randrange(body)
            cur = task.vocab.tokens[g[i]] if i < len(g) else None
            tok = rng.choice([t for t in grammar if t != cur] or grammar) if op != "remove" else None
            ps.append(Perturbation(op, i, tok))
        out.append(ps)
    return out
