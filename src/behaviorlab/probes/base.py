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

from pydantic import ConfigDict, Field, model_validator

from behaviorlab.behaviors import Behavior, evaluate_behavior
from behaviorlab.lm import GREEDY, Completion, Decoding, ModelFacts, TextModel, facts
from behaviorlab.results import BehaviorResult, Finding
from behaviorlab.stats import Estimate, share
from behaviorlab.validate import Checked, Seed

# Prompts per generate call: bounds an adapter's memory on long prompts, and paces the progress bar.
CHUNK = 32
# Most items per condition a probe accepts: ~10^4 generations per condition already gives
# intervals of about ±1%; more only adds hours.
MAX_ITEMS = 10_000
MAX_CONDITIONS = 64
# Description length of "the probe's condition variable" (same scale as behaviors/core.py).
PRIMITIVE_BITS = 16.0


class ProbeConfig(Checked):
    """Sizes and seed of one probe: `n` items per condition for open-text models, `closed_n` for our
    own runs (cheap to query: sized so the headline rate's 95% interval is within ±10 points);
    both capped by the suite's -n.

    Every size of every probe (items, tokens, lengths) is at most MAX_ITEMS and every list of
    conditions at most MAX_CONDITIONS long, so no setting can ask for unbounded work."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    n: int = Field(8, ge=1)
    closed_n: int = Field(100, ge=1)
    seed: Seed = 0

    @model_validator(mode="after")
    def _sizes_bounded(self) -> ProbeConfig:
        for name, value in self:
            if isinstance(value, list | tuple) and len(value) > MAX_CONDITIONS:
                raise ValueError(f"{name}: {len(value)} conditions; at most {MAX_CONDITIONS}")
            sizes = value if isinstance(value, list | tuple) else [value]
            for v in sizes:
                if name != "seed" and isinstance(v, int) and not isinstance(v, bool) and v > MAX_ITEMS:
                    raise ValueError(f"{name}: {v} is over the limit of {MAX_ITEMS}")
        return self

    def limited(self, limit: int | None, seed: int) -> ProbeConfig:
        """This config with n and closed_n capped at `limit` and the suite's seed (validated again)."""
        capped = {} if limit is None else {"n": min(self.n, limit), "closed_n": min(self.closed_n, limit)}
        return self.model_validate({**self.model_dump(), **capped, "seed": seed})


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
    """One prompt a probe sends, with the condition it varies and what it needs to score it.
    `prefix` is the start of `prompt` that neighbouring items share (few-shot demonstrations): the
    Recorder sends a run of items with one prefix as one call, so the model reads it once."""

    id: str
    prompt: str
    condition: Hashable
    data: dict[str, Any] = field(default_factory=dict)
    prefix: str = ""

    def __post_init__(self) -> None:
        if not self.prompt.startswith(self.prefix):
            raise ValueError(f"item {self.id}: its prompt does not start with its prefix")


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
        """One completion per item, in order; each generate call (at most CHUNK items sharing one
        prefix) gets its own `call` number so a replay can resend exactly the same batches (a
        sampled call draws from one generator)."""
        use_chat = self.chat if chat is None else chat
        self.on_total(len(items))
        out: list[Completion] = []
        for part in calls(items):
            lead = part[0].prefix
            comps = self.model.generate(
                [it.prompt[len(lead) :] for it in part],
                max_new_tokens,
                decoding=decoding,
                stop=stop,
                chat=use_chat,
                prefix=lead,
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
                        "prefix": lead,
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


def calls(items: Sequence[Item]) -> list[list[Item]]:
    """Items split into generate calls: runs of one prefix, at most CHUNK items each."""
    out: list[list[Item]] = []
    for it in items:
        if out and len(out[-1]) < CHUNK and out[-1][0].prefix == it.prefix:
            out[-1].append(it)
        else:
            out.append([it])
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
