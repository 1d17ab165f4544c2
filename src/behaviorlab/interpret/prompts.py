"""Text prompts as an analysis batch for any model: its own tokenization, its greedy answer.

`prepare_prompts(box, prompts)` tokenizes each prompt as the model reads it, lets the model answer
greedily (`new_tokens`, ends dropped) and returns a `Prepared` batch teacher-forcing that answer:
src = prompt ids, tgt_in = [slot] + answer ids, tokens spelled as the model's tokenizer spells them.
Prompts come from the command line (`--prompt TEXT`, repeatable) or a JSONL file (`--prompts FILE`),
one object per line: {"prompt": ..., "reference": optional expected answer, "corrupted": optional
prompt of the same token length for patching}; a line may also be a bare JSON string.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from behaviorlab.batching import pad
from behaviorlab.errors import BadInput
from behaviorlab.interpret._layout import Prepared
from behaviorlab.lm.white_box import WhiteBox


@dataclass(frozen=True)
class PromptRow:
    """One prompt, what it should be answered with (if known), and its corrupted twin (if any)."""

    prompt: str
    reference: str | None = None
    corrupted: str | None = None


def read_prompts(prompts: Sequence[str] = (), file: Path | None = None) -> list[PromptRow]:
    """Prompts given inline and/or in a JSONL file; BadInput names the file and line."""
    rows = [PromptRow(p) for p in prompts]
    if file is not None:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise BadInput(f"{file}: cannot read prompts ({e.strerror or e})") from None
        for n, line in enumerate(lines, start=1):
            if line.strip():
                rows.append(_row(line, f"{file} line {n}"))
    if not rows:
        raise BadInput("no prompts: give --prompt TEXT (repeatable) or --prompts FILE.jsonl")
    return rows


def _row(line: str, where: str) -> PromptRow:
    try:
        obj = json.loads(line)
    except ValueError as e:
        raise BadInput(f"{where}: not JSON ({e})") from None
    if isinstance(obj, str):
        return PromptRow(obj)
    if not isinstance(obj, dict) or not isinstance(obj.get("prompt"), str):
        raise BadInput(f'{where}: expected a string or an object with a "prompt" string')
    extra = set(obj) - {"prompt", "reference", "corrupted"}
    if extra:
        raise BadInput(
            f"{where}: unknown field(s) {', '.join(sorted(extra))}; use prompt, reference, corrupted"
        )
    for key in ("reference", "corrupted"):
        if key in obj and not isinstance(obj[key], str):
            raise BadInput(f"{where}: {key!r} must be a string")
    return PromptRow(obj["prompt"], obj.get("reference"), obj.get("corrupted"))


def greedy_answers(box: WhiteBox, ids: Sequence[list[int]], new_tokens: int) -> list[list[int]]:
    """The model's greedy continuation of each prompt (ends dropped), batched."""
    if new_tokens <= 0:
        return [[] for _ in ids]
    model = box.model
    out: list[list[int]] = []
    with torch.no_grad():
        for start in range(0, len(ids), 32):
            src = pad(ids[start : start + 32], model.pad_id)
            gen = model.generate(src, new_tokens)
            for r in range(src.shape[0]):
                row = gen.tokens[r, : int(gen.lengths[r])].tolist()
                out.append([i for i in row if i >= 0 and not bool(model.is_eos(torch.tensor(i)))])
    return out


def prepare_prompts(
    box: WhiteBox,
    prompts: Sequence[str],
    *,
    new_tokens: int = 8,
    chat: bool = False,
    references: Sequence[str | None] | None = None,
    answers: Sequence[list[int]] | None = None,
    prompt_ids: Sequence[list[int]] | None = None,
) -> Prepared:
    """A batch of prompts teacher-forcing the model's greedy answers (or the `answers` given)."""
    model = box.model
    ids = (
        [list(r) for r in prompt_ids]
        if prompt_ids is not None
        else [box.prompt_ids(p, chat) for p in prompts]
    )
    outs = [list(a) for a in answers] if answers is not None else greedy_answers(box, ids, new_tokens)
    src_tokens = [box.pieces(r) for r in ids]
    slot = box.slot_pieces(src_tokens)
    prep = Prepared(
        pad(ids, model.pad_id),
        pad([[model.bos_id, *o] for o in outs], model.pad_id),
        src_tokens,
        [box.pieces(o) for o in outs],
        [{"prompt": i} for i in range(len(ids))],
        [r or "" for r in references] if references is not None else [],
        tgt_first=slot,
    )
    return prep.with_sequence(model)


def prompt_labels(prompts: Sequence[str], width: int = 40) -> list[str]:
    """Short labels for tables and map titles."""
    return [p if len(p) <= width else p[: width - 1] + "…" for p in (" ".join(q.split()) for q in prompts)]
