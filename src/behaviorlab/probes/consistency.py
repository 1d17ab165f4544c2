"""`consistency`: does the model still know a character it was told about N tokens ago?

Open text: a short story gives an invented name a job; filler dialogue turns of about N tokens
follow; then a question about the character's job. Recall: the answer names the job; denial: the
answer says it does not know the character (`content.DENIAL`). For chat models a second variant
lets the model invent the character: a name (for a seeded place), a job for that name, then
the story, each asked for separately (greedy) and parsed from a short reply; a character whose
name or job reply cannot be parsed, or whose story does not state the job, is unusable: its rates
are over the usable characters, with the unusable count beside them. Closed vocabularies: a key
sequence, then N filler tokens; recall: the output contains the key.

Two baselines, named apart: the chance level (closed vocabularies) is a property of the task —
the exact probability that a random alphabet string as long as the task's answer to the prompt
contains the key, the same for every model; the decoy (a job or key the prompt never mentioned,
found in the answer) is a per-model control with its own interval.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from typing import cast

from pydantic import Field

from behaviorlab.errors import BadInput
from behaviorlab.lm import TextModel
from behaviorlab.probes.base import (
    Item,
    ModelFacts,
    Probe,
    ProbeConfig,
    Recorder,
    behavior_score,
    fit_context,
    indices,
    rng_for,
    tally,
)
from behaviorlab.probes.content import DENIAL, FILLER, JOBS, invented_name
from behaviorlab.probes.text import contains_run, contains_word
from behaviorlab.results import Finding, Plot, Row
from behaviorlab.stats import Estimate, chance_of_run, exact, percent, share

# The self-written variant asks one thing at a time: small chat models follow that, not a format.
_ASK_NAME = (
    "Invent a full name (first and last name) for a new story character from {place}. "
    "Reply with the name only."
)
_PLACES = (
    "a lighthouse town",
    "a mountain village",
    "a desert city",
    "a river port",
    "an island",
    "a forest hamlet",
    "a mining town",
    "a canal city",
    "a fishing village",
    "a valley farm",
)
# A name inside a chatty reply: two or three capitalised words in a row ("… named Edward Black").
_CAPITALISED = re.compile(r"\b([A-Z][a-z]+(?: [A-Z][a-z]+){1,2})\b")
_ASK_JOB = "Invent an unusual job for {name}. Reply with the job only, in one to three words."
_ASK_STORY = "Write a two-sentence story about {name}, who works as a {job}."
_LABEL = re.compile(r"^(?:full name|name|job|occupation)\s*:\s*", re.IGNORECASE)


def _capitalised(text: str) -> str | None:
    found = _CAPITALISED.search(text)
    return found.group(1) if found else None


def first_phrase(text: str, max_words: int) -> str | None:
    """The short answer in a reply: its first line, or what follows a colon ("Here is a name: X"),
    or the next line after one ending in a colon; cleaned of markdown, quotes, a label and an
    article. None when that is not a phrase of at most `max_words` words."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    if line.endswith(":") and len(lines) > 1:
        line = lines[1]
    elif ":" in line:
        line = line.rsplit(":", 1)[1]
    line = _LABEL.sub("", line.strip().strip("*#\"'` ").strip())
    line = re.sub(r"^(?:an?|the)\s+", "", line, flags=re.IGNORECASE).strip(" .!,\"'*")
    words = line.split()
    ok = 1 <= len(words) <= max_words and all(re.fullmatch(r"[\w'-]+", w) for w in words)
    return line if ok else None


class ConsistencyConfig(ProbeConfig):
    """Characters per distance, the distances (open: filler tokens; closed: filler tokens) and budgets."""

    n: int = Field(6, ge=1)
    distances: tuple[int, ...] = (0, 64, 256, 512)
    closed_distances: tuple[int, ...] = (0, 4, 8, 16, 32, 64)
    key_length: int = Field(4, ge=1)
    max_new_tokens: int = Field(32, ge=1)
    story_tokens: int = Field(80, ge=16)  # chat variant: budget for the story the model writes
    self_written: bool = True  # chat models: also the variant where the model writes the story


def filler(model: TextModel, tokens: int, start: int) -> tuple[str, int]:
    """Filler turns (cycled from `start`) until they hold at least `tokens` model tokens."""
    parts: list[str] = []
    count, i = 0, start
    while count < tokens:
        turn = FILLER[i % len(FILLER)]
        parts.append(turn)
        count += len(model.tokenize("\n" + turn))
        i += 1
    return "".join("\n" + p for p in parts), count


