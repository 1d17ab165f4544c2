"""A look at what a language model learned: continuations of held-out text, written to
RUN/analysis/samples.json (a list of rows, so the run's report shows it as a table).

The model reads `src + [bos] + y`; an LM run trains with an empty `src`, so a prompt is forced
into `y` and the continuation is decoded after it, one token at a time (sampled at a temperature
from a seeded generator, or greedy at temperature 0).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json
from behaviorlab.models import Seq2SeqModel
from behaviorlab.outdir import check_links
from behaviorlab.rundir import ANALYSIS, SAMPLES
from behaviorlab.tasks.tokenize import Vocab
from behaviorlab.train.run import open_run


@torch.no_grad()
def continue_text(
    model: Seq2SeqModel,
    vocab: Vocab,
    prompt: str,
    new_tokens: int,
    temperature: float,
    generator: torch.Generator,
) -> str:
    """The text the model writes after `prompt` (stops at eos or the model's max_len)."""
    model.eval()
    src = torch.full((1, 1), vocab.pad_id, dtype=torch.long)  # the empty prompt of LM training
    ids = [vocab.bos_id, *vocab.encode(prompt)]
    room = model.cfg.max_len - 1
    out: list[int] = []
    for _ in range(min(new_tokens, room - len(ids))):
        logits = model(src, torch.tensor([ids + out]))[0, -1].float()
        if temperature <= 0:
            nxt = int(logits.argmax())
        else:
            probs = torch.softmax(logits / temperature, dim=-1)
            nxt = int(torch.multinomial(probs, 1, generator=generator))
        if nxt == vocab.eos_id:
            break
        out.append(nxt)
    return vocab.decode(out)


def write_samples(
    run_dir: Path,
    *,
    split: str = "validation",
    n: int = 4,
    prompt_chars: int = 40,
    new_tokens: int = 96,
    temperature: float = 0.8,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Continue the first `prompt_chars` of `n` examples of `split`; rows written to analysis/."""
    run = open_run(check_links(run_dir))  # refused before any work: it writes into analysis/
    if split not in run.splits:
        raise BadInput(f"{run_dir}: no split {split!r}; have {sorted(run.splits)}")
    examples = run.splits[split]
    if not examples:
        raise BadInput(f"{run_dir}: split {split!r} is empty")
    torch.set_num_threads(run.config.train.threads)
    gen = torch.Generator().manual_seed(seed)
    stride = max(1, len(examples) // n)  # spread the prompts over the split's documents
    rows = []
    for e in examples[::stride][:n]:
        prompt = e.output[:prompt_chars]
        text = continue_text(run.model, run.task.vocab, prompt, new_tokens, temperature, gen)
        rows.append(
            {
                "prompt": prompt,
                "continuation": text,
                "reference": e.output[prompt_chars:][: len(text)],
                "temperature": temperature,
            }
        )
    atomic_write_json(run_dir / ANALYSIS / SAMPLES, rows)
    return rows
