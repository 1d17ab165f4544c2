"""`consistency`: does the model still know a character it was told about N tokens ago?

Open text: a short story gives an invented name a job; filler dialogue turns of about N tokens
follow; then a question about the character's job. Recall: the answer names the job; denial: the
answer says it does not know the character (`content.DENIAL`). For chat models a second variant
lets the model write the story itself (it names the character and job on a last line, which is
parsed and removed). Closed vocabularies: a key sequence, then N filler tokens; recall: the output
contains the key. A decoy (a job or key the prompt never mentioned) gives the chance rate.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from behaviorlab.lm import TextModel
from behaviorlab.probes.base import (
    Item,
    ModelFacts,
    Probe,
    ProbeConfig,
    Recorder,
    behavior_score,
    ci,
    figure,
    rate,
    result,
    rng_for,
    series,
)
from behaviorlab.probes.content import DENIAL, FILLER, JOBS, invented_name
from behaviorlab.probes.text import contains_run, contains_word

_WRITE = (
    "Write a three-sentence story about a person with an invented full name and an unusual job. "
    "After the story, on its own last line, write exactly: Name: <full name>; Job: <job>"
)
_PARSED = re.compile(r"Name:\s*([^;\n]+?)\s*;\s*Job:\s*([^\n]+)", re.IGNORECASE)


class ConsistencyConfig(ProbeConfig):
    """Characters per distance, the distances (open: filler tokens; closed: filler tokens) and budgets."""

    n: int = Field(6, ge=1)
    distances: tuple[int, ...] = (0, 64, 256, 512)
    closed_distances: tuple[int, ...] = (0, 4, 8, 16, 32, 64)
    key_length: int = Field(4, ge=1)
    max_new_tokens: int = Field(24, ge=1)
    story_tokens: int = Field(120, ge=16)  # chat variant: budget for the story the model writes
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


class Consistency(Probe):
    name = "consistency"
    title = "Consistency over distance"
    Config = ConsistencyConfig

    @property
    def cfg(self) -> ConsistencyConfig:
        assert isinstance(self.config, ConsistencyConfig)
        return self.config

    def _question(self, facts: ModelFacts, name: str) -> str:
        return (
            f"\n\nWhat is {name}'s job? Answer briefly."
            if facts.chat
            else f"\n\nQuestion: What is {name}'s job?\nAnswer:"
        )

    def _given(self, model: TextModel, facts: ModelFacts) -> list[Item]:
        cfg, rng, items = self.cfg, rng_for(self.cfg.seed, self.name, "given"), []
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
        cfg, rng = self.cfg, rng_for(self.cfg.seed, self.name, "self")
        asks = [Item(f"write-{i}", _WRITE, ("write", 0)) for i in range(cfg.n)]
        stories = rec.generate(asks, cfg.story_tokens)
        items, unparsed = [], 0
        for i, c in enumerate(stories):
            m = _PARSED.search(c.text)
            if m is None:
                unparsed += 1
                continue
            name, job = m.group(1).strip(" *\"'"), m.group(2).strip(" .*\"'")
            story = c.text[: m.start()].strip()
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
                }
                items.append(
                    Item(
                        f"self-{d}-{i}", story + text + self._question(facts, name), ("self-written", d), data
                    )
                )
        return items, unparsed

    def _closed(self, model: TextModel, facts: ModelFacts) -> tuple[list[Item], list[str]]:
        cfg, rng, items, notes = self.cfg, rng_for(self.cfg.seed, self.name, "closed"), [], []
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

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> dict[str, Any]:
        cfg, notes = self.cfg, list[str]()
        if facts.closed:
            items, notes = self._closed(model, facts)
        else:
            items = self._given(model, facts)
            if facts.chat and cfg.self_written:
                written, unparsed = self._self_written(model, facts, rec)
                items += written
                if unparsed:
                    notes.append(f"{unparsed} of {cfg.n} self-written stories had no parsable Name/Job line")
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
        return self._result(facts, items, recalled, denied, chance, notes)

    def _result(
        self,
        facts: ModelFacts,
        items: list[Item],
        recalled: list[bool],
        denied: list[bool],
        chance: list[bool],
        notes: list[str],
    ) -> dict[str, Any]:
        cfg, table, lines = self.cfg, [], []
        for variant in dict.fromkeys(it.data["variant"] for it in items):
            rows = []
            for d in dict.fromkeys(it.data["distance"] for it in items if it.data["variant"] == variant):
                idx = [j for j, it in enumerate(items) if it.condition == (variant, d)]
                den, ch = (
                    rate(sum(denied[j] for j in idx), len(idx)),
                    rate(sum(chance[j] for j in idx), len(idx)),
                )
                row = {
                    "variant": variant,
                    "distance": d,
                    **rate(sum(recalled[j] for j in idx), len(idx)),
                    "filler_tokens_mean": sum(items[j].data["filler_tokens"] for j in idx) / len(idx),
                    "denial": den["rate"],
                    "denial_lo": den["lo"],
                    "denial_hi": den["hi"],
                    "chance": ch["rate"],
                }
                rows.append(row)
            table += rows
            lines.append(series(f"{variant}: recall", rows, "distance"))
            if not facts.closed:
                lines.append(
                    series(
                        f"{variant}: denial",
                        [r | {"rate": r["denial"], "lo": r["denial_lo"], "hi": r["denial_hi"]} for r in rows],
                        "distance",
                    )
                    | {"dashed": True}
                )
        behavior = behavior_score(
            "distance",
            "B(x) = tokens between the fact and the question (and the variant); feature: recalled",
            [it.condition for it in items],
            recalled,
            cfg.seed,
        )
        unit = "filler tokens"
        figures = [
            figure(
                "consistency-recall",
                "Recall (and denial) by distance",
                f"distance ({unit})",
                "share of answers",
                lines,
            )
        ]
        if table:
            near, far = table[0], [r for r in table if r["variant"] == table[0]["variant"]][-1]
            what = "the key" if facts.closed else "the character's job"
            verdict = (
                f"recalls {what} in {ci(near)} at distance {near['distance']} and {ci(far)} at "
                f"{far['distance']} (chance {far['chance']:.0%})"
            )
            if not facts.closed:
                verdict += f"; denies knowing the character in {far['denial']:.0%} at {far['distance']}"
            headline = {
                "label": f"recall at distance {far['distance']}",
                **{k: far[k] for k in ("n", "k", "rate", "lo", "hi")},
            }
        else:
            verdict, headline = "not measured: " + "; ".join(notes), {"label": "recall", **rate(0, 0)}
        return result(
            headline=headline,
            keys=["variant", "distance"],
            table=table,
            figures=figures,
            behavior=behavior,
            verdict=verdict,
            notes=notes,
        )
