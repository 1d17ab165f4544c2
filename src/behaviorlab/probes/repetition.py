"""`repetition`: how often does free generation fall into a loop, under which decoding, and where?

A generation loops when its tail repeats a unit of p ≤ 16 tokens to the end at least 3 times
(`text.find_loop`); the loop starts where that tail begins. Prompts: openings of plain text for
open-text models, random alphabet sequences for closed vocabularies. Greedy decoding plus sampling
at each temperature, seeded.
"""

from __future__ import annotations

from pydantic import Field

from behaviorlab.lm import GREEDY, Decoding, TextModel
from behaviorlab.probes.base import (
    Item,
    ModelFacts,
    Probe,
    ProbeConfig,
    Recorder,
    behavior_score,
    rng_for,
)
from behaviorlab.probes.text import find_loop
from behaviorlab.results import Finding, Plot, Row
from behaviorlab.stats import percent, quartiles, share

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

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> Finding:
        cfg = self.config
        prompts = self._prompts(facts)
        decodings = [GREEDY] + [
            Decoding(greedy=False, temperature=t, seed=cfg.seed + i) for i, t in enumerate(cfg.temperatures)
        ]
        rows, conditions, looped, starts = [], [], [], []
        for dec in decodings:
            items = [Item(f"{dec.label()}-{i}", p, dec.label()) for i, p in enumerate(prompts)]
            comps = rec.generate(items, cfg.max_new_tokens, decoding=dec)
            loops = [
                find_loop(c.tokens or tuple(model.tokenize(c.text)), cfg.max_period, cfg.min_repeats)
                for c in comps
            ]
            rows.append(_row(dec, loops, [len(c.tokens) for c in comps]))
            conditions += [dec.label()] * len(comps)
            looped += [lp is not None for lp in loops]
            starts += [lp[0] for lp in loops if lp is not None]
        behavior = behavior_score(
            "decoding",
            "B(x) = the decoding (greedy or a sampling temperature); feature: looped",
            conditions,
            looped,
            cfg.seed,
        )
        greedy, last = rows[0], rows[-1]
        where = quartiles(starts).estimate
        verdict = (
            f"loops in {percent(greedy.values['rate'])} of greedy and {percent(last.values['rate'])} of "
            f"{str(last.keys['decoding']).split(',')[0]} generations"
            + (f"; loops start at generated token {where:g} (median)" if where is not None else "; no loops")
        )
        plots = [
            Plot("loop-rate", "Loop rate by decoding", "temperature", "temperature (0 = greedy)",
                 "share of generations that loop", values={"rate": "loop rate"}),
            Plot("loop-start", "Where loops start (median, quartiles)", "temperature",
                 "temperature (0 = greedy)", "loop start (generated token)",
                 values={"loop_start": "loop start"}, y_range=None),
        ]  # fmt: skip
        head = greedy.values["rate"]
        return Finding(self.name, "greedy loop rate", head, verdict, rows, ["decoding"], plots, behavior)


def _row(dec: Decoding, loops: list[tuple[int, int] | None], lengths: list[int]) -> Row:
    """One decoding: the share that loops, where loops start (median and quartiles), their period
    and the mean generation length."""
    found = [lp for lp in loops if lp is not None]
    keys = {"decoding": dec.label(), "temperature": 0.0 if dec.greedy else dec.temperature}
    values = {"rate": share(len(found), len(loops)), "loop_start": quartiles([lp[0] for lp in found])}
    extra = {
        "period_median": quartiles([lp[1] for lp in found]).estimate,
        "mean_length": sum(lengths) / max(len(lengths), 1),
    }
    return Row(keys, values, extra)
