"""`consistency`: does the model still know a character it was told about N tokens ago?

Open text: a short story gives an invented name a job; filler dialogue turns of about N tokens
follow; then a question about the character's job. Recall: the answer names the job; denial: the
answer says it does not know the character (`content.DENIAL`). For chat models a second variant
lets the model invent the character: a name (for a seeded place), a job for that name, then
the story, each asked for separately (greedy) and parsed from a short reply. Closed vocabularies: a
key sequence, then N filler tokens; recall: the output contains the key. A decoy (a job or key
the prompt never mentioned) gives the chance rate.
"""

from __future__ import annotations

import re
from typing import cast

from pydantic import Field

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
from behaviorlab.stats import percent, share

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
        items = []
        for (i, name, job), c in zip(people, stories, strict=True):
            story = c.text.strip()
            decoy = rng.choice([j for j in JOBS if j.casefold() != job.casefold()])
            for d in cfg.distances:
                text, count = filler(model, d, rng.randrange(len(FILLER))) if d else ("", 0)
                data = {
                    "variant": "self-written",
                    "distance": d,
                    "filler_tokens": count,
                    "attr": job,
                    "decoy": decoy,
                    "name": name,
                    "story_mentions_job": contains_word(story, job),
                }
                prompt = story + text + self._question(facts, name)
                items.append(Item(f"self-{d}-{i}", prompt, ("self-written", d), data))
        unparsed = cfg.n - len(people)
        return items, unparsed

    def _closed(self, model: TextModel, facts: ModelFacts) -> tuple[list[Item], list[str]]:
        cfg, rng, items, notes = self.config, rng_for(self.config.seed, self.name, "closed"), [], []
        limit = facts.max_prompt_tokens(cfg.max_new_tokens)
        for d in cfg.closed_distances:
            if limit is not None and cfg.key_length + d > limit:
                notes.append(f"distance {d} skipped: beyond the model's context ({limit} tokens)")
                continue
            for i in range(cfg.n):
                key = [rng.choice(facts.alphabet) for _ in range(cfg.key_length)]
                decoy = [rng.choice(facts.alphabet) for _ in range(cfg.key_length)]
                fill = rng.choice(facts.alphabet)
                data = {"variant": "key", "distance": d, "filler_tokens": d, "attr": key, "decoy": decoy}
                items.append(Item(f"key-{d}-{i}", facts.join(key + [fill] * d), ("key", d), data))
        return items, notes

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> Finding:
        cfg, notes = self.config, list[str]()
        if facts.closed:
            items, notes = self._closed(model, facts)
        else:
            items = self._given(model, facts)
            if facts.chat and cfg.self_written:
                written, unparsed = self._self_written(model, facts, rec)
                items += written
                if unparsed:
                    notes.append(f"{unparsed} of {cfg.n} invented characters had no usable name or job reply")
            items, lost = fit_context(items, model, facts, cfg.max_new_tokens)
            notes += lost
        comps = (
            rec.generate(items, cfg.max_new_tokens, stop=() if facts.closed else ("\n\n",)) if items else []
        )
        recalled, denied, chance = [], [], []
        for it, c in zip(items, comps, strict=True):
            if facts.closed:
                toks = model.tokenize(c.text) if c.text else []
                recalled.append(contains_run(toks, it.data["attr"]))
                chance.append(contains_run(toks, it.data["decoy"]))
                denied.append(False)
            else:
                recalled.append(contains_word(c.text, it.data["attr"]))
                chance.append(contains_word(c.text, it.data["decoy"]))
                denied.append(re.search(DENIAL, c.text, re.IGNORECASE) is not None)
        return self._finding(facts, items, recalled, denied, chance, notes)

    def _finding(
        self,
        facts: ModelFacts,
        items: list[Item],
        recalled: list[bool],
        denied: list[bool],
        chance: list[bool],
        notes: list[str],
    ) -> Finding:
        """Recall, denial and the decoy's chance rate per variant and distance; the verdict
        compares the nearest and farthest distance of the first variant."""
        rows = []
        for condition, idx in indices(items, lambda it: it.condition).items():
            variant, d = cast(tuple[str, int], condition)
            values = {
                "rate": tally(recalled, idx),
                "denial": tally(denied, idx),
                "chance": tally(chance, idx),
            }
            filler_mean = sum(items[j].data["filler_tokens"] for j in idx) / len(idx)
            rows.append(Row({"variant": variant, "distance": d}, values, {"filler_tokens_mean": filler_mean}))
        behavior = behavior_score(
            "distance",
            "B(x) = tokens between the fact and the question (and the variant); feature: recalled",
            [it.condition for it in items],
            recalled,
            self.config.seed,
        )
        shown = {"rate": "recall"} | ({} if facts.closed else {"denial": "denial"})
        plots = [
            Plot("consistency-recall", "Recall (and denial) by distance", "distance",
                 "distance (filler tokens)", "share of answers", values=shown, by="variant",
                 dashed=("denial",)),
        ]  # fmt: skip
        if not rows:
            verdict = "not measured: " + "; ".join(notes)
            return Finding(self.name, "recall", share(0, 0), verdict, rows, KEYS, plots, behavior, notes)
        near = rows[0]
        far = [r for r in rows if r.keys["variant"] == near.keys["variant"]][-1]
        what = "the key" if facts.closed else "the character's job"
        verdict = (
            f"recalls {what} in {percent(near.values['rate'])} at distance {near.keys['distance']} and "
            f"{percent(far.values['rate'])} at {far.keys['distance']} "
            f"(chance {far.values['chance'].value:.0%})"
        )
        if not facts.closed:
            denial = far.values["denial"].value
            verdict += f"; denies knowing the character in {denial:.0%} at {far.keys['distance']}"
        label = f"recall at distance {far.keys['distance']}"
        return Finding(self.name, label, far.values["rate"], verdict, rows, KEYS, plots, behavior, notes)


KEYS = ["variant", "distance"]
