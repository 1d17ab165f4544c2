"""Our own training runs as text models: a prompt is a string in the run's vocabulary (its task
grammar, or the pieces of its recorded data), the completion is the model's output string."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from behaviorlab.batching import encode_sources, pad
from behaviorlab.errors import BadInput
from behaviorlab.lm.base import GREEDY, Completion, Decoding, Finish, ModelFacts, cut_at_stop, protocol_facts
from behaviorlab.tasks import Task
from behaviorlab.tasks.dataset import DatasetSpec
from behaviorlab.tasks.tokenize import SPECIALS
from behaviorlab.train.run import Run, open_run


class RunModel:
    """A trained run behind the `TextModel` interface (no chat template: prompts are read as is)."""

    has_chat_template = False

    def __init__(self, run: Run, batch_size: int = 256) -> None:
        self.run = run
        self.batch_size = batch_size
        self.spec = f"run:{Path(run.path).resolve()}"
        self.name = Path(run.path).name
        vocab = run.task.vocab
        self.alphabet: tuple[str, ...] | None = tuple(t for t in vocab.tokens if t not in SPECIALS)
        self.context_length: int | None = run.model.cfg.max_len

    def __repr__(self) -> str:
        return f"<RunModel {self.spec} {self.run.model.cfg.kind}>"

    def facts(self) -> ModelFacts:
        """The run's task (reference and sampler), training sizes and positional limit."""
        cfg = self.run.config
        sizes = None
        if isinstance(cfg.data, DatasetSpec):
            train = next(s for s in cfg.data.splits if s.name == "train")
            sizes = (train.min_size, train.max_size)
        return replace(
            protocol_facts(self),
            task=self.run.task if isinstance(self.run.task, Task) else None,
            sizes=sizes,
            max_len=cfg.model.max_len,
            decoder_only=cfg.model.kind == "decoder-only",
            run_dir=Path(self.run.path),
        )

    def tokenize(self, text: str) -> list[str]:
        """The run's tokens for `text` (BadInput on tokens a task grammar does not know)."""
        return self.run.task.vocab.tokenize(text)

    @torch.no_grad()
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
        """Decode each `prefix + prompt` (batched, bounded memory; an encoder reads the whole source,
        so a prefix is simply prepended); sampled runs draw from one seeded generator."""
        prompts = [prefix + p for p in prompts]
        if max_new_tokens < 1:
            raise BadInput(f"max_new_tokens must be at least 1; got {max_new_tokens}")
        model, vocab = self.run.model, self.run.task.vocab
        was_training = model.training
        model.eval()
        gen = None if decoding.greedy else torch.Generator().manual_seed(decoding.seed)
        out: list[Completion] = []
        for start in range(0, len(prompts), self.batch_size):
            src = encode_sources(vocab, prompts[start : start + self.batch_size])  # [B, S]
            g = model.generate(
                src, max_new_tokens, greedy=decoding.greedy, temperature=decoding.temperature, generator=gen
            )
            for row in range(src.shape[0]):
                n = int(g.lengths[row])
                ids, lps = g.tokens[row, :n].tolist(), g.logprobs[row, :n].tolist()
                ended = bool(ids) and ids[-1] == vocab.eos_id
                if ended:
                    ids, lps = ids[:-1], lps[:-1]
                toks = [vocab.tokens[i] for i in ids]
                text, stopped = cut_at_stop(vocab.text_of(toks), stop)
                finish: Finish = "stop" if stopped else "eos" if ended else "length"
                out.append(Completion(text, tuple(toks), tuple(lps), finish))
        model.train(was_training)
        return out

    @torch.no_grad()
    def score(
        self, prompts: Sequence[str], continuations: Sequence[str], *, chat: bool = False, prefix: str = ""
    ) -> list[list[float]]:
        """Teacher-forced log-prob of each continuation token given `prefix + prompt` (eos not included)."""
        prompts = [prefix + p for p in prompts]
        if len(prompts) != len(continuations):
            raise BadInput(
                f"score needs one continuation per prompt; got {len(prompts)} and {len(continuations)}"
            )
        model, vocab = self.run.model, self.run.task.vocab
        was_training = model.training
        model.eval()
        out: list[list[float]] = []
        for start in range(0, len(prompts), self.batch_size):
            part = slice(start, start + self.batch_size)
            ys = [vocab.encode(c) for c in continuations[part]]
            src = encode_sources(vocab, prompts[part])  # [B, S]
            tin = pad([[vocab.bos_id, *y] for y in ys], vocab.pad_id)  # [B, T]
            logp = F.log_softmax(model(src, tin).float(), dim=-1)  # [B, T, V]
            for row, y in enumerate(ys):
                out.append([float(logp[row, t, tok]) for t, tok in enumerate(y)])
        model.train(was_training)
        return out


def open_run_model(path: Path) -> RunModel:
    """A run directory's latest weights as a text model."""
    return RunModel(open_run(Path(path)))
