"""`icl`: does accuracy grow with the number of demonstrations in the prompt, and from which count?

Open text: "Input: …\\nOutput: …" demonstrations of string tasks with exact references, graded from
maps a 135M model can pick up (repeat a word, its first letter, a word's category among animal /
fruit / colour) through uppercase, last letter and reversal to our task generators (binary
successor in natural order, Peano addition) — then the query; the answer is the completion's first
line, exact match after whitespace normalisation (a leading "Output:" echo is dropped). No
instruction is given: 0 shots measures what the model guesses from the format alone. Chat models
are asked both in their chat template and as plain text. Per task and template: the accuracy curve
over shots with Wilson intervals, and the first shot count whose accuracy beats 0 shots
significantly (Newcombe's 95% interval of the difference above zero).

Each task draws `contexts` demonstration sets, each shared by its queries at every shot count (a
query is asked with the first k demonstrations of its set, for each k, and never appears among
them); the demonstrations go to the model as the call's shared prefix, read once (KV cache).
Queries sharing a set are not independent draws of demonstrations: more sets give an interval
that speaks for demonstrations in general, fewer are faster.

Closed vocabularies: demonstrations are the run's own task pairs concatenated as token sequences
(`x1 y1 x2 y2 … xq`), which such a model never saw in training — the numbers say what comes out.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from pydantic import Field

from behaviorlab import tasks
from behaviorlab.lm import TextModel
from behaviorlab.lm.fewshot import demonstrations, parse_answer, question
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
from behaviorlab.stats import Estimate, difference, percent, share

Pair = tuple[str, str]
GAP = "\n\n"  # between demonstrations


def _task_pairs(name: str, max_size: int, **options: object) -> Callable[[random.Random, int], list[Pair]]:
    task = tasks.get(name, **options)
    return lambda rng, k: [
        (e.input, e.output) for e in task.sample(k, rng.randrange(2**31), max_size=max_size)
    ]


def _word_pairs(fn: Callable[[str], str]) -> Callable[[random.Random, int], list[Pair]]:
    return lambda rng, k: [(w, fn(w)) for w in (rng.choice(WORDS) for _ in range(k))]


CATEGORIES = {
    "animal": ("dog", "cat", "horse", "cow", "sheep", "lion", "tiger", "mouse", "rabbit", "bear", "wolf"),
    "fruit": ("apple", "banana", "cherry", "grape", "lemon", "mango", "peach", "pear", "plum", "melon"),
    "colour": ("red", "blue", "green", "yellow", "purple", "pink", "brown", "black", "white", "grey"),
}  # fmt: skip


def _category_pairs(rng: random.Random, k: int) -> list[Pair]:
    out = []
    for _ in range(k):
        name = rng.choice(sorted(CATEGORIES))
        out.append((rng.choice(CATEGORIES[name]), name))
    return out


# Easiest first: what a small model can pick up from a few examples, then harder maps.
OPEN_TASKS: dict[str, Callable[[random.Random, int], list[Pair]]] = {
    "repeat-word": _word_pairs(lambda w: w),
    "first-letter": _word_pairs(lambda w: w[0]),
    "category": _category_pairs,
    "uppercase-word": _word_pairs(str.upper),
    "last-letter": _word_pairs(lambda w: w[-1]),
    "reverse-word": _word_pairs(lambda w: w[::-1]),
    "binary-successor": _task_pairs("binary-successor", 6, order="natural"),
    "peano-add": _task_pairs("peano-add", 3),
}


class IclConfig(ProbeConfig):
    """Queries per (task, shots, template), the demonstration sets they share, the shot counts,
    and the answer budget."""

    n: int = Field(16, ge=1)
    contexts: int = Field(2, ge=1)  # demonstration sets per task (open text); n is split across them
    shots: tuple[int, ...] = (0, 1, 2, 4, 8, 16)
    tasks: tuple[str, ...] = tuple(OPEN_TASKS)
    max_new_tokens: int = Field(16, ge=1)
    closed_max_size: int = Field(3, ge=1)  # closed demonstrations: small task sizes, so shots fit
    both_templates: bool = True  # chat models: also ask every prompt as plain text


def _queries(
    draw: Callable[[random.Random, int], list[Pair]], rng: random.Random, demos: list[Pair], m: int
) -> list[Pair]:
    """`m` queries whose inputs are not among the demonstrations' (else a query is a lookup)."""
    seen, out = {x for x, _ in demos}, list[Pair]()
    for _ in range(50 * m):  # a task with too few inputs keeps what it found
        if len(out) == m:
            break
        q = draw(rng, 1)[0]
        if q[0] not in seen:
            out.append(q)
    return out