class Consistency(Probe[ConsistencyConfig]):
    name = "consistency"
    title = "Consistency over distance"
    Config = ConsistencyConfig

    def _question(self, facts: ModelFacts, name: str) -> str:
        return (
            f"\n\nWhat is {name}'s job? Answer briefly."
            if facts.chat
            else f"\n\nQuestion: What is {name}'s job?\nAnswer:"
        )

    def _given(self, model: TextModel, facts: ModelFacts) -> list[Item]:
        cfg, rng, items = self.config, rng_for(self.config.seed, self.name, "given"), []
        for i in range(cfg.n):
            name, job, decoy = invented_name(rng), *rng.sample(JOBS, 2)
            story = (
                f"Here is a short story. {name} worked as a {job} in a small town by the sea. "
                f"Every morning, {name} opened the workshop before sunrise and greeted the neighbours."
            )
            for d in cfg.distances:
                text, count = filler(model, d, rng.randrange(len(FILLER))) if d else ("", 0)
                data = {
                    "variant": "given",
                    "distance": d,
                    "filler_tokens": count,
                    "attr": job,
                    "decoy": decoy,
                    "name": name,
                }
                items.append(
                    Item(f"given-{d}-{i}", story + text + self._question(facts, name), ("given", d), data)
                )
        return items

    def _self_written(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> tuple[list[Item], int]:
        """The model invents a name (for a seeded place), then a job for it, then writes the story."""
        cfg, rng = self.config, rng_for(self.config.seed, self.name, "self")
        places = [_PLACES[(rng.randrange(len(_PLACES)) + i) % len(_PLACES)] for i in range(cfg.n)]
        asks = [Item(f"name-{i}", _ASK_NAME.format(place=p), ("write", "name")) for i, p in enumerate(places)]
        names = [first_phrase(c.text, 4) or _capitalised(c.text) for c in rec.generate(asks, 24)]
        named = [(i, n) for i, n in enumerate(names) if n]
        asks = [Item(f"job-{i}", _ASK_JOB.format(name=n), ("write", "job")) for i, n in named]
        jobs = [first_phrase(c.text, 4) for c in rec.generate(asks, 24)] if asks else []
        people = [(i, n, j) for (i, n), j in zip(named, jobs, strict=True) if j]
        asks = [
            Item(f"story-{i}", _ASK_STORY.format(name=n, job=j), ("write", "story")) for i, n, j in people
        ]
        stories = rec.generate(asks, cfg.story_tokens) if asks else []
        items, usable = [], 0
        for (i, name, job), c in zip(people, stories, strict=True):
            story = c.text.strip()
            decoy = rng.choice([j for j in JOBS if j.casefold() != job.casefold()])
            if not contains_word(story, job):  # the answer cannot be read from a story without it
                continue
            usable += 1
            for d in cfg.distances:
                text, count = filler(model, d, rng.randrange(len(FILLER))) if d else ("", 0)
                data = {
                    "variant": "self-written",
                    "distance": d,
                    "filler_tokens": count,
                    "attr": job,
                    "decoy": decoy,
                    "name": name,
                }
                prompt = story + text + self._question(facts, name)
                items.append(Item(f"self-{d}-{i}", prompt, ("self-written", d), data))
        return items, cfg.n - usable

    def _chance(self, facts: ModelFacts, key: list[str], tokens: list[str]) -> float:
        """P(a random alphabet string as long as the task's answer to the prompt `tokens` contains
        `key`): the same for every model on the task (the prompt's length when the prompt is not an
        input of the task)."""
        length = len(tokens)
        if facts.task is not None:
            with contextlib.suppress(BadInput):
                length = len(facts.task.vocab.tokenize(facts.task.solve(facts.join(tokens))))
        return chance_of_run(key, len(facts.alphabet), length)

    def _closed(self, model: TextModel, facts: ModelFacts) -> tuple[list[Item], list[str]]:
        cfg, rng, items, notes = self.config, rng_for(self.config.seed, self.name, "closed"), [], []
        limit = facts.max_prompt_tokens(cfg.max_new_tokens)
        for d in cfg.closed_distances:
            if limit is not None and cfg.key_length + d > limit:
                notes.append(f"distance {d} skipped: beyond the model's context ({limit} tokens)")
                continue
            for i in range(cfg.closed_n):
                key = [rng.choice(facts.alphabet) for _ in range(cfg.key_length)]
                decoy = [rng.choice(facts.alphabet) for _ in range(cfg.key_length)]
                fill = rng.choice(facts.alphabet)
                tokens = key + [fill] * d
                data = {"variant": "key", "distance": d, "filler_tokens": d, "attr": key, "decoy": decoy}
                data["chance"] = self._chance(facts, key, tokens)
                items.append(Item(f"key-{d}-{i}", facts.join(tokens), ("key", d), data))
        return items, notes

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> Finding:
        cfg, notes, unusable = self.config, list[str](), dict[str, int]()
        if facts.closed:
            items, notes = self._closed(model, facts)
        else:
            items = self._given(model, facts)
            if facts.chat and cfg.self_written:
                written, gone = self._self_written(model, facts, rec)
                items += written
                unusable["self-written"] = gone
                if gone:
                    notes.append(
                        f"{gone} of {cfg.n} invented characters unusable (no name or job in the reply, "
                        "or a story that does not state the job): their rates leave them out"
                    )
            items, lost = fit_context(items, model, facts, cfg.max_new_tokens)
            notes += lost
        comps = (
            rec.generate(items, cfg.max_new_tokens, stop=() if facts.closed else ("\n\n",)) if items else []
        )
        recalled, denied, decoy = [], [], []
        for it, c in zip(items, comps, strict=True):
            if facts.closed:
                toks = model.tokenize(c.text) if c.text else []
                recalled.append(contains_run(toks, it.data["attr"]))
                decoy.append(contains_run(toks, it.data["decoy"]))
                denied.append(False)
            else:
                recalled.append(contains_word(c.text, it.data["attr"]))
                decoy.append(contains_word(c.text, it.data["decoy"]))
                denied.append(re.search(DENIAL, c.text, re.IGNORECASE) is not None)
        return self._finding(facts, items, recalled, denied, decoy, notes, unusable)

    def _finding(
        self,
        facts: ModelFacts,
        items: list[Item],
        recalled: list[bool],
        denied: list[bool],
        decoy: list[bool],
        notes: list[str],
        unusable: dict[str, int],
    ) -> Finding:
        """Recall, denial, the decoy control and (closed vocabularies) the task's chance level per
        variant and distance; the verdict compares the nearest and farthest distance of the first
        variant, and names every other variant's rate with its unusable count."""
        rows = []
        for condition, idx in indices(items, lambda it: it.condition).items():
            variant, d = cast(tuple[str, int], condition)
            gone = unusable.get(variant, 0)
            values = {
                "rate": _excluding(tally(recalled, idx), gone),
                "denial": _excluding(tally(denied, idx), gone),
                "decoy": tally(decoy, idx),
            }
            if facts.closed:
                values["chance"] = exact(sum(items[j].data["chance"] for j in idx) / len(idx), len(idx))
            filler_mean = sum(items[j].data["filler_tokens"] for j in idx) / len(idx)
            rows.append(Row({"variant": variant, "distance": d}, values, {"filler_tokens_mean": filler_mean}))
        for variant, gone in unusable.items():  # a variant with no usable item still gets its rows
            if gone and not any(r.keys["variant"] == variant for r in rows):
                for d in self.config.distances:
                    none = _excluding(share(0, 0), gone)
                    rows.append(Row({"variant": variant, "distance": d}, {"rate": none, "denial": none}))
        behavior = behavior_score(
            "distance",
            "B(x) = tokens between the fact and the question (and the variant); feature: recalled",
            [it.condition for it in items],
            recalled,
            self.config.seed,
        )
        shown = {"rate": "recall"} | ({"chance": "chance"} if facts.closed else {"denial": "denial"})
        plots = [
            Plot("consistency-recall", "Recall (and denial or chance) by distance", "distance",
                 "distance (filler tokens)", "share of answers", values=shown, by="variant",
                 dashed=("denial", "chance")),
        ]  # fmt: skip
        measured = [r for r in rows if r.values["rate"].defined]
        if not measured:
            verdict = "not measured: " + "; ".join(notes)
            return Finding(self.name, "recall", share(0, 0), verdict, rows, KEYS, plots, behavior, notes)
        near = measured[0]
        far = [r for r in measured if r.keys["variant"] == near.keys["variant"]][-1]
        what = "the key" if facts.closed else "the character's job"
        verdict = (
            f"recalls {what} in {percent(near.values['rate'])} at distance {near.keys['distance']} and "
            f"{percent(far.values['rate'])} at {far.keys['distance']} ({_baselines(far, facts.closed)})"
        )
        if not facts.closed:
            denial = percent(far.values["denial"])
            verdict += f"; denies knowing the character in {denial} at {far.keys['distance']}"
        for variant in dict.fromkeys(r.keys["variant"] for r in rows):
            verdict += _other_variant(rows, variant, near.keys["variant"])
        label = f"recall at distance {far.keys['distance']}"
        return Finding(self.name, label, far.values["rate"], verdict, rows, KEYS, plots, behavior, notes)


def _excluding(e: Estimate, gone: int) -> Estimate:
    """A share over the usable cases, naming how many were unusable."""
    return e if not gone else replace(e, excluded=gone)


def _baselines(row: Row, closed: bool) -> str:
    """ "chance 35% for a random answer of the task's length, any model; a decoy key in 17% [3%–56%]
    of its answers": the task's chance level and this model's decoy control, never one passed off
    as the other."""
    decoy = f"a decoy {'key' if closed else 'job'} in {percent(row.values['decoy'])} of its answers"
    if not closed:
        return decoy
    chance = 100 * row.values["chance"].value
    return f"chance {chance:.0f}% for a random answer of the task's length, any model; {decoy}"


def _other_variant(rows: list[Row], variant: str, first: str) -> str:
    """ "; self-written stories: 50% [..] at 512 (2 unusable left out)" for a variant beside the first."""
    if variant == first:
        return ""
    mine = [r for r in rows if r.keys["variant"] == variant]
    far = mine[-1]
    return f"; {variant} stories: {percent(far.values['rate'])} at {far.keys['distance']}"


KEYS = ["variant", "distance"]
