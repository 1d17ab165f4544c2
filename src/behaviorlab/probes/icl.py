"""`icl`: does accuracy grow with the number of demonstrations in the prompt?

Open text: "Input: …\\nOutput: …" demonstrations of string tasks with exact references — our task
generators (binary successor in natural order, Peano addition) and plain string maps (reverse a
word, uppercase a word, a word's last letter) — then the query; the answer is the completion's
first line, exact match after whitespace normalisation (a leading "Output:" echo is dropped).
No instruction is given: 0 shots measures what the model guesses from the format alone.
Closed vocabularies: demonstrations are the run's own task pairs concatenated as token sequences
(`x1 y1 x2 y2 … xq`), which such a model never saw in training — the numbers say what comes out.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from pydantic import Field

from behaviorlab import tasks
from behaviorlab.lm import TextModel
from behaviorlab.lm.fewshot import few_shot_prompt, parse_answer
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
from behaviorlab.probes.content import WORDS
from behaviorlab.probes.text import normalize_ws
from behaviorlab.results import Finding, Plot, Row
from behaviorlab.stats import percent, share

Pair = tuple[str, str]


def _task_pairs(name: str, max_size: int, **options: object) -> Callable[[random.Random, int], list[Pair]]:
    task = tasks.get(name, **options)
    return lambda rng, k: [
        (e.input, e.output) for e in task.sample(k, rng.randrange(2**31), max_size=max_size)
    ]


def _word_pairs(fn: Callable[[str], str]) -> Callable[[random.Random, int], list[Pair]]:
    return lambda rng, k: [(w, fn(w)) for w in (rng.choice(WORDS) for _ in range(k))]


OPEN_TASKS: dict[str, Callable[[random.Random, int], list[Pair]]] = {
    "binary-successor": _task_pairs("binary-successor", 6, order="natural"),
    "peano-add": _task_pairs("peano-add", 3),
    "reverse-word": _word_pairs(lambda w: w[::-1]),
    "uppercase-word": _word_pairs(str.upper),
    "last-letter": _word_pairs(lambda w: w[-1]),
}


class IclConfig(ProbeConfig):
    """Queries per (task, shots), the shot counts, and the answer budget."""

    n: int = Field(4, ge=1)
    shots: tuple[int, ...] = (0, 1, 2, 4, 8, 16)
    tasks: tuple[str, ...] = tuple(OPEN_TASKS)
    max_new_tokens: int = Field(16, ge=1)
    closed_max_size: int = Field(3, ge=1)  # closed demonstrations: small task sizes, so shots fit


class Icl(Probe[IclConfig]):
    name = "icl"
    title = "In-context learning"
    Config = IclConfig

    def _open_items(self) -> list[Item]:
        cfg, items = self.config, []
        for task in cfg.tasks:
            draw = OPEN_TASKS[task]
            rng = rng_for(cfg.seed, self.name, task)
            for i in range(cfg.n):
                pool = draw(rng, max(cfg.shots) + 1)
                query, demos = pool[0], pool[1:]
                for k in cfg.shots:
                    prompt = few_shot_prompt(demos[:k], query[0], gap="\n\n")
                    items.append(
                        Item(
                            f"{task}-{k}-{i}", prompt, (task, k), {"ref": query[1], "task": task, "shots": k}
                        )
                    )
        return items

    def _closed_items(self, facts: ModelFacts) -> tuple[list[Item], list[str]]:
        cfg, items, notes = self.config, [], []
        task = facts.task
        if task is None:
            return [], ["no task with a reference function: nothing to demonstrate"]
        rng = rng_for(cfg.seed, self.name, task.key)
        limit = facts.max_prompt_tokens(cfg.max_new_tokens)
        skipped: set[int] = set()
        for i in range(cfg.n):
            pool = [
                (e.input, e.output)
                for e in task.sample(max(cfg.shots) + 1, rng.randrange(2**31), max_size=cfg.closed_max_size)
            ]
            query, demos = pool[0], pool[1:]
            for k in cfg.shots:
                prompt = " ".join([p for x, y in demos[:k] for p in (x, y)] + [query[0]])
                if limit is not None and len(prompt.split()) > limit:
                    skipped.add(k)
                    continue
                items.append(
                    Item(
                        f"{task.name}-{k}-{i}",
                        prompt,
                        (task.name, k),
                        {"ref": query[1], "task": task.name, "shots": k},
                    )
                )
        if skipped:
            notes.append(
                f"shots {sorted(skipped)} skipped where the prompt exceeds the model's context"
                f" ({limit} tokens)"
            )
        return items, notes

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> Finding:
        cfg = self.config
        items, notes = (
            self._closed_items(facts)
            if facts.closed
            else fit_context(self._open_items(), model, facts, cfg.max_new_tokens)
        )
        stop = () if facts.closed else ("\n",)
        budget = cfg.max_new_tokens
        comps = rec.generate(items, budget, stop=stop) if items else []
        got = [normalize_ws(c.text) if facts.closed else parse_answer(c.text) for c in comps]
        ok = [g == normalize_ws(it.data["ref"]) for g, it in zip(got, items, strict=True)]
        return self._finding(items, ok, notes)

    def _finding(self, items: list[Item], ok: list[bool], notes: list[str]) -> Finding:
        """Accuracy per task and number of shots, pooled over tasks; the verdict compares the
        fewest and the most demonstrations."""
        shots = self.config.shots
        at = indices(items, lambda it: (it.data["task"], it.data["shots"]))
        tasks = list(dict.fromkeys(it.data["task"] for it in items))
        rows = [
            Row({"task": t, "shots": k}, {"rate": tally(ok, at[(t, k)])})
            for t in tasks
            for k in shots
            if (t, k) in at
        ]
        by_shots = indices(items, lambda it: it.data["shots"])
        pooled = [
            Row({"task": "all", "shots": k}, {"rate": tally(ok, by_shots[k])}) for k in shots if k in by_shots
        ]
        rows += pooled if len(tasks) > 1 else []
        behavior = behavior_score(
            "number of demonstrations",
            "B(x) = the number of demonstrations in the prompt; feature: correct",
            [it.data["shots"] for it in items],
            ok,
            self.config.seed,
        )
        plots = [
            Plot("icl-accuracy", "Accuracy by number of demonstrations", "shots", "demonstrations (shots)",
                 "exact-match accuracy", by="task", names={"all": "all tasks"}, dashed=("all tasks",)),
        ]  # fmt: skip
        if not pooled:
            verdict = "not measured: " + "; ".join(notes)
            return Finding(self.name, "accuracy", share(0, 0), verdict, rows, KEYS, plots, behavior, notes)
        first, last = pooled[0], pooled[-1]
        verdict = (
            f"accuracy {percent(first.values['rate'])} with {first.keys['shots']} and "
            f"{percent(last.values['rate'])} with {last.keys['shots']} demonstrations"
            + (f" ({len(tasks)} tasks pooled)" if len(tasks) > 1 else f" ({tasks[0]})")
        )
        label = f"accuracy at {last.keys['shots']} shots"
        return Finding(self.name, label, last.values["rate"], verdict, rows, KEYS, plots, behavior, notes)


KEYS = ["task", "shots"]
