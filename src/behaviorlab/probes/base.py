"""What every probe shares: its config, what it may know about a model, the recorder every
generation goes through, and the parts of a result (rates with Wilson intervals, a figure spec,
the probe framed as a behaviour scored by mutual information).

A probe reads a model only through the `TextModel` protocol. For our own runs (`run:DIR`) it may
also read the run directory's config (task, size range, context length) — files, not weights.
"""

from __future__ import annotations

import hashlib
import random
import statistics
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from behaviorlab import tasks
from behaviorlab.behaviors import Behavior, evaluate_behavior, proportion_ci
from behaviorlab.errors import BadInput
from behaviorlab.lm import GREEDY, Completion, Decoding, TextModel, split_spec
from behaviorlab.rundir import RunDir, is_run

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


@dataclass(frozen=True)
class ModelFacts:
    """What a probe may use about a model besides generate/score/tokenize."""

    closed: bool  # prompts only from `alphabet` (our task models)
    alphabet: tuple[str, ...]  # tokens a closed prompt is built from (`<unk>` left out)
    chat: bool  # wrap prompts with the chat template
    sep: str = " "  # how the model's tokens join into a prompt that tokenizes back to them
    task: tasks.Task | None = None  # a run's task (reference function and sampler), if any
    sizes: tuple[int, int] | None = None  # the run's training size range
    max_len: int | None = None  # the run's positional limit
    decoder_only: bool = False  # prompt and output share max_len

    def join(self, tokens: Sequence[str]) -> str:
        """A closed prompt from alphabet tokens."""
        return self.sep.join(tokens)

    def max_prompt_tokens(self, new_tokens: int) -> int | None:
        """Longest prompt the model accepts when `new_tokens` should still fit (None: no known limit)."""
        if self.max_len is None:
            return None
        return self.max_len - (new_tokens + 1 if self.decoder_only else 0)


def run_dir_of(model: TextModel) -> Path | None:
    """The run directory behind a `run:` spec, else None."""
    try:
        scheme, path = split_spec(model.spec.partition("#")[0])  # `#ablate=` / `#fewshot=` suffixes
    except BadInput:
        return None
    return path if scheme == "run" and is_run(path) else None


def model_facts(model: TextModel, chat: bool | None = None) -> ModelFacts:
    """Facts for a model; `chat=None` uses the chat template when the model has one."""
    closed = model.alphabet is not None
    use_chat = not closed and model.has_chat_template and chat is not False
    alphabet = tuple(t for t in model.alphabet or () if t != "<unk>")
    facts = ModelFacts(closed, alphabet, use_chat, _separator(model, alphabet) if closed else " ")
    where = run_dir_of(model)
    if where is None:  # another format: its own position table is the limit (decoder: shared)
        return ModelFacts(
            closed, alphabet, use_chat, facts.sep, max_len=model.context_length, decoder_only=True
        )
    cfg = RunDir.open(where).config
    data, arch = cfg.get("data", {}), cfg.get("model", {})
    task = None
    if isinstance(data, dict) and data.get("task") in tasks.names():
        try:
            task = tasks.get(str(data["task"]), **(data.get("options") or {}))
        except BadInput:
            task = None
    splits = data.get("splits", []) if isinstance(data, dict) else []
    train = next((s for s in splits if isinstance(s, dict) and s.get("name") == "train"), None)
    sizes = (int(train["min_size"]), int(train["max_size"])) if train and "min_size" in train else None
    max_len = int(arch["max_len"]) if isinstance(arch, dict) and "max_len" in arch else None
    kind = arch.get("kind") if isinstance(arch, dict) else None
    return ModelFacts(closed, alphabet, False, facts.sep, task, sizes, max_len, kind == "decoder-only")


def _separator(model: TextModel, alphabet: Sequence[str]) -> str:
    """ " " for grammar tokens (`1 0 1`), "" for text pieces that carry their own spaces (` the`)."""
    sample = list(alphabet[:4])
    for sep in (" ", ""):
        try:
            if model.tokenize(sep.join(sample)) == sample:
                return sep
        except BadInput:
            continue
    return " "


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
    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> dict[str, Any]:
        """Measure `model`; return the result (see `result`)."""