class Icl(Probe[IclConfig]):
    name = "icl"
    title = "In-context learning"
    Config = IclConfig

    def _open_items(self, templates: tuple[str, ...]) -> list[Item]:
        """Template, task, shots, set, query order: a run of items shares its demonstrations."""
        cfg = self.config
        sets: dict[str, list[tuple[list[Pair], list[Pair]]]] = {}
        for task in cfg.tasks:
            draw, rng = OPEN_TASKS[task], rng_for(cfg.seed, self.name, task)
            sizes = [cfg.n // cfg.contexts + (s < cfg.n % cfg.contexts) for s in range(cfg.contexts)]
            sets[task] = []
            for m in sizes:
                demos = draw(rng, max(cfg.shots))
                sets[task].append((demos, _queries(draw, rng, demos, m)))
        items = []
        for t in templates:
            for task in cfg.tasks:
                for k in cfg.shots:
                    for s, (demos, queries) in enumerate(sets[task]):
                        lead = demonstrations(demos[:k], GAP)
                        for j, (x, y) in enumerate(queries):
                            data = {"ref": y, "task": task, "shots": k, "template": t}
                            item_id = f"{t}-{task}-{k}-{s}-{j}"
                            items.append(Item(item_id, lead + question(x), (t, task, k), data, prefix=lead))
        return items

    def _closed_items(self, facts: ModelFacts) -> tuple[list[Item], list[str]]:
        cfg, items, notes = self.config, [], []
        task = facts.task
        if task is None:
            return [], ["no task with a reference function: nothing to demonstrate"]
        rng = rng_for(cfg.seed, self.name, task.key)
        limit = facts.max_prompt_tokens(cfg.max_new_tokens)
        skipped: set[int] = set()
        for i in range(cfg.closed_n):
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
                data = {"ref": query[1], "task": task.name, "shots": k, "template": "plain"}
                items.append(Item(f"{task.name}-{k}-{i}", prompt, ("plain", task.name, k), data))
        if skipped:
            notes.append(
                f"shots {sorted(skipped)} skipped where the prompt exceeds the model's context"
                f" ({limit} tokens)"
            )
        return items, notes

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> Finding:
        cfg = self.config
        templates = (
            ("chat", "plain") if facts.chat and cfg.both_templates else ("chat" if facts.chat else "plain",)
        )
        items, notes = (
            self._closed_items(facts)
            if facts.closed
            else fit_context(self._open_items(templates), model, facts, cfg.max_new_tokens)
        )
        stop = () if facts.closed else ("\n",)
        texts: dict[str, str] = {}
        for t in templates:
            sent = [it for it in items if it.data["template"] == t]
            if sent:
                done = rec.generate(sent, cfg.max_new_tokens, stop=stop, chat=t == "chat")
                texts |= {it.id: c.text for it, c in zip(sent, done, strict=True)}
        got = [normalize_ws(texts[it.id]) if facts.closed else parse_answer(texts[it.id]) for it in items]
        ok = [g == normalize_ws(it.data["ref"]) for g, it in zip(got, items, strict=True)]
        return self._finding(items, ok, templates, notes)

    def _rows(self, items: list[Item], ok: list[bool], templates: tuple[str, ...]) -> list[Row]:
        """Accuracy per template, task and shot count; per template also every task pooled ("all")."""
        at = indices(items, lambda it: (it.data["template"], it.data["task"], it.data["shots"]))
        pooled = indices(items, lambda it: (it.data["template"], it.data["shots"]))
        rows = []
        for t in templates:
            names = list(dict.fromkeys(it.data["task"] for it in items if it.data["template"] == t))
            for task in names:
                rows += [
                    Row({"template": t, "task": task, "shots": k}, {"rate": tally(ok, at[(t, task, k)])})
                    for k in self.config.shots
                    if (t, task, k) in at
                ]
            rows += [
                Row({"template": t, "task": "all", "shots": k}, {"rate": tally(ok, pooled[(t, k)])})
                for k in self.config.shots
                if (t, k) in pooled and len(names) > 1
            ]
        return rows

    def _finding(
        self, items: list[Item], ok: list[bool], templates: tuple[str, ...], notes: list[str]
    ) -> Finding:
        """Curves per template and task, where each first rises significantly, the pooled headline."""
        rows = self._rows(items, ok, templates)
        curves = [
            {"template": t, "task": task, "rises_from": rises_from(rows, t, task)}
            for t in templates
            for task in dict.fromkeys(r.keys["task"] for r in rows if r.keys["template"] == t)
            if task != "all"
        ]
        behavior = behavior_score(
            "number of demonstrations",
            "B(x) = the number of demonstrations in the prompt (and the template); feature: correct",
            [(it.data["template"], it.data["shots"]) for it in items],
            ok,
            self.config.seed,
        )
        plots = [
            Plot(f"icl-accuracy-{t}", f"Accuracy by number of demonstrations ({t})", "shots",
                 "demonstrations (shots)", "exact-match accuracy", by="task", where={"template": [t]},
                 names={"all": "all tasks"}, dashed=("all tasks",))
            for t in templates
        ]  # fmt: skip
        info: dict[str, Any] = {"curves": curves}
        tasks_seen = {c["task"] for c in curves}
        main = [r for r in rows if r.keys["template"] == templates[0]]
        main = [r for r in main if r.keys["task"] == ("all" if len(tasks_seen) > 1 else r.keys["task"])]
        if not main:
            verdict = "not measured: " + "; ".join(notes)
            return Finding(
                self.name, "accuracy", share(0, 0), verdict, rows, KEYS, plots, behavior, notes, info=info
            )
        # The headline: the most shots that most queries fit in (a long prompt may exceed the context).
        full = max(r.values["rate"].n for r in main)
        first, last = main[0], [r for r in main if 2 * r.values["rate"].n >= full][-1]
        where = f"{len(tasks_seen)} tasks pooled" if len(tasks_seen) > 1 else next(iter(tasks_seen))
        verdict = (
            f"accuracy {percent(first.values['rate'])} with {first.keys['shots']} and "
            f"{percent(last.values['rate'])} with {last.keys['shots']} demonstrations "
            f"({where}, {templates[0]})"
        )
        rising = [c for c in curves if c["rises_from"] is not None]
        verdict += "; rises significantly over 0 shots: " + (
            ", ".join(f"{c['task']} ({c['template']}) from {c['rises_from']}" for c in rising)
            if rising
            else "on no task"
        )
        label = f"accuracy at {last.keys['shots']} shots ({templates[0]})"
        return Finding(
            self.name, label, last.values["rate"], verdict, rows, KEYS, plots, behavior, notes, info=info
        )


KEYS = ["template", "task", "shots"]


def rises_from(rows: list[Row], template: str, task: str) -> int | None:
    """The first shot count whose accuracy beats the 0-shot accuracy significantly (the 95% Newcombe
    interval of the difference above zero); None when none does or 0 shots was not asked."""
    curve = [r for r in rows if r.keys["template"] == template and r.keys["task"] == task]
    zero: Estimate | None = next((r.values["rate"] for r in curve if r.keys["shots"] == 0), None)
    if zero is None:
        return None
    for r in curve:
        d = difference(r.values["rate"], zero)
        if r.keys["shots"] > 0 and d.ci_low is not None and d.ci_low > 0:
            return int(r.keys["shots"])
    return None
