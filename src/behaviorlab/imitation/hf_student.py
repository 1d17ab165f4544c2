"""A local Hugging Face causal LM as a student: fine-tuned on (query, teacher output) pairs with a
short plain PyTorch loop — loss on output tokens only, a seeded batch order, one thread — and
saved as a model directory that `lm.load("hf:DIR")` opens."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from behaviorlab.errors import BadInput
from behaviorlab.lm.hf import check_model_dir, first_line, quiet

IGNORE = -100  # label id the loss skips (prompt tokens and padding)


def prompt_text(query: str) -> str:
    """What the student reads before its answer."""
    return f"{query}\n"


def _rows(tok: object, pairs: list[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
    """(ids, labels) per pair: prompt ids labelled IGNORE, then the answer and eos."""
    eos = getattr(tok, "eos_token_id", None)
    if eos is None:
        raise BadInput("hf student: the tokenizer has no eos token to end an answer with")
    rows = []
    for query, answer in pairs:
        p = tok(prompt_text(query), add_special_tokens=False)["input_ids"]  # type: ignore[operator]
        a = [*tok(answer, add_special_tokens=False)["input_ids"], eos]  # type: ignore[operator]
        rows.append(([*p, *a], [IGNORE] * len(p) + a))
    return rows


def finetune(
    model_dir: Path,
    pairs: list[tuple[str, str]],
    out: Path,
    *,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
) -> Path:
    """Fine-tune the causal LM in `model_dir` on `pairs`; the result is saved to `out`."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers

    check_model_dir(model_dir)
    if not pairs:
        raise BadInput("hf student: the imitation set is empty")
    with quiet():
        tok = transformers.AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        try:
            model = transformers.AutoModelForCausalLM.from_pretrained(
                model_dir, local_files_only=True, dtype=torch.float32
            )
        except (OSError, ValueError) as e:
            raise BadInput(f"{model_dir}: not a causal LM transformers can load ({first_line(e)})") from None
    torch.manual_seed(seed)
    rows = _rows(tok, pairs)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        batch = [rows[int(i)] for i in torch.randint(len(rows), (batch_size,), generator=gen)]
        width = max(len(ids) for ids, _ in batch)
        ids = torch.tensor([r + [pad] * (width - len(r)) for r, _ in batch])
        labels = torch.tensor([lab + [IGNORE] * (width - len(lab)) for _, lab in batch])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r, _ in batch])
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
