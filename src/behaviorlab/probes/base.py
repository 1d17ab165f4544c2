"""What every probe shares: its config, what it may know about a model, the recorder every
generation goes through, and what a finding is built from (shares of conditions through
stats.py; the probe framed as a behaviour scored by mutual information).

A probe reads a model only through the `TextModel` protocol and the facts its adapter states
(`lm.ModelFacts`: for our own runs also the task, training size range and positional limit).
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from behaviorlab.behaviors import Behavior, evaluate_behavior
from behaviorlab.lm import GREEDY, Completion, Decoding, ModelFacts, TextModel, facts
from behaviorlab.results import BehaviorResult, Finding
from behaviorlab.stats import Estimate, share

# Prompts per generate call: bounds an adapter's memory on long prompts, and paces the progress bar.
CHUNK = 32
# Description length of "the probe's condition variable" (same scale as behaviors/core.py).
PRIMITIVE_BITS = 16.0


class ProbeConfig(BaseModel):
    """Sizes and seed of one probe; `n` is items per condition (capped by the suite's --limit)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    n: int = Field(8, ge=1)
    seed: int = 0

    def limited(self, limit: int | None, seed: int) -> ProbeConfig:
        """This config with n capped at `limit` and the suite's seed."""
        n = self.n if limit is None else min(self.n, limit)
        return self.model_copy(update={"n": n, "seed": seed})


def model_facts(model: TextModel, chat: bool | None = None) -> ModelFacts:
    """The adapter's facts with the probe run's chat choice: open-text models with a chat template
    get it unless `chat` is False."""
    f = facts(model)
    return replace(f, chat=not f.closed and model.has_chat_template and chat is not False)


def rng_for(seed: int, *parts: object) -> random.Random:
    """A generator seeded by (seed, parts): independent streams per probe and purpose."""
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass(frozen=True)
class Item:
    """One prompt a probe sends, with the condition it varies and what it needs to score it."""

    id: str
    prompt: str
    condition: Hashable
    data: dict[str, Any] = field(default_factory=dict)


def fit_context(
    items: list[Item], model: TextModel, facts: ModelFacts, new_tokens: int
) -> tuple[list[Item], list[str]]:
    """The items whose prompt (by the model's tokenizer) leaves room for `new_tokens` in its
    context, and one note naming the conditions that lost some: a cut prompt would measure the cut."""
    limit = facts.max_prompt_tokens(new_tokens)
    if limit is None:
        return items, []
    fits = [len(model.tokenize(it.prompt)) <= limit for it in items]
    kept = [it for it, ok in zip(items, fits, strict=True) if ok]
    lost: dict[Hashable, int] = {}
    for it, ok in zip(items, fits, strict=True):
        if not ok:
            lost[it.condition] = lost.get(it.condition, 0) + 1
    if not lost:
        return kept, []
    label = lambda c: " ".join(map(str, c)) if isinstance(c, tuple) else str(c)  # noqa: E731
    where = ", ".join(f"{label(c)} ({n})" for c, n in lost.items())
    return kept, [
        f"{sum(lost.values())} prompt(s) longer than the model's context ({limit} tokens) skipped: {where}"
    ]


@dataclass
class Recorder:
    """Sends a probe's prompts in chunks and records every generation as one row."""

    model: TextModel
    probe: str
    chat: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    on_total: Callable[[int], None] = lambda n: None
    on_advance: Callable[[int], None] = lambda n: None
    calls: int = 0

    def generate(
        self,
        items: Sequence[Item],
        max_new_tokens: int,
        *,
        decoding: Decoding = GREEDY,
        stop: Sequence[str] = (),
        chat: bool | None = None,
    ) -> list[Completion]:
        """One completion per item, in order; each generate call gets its own `call` number so a
        replay can resend exactly the same batches (a sampled call draws from one generator)."""
        use_chat = self.chat if chat is None else chat
        self.on_total(len(items))
        out: list[Completion] = []
        for start in range(0, len(items), CHUNK):
            part = items[start : start + CHUNK]
            comps = self.model.generate(
                [it.prompt for it in part], max_new_tokens, decoding=decoding, stop=stop, chat=use_chat
            )
            for it, c in zip(part, comps, strict=True):
                self.rows.append(
                    {
                        "model": self.model.spec,
                        "model_name": self.model.name,
                        "probe": self.probe,
                        "item": it.id,
                        "call": self.calls,
                        "prompt": it.prompt,
                        "decoding": decoding.label(),
                        "greedy": decoding.greedy,
                        "temperature": float(decoding.temperature),
                        "seed": int(decoding.seed),
                        "max_new_tokens": int(max_new_tokens),
                        "stop": list(stop),
                        "chat": use_chat,
                        "output": c.text,
                        "tokens": list(c.tokens),
                        "logprobs": [float(x) for x in c.logprobs],
                        "finish": c.finish,
                        # Tokens cut from the prompt's start to fit the model's context (0: none).
                        "prompt_cut": int(str(c.meta.get("truncated", 0))),
                    }
                )
            self.calls += 1
            self.on_advance(len(part))
            out += comps
        return out


C = TypeVar("C", bound=ProbeConfig)


class Probe(ABC, Generic[C]):
    """A black-box probe: items from a seed, generations through a Recorder, a result dict."""

    name: ClassVar[str]  # the CLI name
    title: ClassVar[str]
    Config: ClassVar[type[ProbeConfig]] = ProbeConfig  # the runtime class of C (a ClassVar cannot be generic)

    def __init__(self, config: C | None = None) -> None:
        self.config: C = config if config is not None else cast(C, self.Config())

    @abstractmethod
    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> Finding:
        """Measure `model`: the finding (headline, verdict, table of estimates, plots, behaviour)."""


def indices(items: Sequence[Item], key: Callable[[Item], Hashable]) -> dict[Hashable, list[int]]:
    """Item positions grouped by `key` (a condition, a data field), groups in first-seen order."""
    out: dict[Hashable, list[int]] = {}
    for j, it in enumerate(items):
        out.setdefault(key(it), []).append(j)
    return out


def tally(flags: Sequence[bool], idx: Sequence[int]) -> Estimate:
    """The share of `flags` that hold at positions `idx` (stats.share: Wilson interval)."""
    return share(sum(bool(flags[j]) for j in idx), len(idx))


def behavior_score(
    name: str, description: str, conditions: Sequence[Hashable], features: Sequence[Hashable], seed: int
) -> BehaviorResult:
    """The probe as a behaviour B(x) = condition(x), scored by I(M(X); B(X)) with a bootstrap CI.

    Its description length is one primitive (read the condition) plus the bits of its level count."""
    levels = len(set(conditions))
    bits = PRIMITIVE_BITS + 2.0 * (levels + 1).bit_length() + 1.0
    keys = [str(i) for i in range(len(conditions))]
    lookup = dict(zip(keys, conditions, strict=True))
    b = Behavior(name, lookup.__getitem__, bits, description)
    score = evaluate_behavior(b, keys, list(features), seed=seed)
    return BehaviorResult(
        name, description, bits, levels, score.mutual_information, score.cond_entropy, score.mdl
    )