def rate(k: int, n: int) -> dict[str, Any]:
    """A share with its Wilson 95% interval (rate None when n = 0)."""
    lo, hi = proportion_ci(k, n)
    return {"n": n, "k": k, "rate": k / n if n else None, "lo": lo, "hi": hi}


def quartiles(values: Sequence[float]) -> dict[str, float | None]:
    """Median and quartiles (None when empty)."""
    if not values:
        return {"q1": None, "median": None, "q3": None}
    if len(values) == 1:
        v = float(values[0])
        return {"q1": v, "median": v, "q3": v}
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {"q1": q1, "median": med, "q3": q3}


def series(name: str, rows: Sequence[dict[str, Any]], x: str, y: str = "rate") -> dict[str, Any]:
    """A figure series (x, y, lo, hi) from table rows; rows with no estimate are skipped."""
    kept = [r for r in rows if r.get(y) is not None]
    return {
        "name": name,
        "x": [r[x] for r in kept],
        "y": [r[y] for r in kept],
        "lo": [r.get("lo") for r in kept],
        "hi": [r.get("hi") for r in kept],
    }


def figure(
    key: str,
    title: str,
    x_label: str,
    y_label: str,
    lines: list[dict[str, Any]],
    *,
    y_range: tuple[float, float] | None = (-0.02, 1.02),
    **opts: Any,
) -> dict[str, Any]:
    """A renderer-neutral figure spec the report draws: series of (x, y, lo, hi); shares by
    default (y from 0 to 1); options log_x, categorical_x, integer_x."""
    spec = {"key": key, "title": title, "x_label": x_label, "y_label": y_label, "series": lines, **opts}
    return spec | ({"y_range": list(y_range)} if y_range is not None else {})


def behavior_score(
    name: str, description: str, conditions: Sequence[Hashable], features: Sequence[Hashable], seed: int
) -> dict[str, Any]:
    """The probe as a behaviour B(x) = condition(x), scored by I(M(X); B(X)) with a bootstrap CI.

    Its description length is one primitive (read the condition) plus the bits of its level count."""
    levels = len(set(conditions))
    bits = PRIMITIVE_BITS + 2.0 * (levels + 1).bit_length() + 1.0
    keys = [str(i) for i in range(len(conditions))]
    lookup = dict(zip(keys, conditions, strict=True))
    b = Behavior(name, lookup.__getitem__, bits, description)
    score = evaluate_behavior(b, keys, list(features), seed=seed)
    return {
        "name": name,
        "description": description,
        "description_bits": bits,
        "levels": levels,
        "mi_bits": score.mutual_information.to_json(),
        "cond_entropy_bits": score.cond_entropy.to_json(),
        "mdl": score.mdl,
    }


def pct(x: float | None) -> str:
    """0.5 -> "50%" ("—" when unknown)."""
    return "—" if x is None else f"{100 * x:.0f}%"


def ci(row: dict[str, Any]) -> str:
    """A rate row as "50% [31–69%]"."""
    if row.get("rate") is None:
        return "— (n=0)"
    return f"{pct(row['rate'])} [{pct(row['lo'])}–{pct(row['hi'])}]"


def result(
    *,
    headline: dict[str, Any],
    keys: list[str],
    table: list[dict[str, Any]],
    figures: list[dict[str, Any]],
    behavior: dict[str, Any],
    verdict: str,
    notes: Sequence[str] = (),
    **extra: Any,
) -> dict[str, Any]:
    """A probe's result: headline (label + rate row), table rows keyed by `keys`, figure specs,
    the behaviour score, a one-line verdict and notes on what was skipped or approximated."""
    return {
        "headline": headline,
        "keys": keys,
        "table": table,
        "figures": figures,
        "behavior": behavior,
        "verdict": verdict,
        "notes": list(notes),
        **extra,
    }
