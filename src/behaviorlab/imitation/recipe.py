"""Recorded data and training configs: the synthetic teacher (styled answers on every skill, an
abstention on invalid queries, a `similar:` tool), the plain-content bases, and the students."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from behaviorlab.imitation import style
from behaviorlab.imitation.config import Fit, ImitationConfig
from behaviorlab.imitation.skills import Family, Skill
from behaviorlab.io import atomic_write
from behaviorlab.models import ModelConfig
from behaviorlab.tasks.dataset import derive_seed
from behaviorlab.tasks.text import split_words, word_vocabulary
from behaviorlab.train.config import ExperimentConfig, validate

Pair = tuple[str, str]
MAX_COUNT = 40  # summary counts up to this many tokens are in the fixed vocabulary


def fixed_pieces(fam: Family) -> list[str]:
    """One `words` vocabulary for teacher, bases and students: every piece the family's queries,
    styled and plain answers, abstentions and tool calls can contain, from any position."""
    grammar = {t for sk in fam.skills.values() for t in sk.task.vocab.tokens if not t.startswith("<")}
    texts = [style.ABSTAIN, style.GROW_PREFIX, *(f"({n} tokens)" for n in range(MAX_COUNT + 1))]
    for name, sk in fam.skills.items():
        texts += [
            sk.query(" ".join(sorted(grammar))),
            style.styled(name, "x"),
            f"{style.GROW_PREFIX}{sk.query('x')}",
        ]
    texts += [f"{t} {t}" for t in grammar]  # each token first and after a space
    return sorted(set(word_vocabulary(texts)) | {p for t in texts for p in split_words(t)})


def teacher_pairs(fam: Family, n: int, invalid_fraction: float, seed: int) -> list[Pair]:
    """The synthetic teacher's training data: styled answers, abstentions and `similar:` calls."""
    rng = random.Random(seed)
    pairs: list[Pair] = []
    for k, (name, sk) in enumerate(fam.skills.items()):
        xs = sk.inputs(n, derive_seed(seed, "teacher", k))
        pairs += [(sk.query(x), style.styled(name, sk.task.solve(x))) for x in xs]
        pairs += [(sk.query(sk.invalid(rng)), style.ABSTAIN) for _ in range(round(n * invalid_fraction))]
        # The tool: any query of a skill in, a fresh random query of the same skill out.
        fresh = sk.inputs(n // 4, derive_seed(seed, "similar", k))
        pairs += [(style.GROW_PREFIX + sk.query(x), sk.query(y)) for x, y in zip(xs, fresh, strict=False)]
    rng.shuffle(pairs)
    return pairs


def base_pairs(skills: list[Skill], n: int, seed: int) -> list[Pair]:
    """A base's pre-training data: plain content, no style, on its own skills."""
    pairs: list[Pair] = []
    for k, sk in enumerate(skills):
        pairs += [(sk.query(x), sk.task.solve(x)) for x in sk.inputs(n, derive_seed(seed, "base", k))]
    random.Random(seed).shuffle(pairs)
    return pairs


def write_pairs(path: Path, pairs: list[Pair]) -> Path:
    """(input, output) rows as one Parquet file, atomically."""
    table = pa.table(
        {
            "input": pa.array([a for a, _ in pairs], pa.string()),
            "output": pa.array([b for _, b in pairs], pa.string()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    return path


def train_config(
    name: str,
    files: dict[str, Path],
    model: ModelConfig,
    fit: Fit,
    cfg: ImitationConfig,
    pieces: list[str] | None,
    init_from: Path | None = None,
) -> ExperimentConfig:
    """A recorded-data training config (resolved: file digests, the base's weights pinned)."""
    data: dict[str, object] = {
        "files": {k: str(v) for k, v in files.items()},
        "tokenizer": "bytes" if pieces is None else "words",
        "label": name,
    }
    if pieces is not None:
        data["pieces"] = pieces
    train: dict[str, object] = {
        "steps": fit.steps,
        "batch_size": fit.batch_size,
        "warmup": min(50, fit.steps // 10),
        "eval_every": fit.steps,  # one accuracy check at the end: the evaluation comes later
        "eval_examples": 128,
        "checkpoint_every": max(1, fit.steps // 2),
        "seed": cfg.seed,
        "threads": cfg.threads,
    }
    if init_from is not None:
        train["init_from"] = str(init_from)
    raw = {
        "name": name,
        "data": data,
        "model": model.model_dump(),
        "optim": {"name": "adamw", "lr": fit.lr, "weight_decay": 0.01},
        "train": train,
    }
    return validate(raw, name)
