"""`repetition`: how often does free generation fall into a loop, under which decoding, and where?

A generation loops when its tail repeats a unit of p ≤ 16 tokens to the end at least 3 times
(`text.find_loop`); the loop starts where that tail begins. Prompts: openings of plain text for
open-text models, random alphabet sequences for closed vocabularies. Greedy decoding plus sampling
at each temperature, seeded.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from behaviorlab.lm import GREEDY, Decoding, TextModel
from behaviorlab.probes.base import (
    Item,
    ModelFacts,
    Probe,
    ProbeConfig,
    Recorder,
    behavior_score,
    ci,
    figure,
    quartiles,
    rate,
    result,
    rng_for,
    series,
)
from behaviorlab.probes.text import find_loop

OPENINGS = (
    "The history of the old harbour town begins",
    "Here is a list of things to bring on a long trip:",
    "Once upon a time, in a village at the edge of a forest,",
    "The most important rule of cooking rice is",
    "Dear diary, today was",
    "1, 2, 3, 4,",
    "The committee met again on Tuesday to discuss",
    "In the beginning of the semester, the students",
    "My favourite thing about autumn is",
    "The instructions for assembling the shelf say",
    "Breaking news: scientists have discovered",
    "The recipe calls for flour, sugar,",
)


class RepetitionConfig(ProbeConfig):
    """Prompts, generation length, sampling temperatures and the loop definition."""

    n: int = Field(8, ge=1)
    max_new_tokens: int = Field(48, ge=4)
    temperatures: tuple[float, ...] = (0.7, 1.0)
    max_period: int = Field(16, ge=1)
    min_repeats: int = Field(3, ge=2)
    closed_length: int = Field(6, ge=1)  # closed prompts: random alphabet sequences this long


class Repetition(Probe[RepetitionConfig]):
    name = "repetition"
    title = "Repetition loops"
    Config = RepetitionConfig

    def _prompts(self, facts: ModelFacts) -> list[str]:
        cfg = self.config
        rng = rng_for(cfg.seed, self.name)
        if facts.closed:
            k = cfg.closed_length
            limit = facts.max_prompt_tokens(cfg.max_new_tokens)
            k = min(k, limit) if limit is not None else k
            return [
                facts.join([rng.choice(facts.alphabet) for _ in range(max(k, 1))])
                for _ in range(cfg.closed_n)
            ]
        picks = [
            OPENINGS[i % len(OPENINGS)] for i in rng.sample(range(len(OPENINGS)), min(cfg.n, len(OPENINGS)))
        ]
        picks += [OPENINGS[rng.randrange(len(OPENINGS))] for _ in range(cfg.n - len(picks))]
        # Chat models read an instruction; base models continue the opening itself.
        return [f"Continue this text: {p}" if facts.chat else p for p in picks]

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> dict[str, Any]:
        cfg = self.config
        prompts = self._prompts(facts)
        decodings = [GREEDY] + [
            Decoding(greedy=False, temperature=t, seed=cfg.seed + i) for i, t in enumerate(cfg.temperatures)
        ]
        conditions, looped, table, starts_all = [], [], [], []
        for dec in decodings:
            items = [Item(f"{dec.label()}-{i}", p, dec.label()) for i, p in enumerate(prompts)]
            comps = rec.generate(items, cfg.max_new_tokens, decoding=dec)
            loops = [
                find_loop(c.tokens or tuple(model.tokenize(c.text)), cfg.max_period, cfg.min_repeats)
                for c in comps
            ]
            starts = [lp[0] for lp in loops if lp is not None]
            periods = [lp[1] for lp in loops if lp is not None]
            temp = 0.0 if dec.greedy else dec.temperature
            row = {"decoding": dec.label(), "temperature": temp, **rate(len(starts), len(comps))}
            q = quartiles(starts)
            row.update({"start_median": q["median"], "start_q1": q["q1"], "start_q3": q["q3"]})
            row["period_median"] = quartiles(periods)["median"]
            row["mean_length"] = sum(len(c.tokens) for c in comps) / max(len(comps), 1)
            table.append(row)
            conditions += [dec.label()] * len(comps)
            looped += [lp is not None for lp in loops]
            starts_all += starts
        behavior = behavior_score(
            "decoding",
            "B(x) = the decoding (greedy or a sampling temperature); feature: looped",
            conditions,
            looped,
            cfg.seed,
        )
        figures = [
            figure(
                "loop-rate",
                "Loop rate by decoding",
                "temperature (0 = greedy)",
                "share of generations that loop",
                [series("loop rate", table, "temperature")],
            ),
            figure(
                "loop-start",
                "Where loops start (median, quartiles)",
                "temperature (0 = greedy)",
                "loop start (generated token)",
                [
                    series(
                        "loop start",
                        [r | {"lo": r["start_q1"], "hi": r["start_q3"]} for r in table],
                        "temperature",
                        "start_median",
                    )
                ],
                y_range=None,
            ),
        ]
        greedy, last = table[0], table[-1]
        where = quartiles(starts_all)["median"]
        verdict = (
            f"loops in {ci(greedy)} of greedy and {ci(last)} of {last['decoding'].split(',')[0]} generations"
            + (f"; loops start at generated token {where:g} (median)" if where is not None else "; no loops")
        )
        return result(
            headline={"label": "greedy loop rate", **{k: greedy[k] for k in ("n", "k", "rate", "lo", "hi")}},
            keys=["decoding"],
            table=table,
            figures=figures,
            behavior=behavior,
            verdict=verdict,
        )
