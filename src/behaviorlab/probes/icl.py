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
Closed vocabularies: demonstrations are the run's own task pairs concatenated as token sequences
(`x1 y1 x2 y2 … xq`), which such a model never saw in training — the numbers say what comes out.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from pydantic import Field

from behaviorlab import tasks
from behaviorlab.behaviors import proportion_diff_ci
from behaviorlab.lm import TextModel
from behaviorlab.lm.fewshot import few_shot_prompt, parse_answer
from behaviorlab.probes.base import (
    Item,
    ModelFacts,
    Probe,
    ProbeConfig,
    Recorder,
    behavior_score,
    ci,
    figure,
    fit_context,
    rate,
    result,
    rng_for,
    series,
)
from behaviorlab.probes.content import WORDS
from behaviorlab.probes.text import normalize_ws

Pair = tuple[str, str]


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
    """Queries per (task, shots), the shot counts, and the answer budget."""

    n: int = Field(4, ge=1)
    shots: tuple[int, ...] = (0, 1, 2, 4, 8, 16)
    tasks: tuple[str, ...] = tuple(OPEN_TASKS)
    max_new_tokens: int = Field(16, ge=1)
    closed_max_size: int = Field(3, ge=1)  # closed demonstrations: small task sizes, so shots fit
    both_templates: bool = True  # chat models: also ask every prompt as plain text


class Icl(Probe[IclConfig]):
    name = "icl"
    title = "In-context learning"
    Config = IclConfig

    def _open_items(self, templates: tuple[str, ...]) -> list[Item]:
        cfg, items = self.config, []
        for task in cfg.tasks:
            draw = OPEN_TASKS[task]
            rng = rng_for(cfg.seed, self.name, task)
            for i in range(cfg.n):
                pool = draw(rng, max(cfg.shots) + 1)
                query, demos = pool[0], pool[1:]
                for k in cfg.shots:
                    prompt = few_shot_prompt(demos[:k], query[0], gap="\n\n")
                    for t in templates:  # the same prompts in each template
                        data = {"ref": query[1], "task": task, "shots": k, "template": t}
                        items.append(Item(f"{t}-{task}-{k}-{i}", prompt, (t, task, k), data))
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

    def run(self, model: TextModel, facts: ModelFacts, rec: Recorder) -> dict[str, Any]:
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
        comps: dict[str, str] = {}
        for t in templates:
            sent = [it for it in items if it.data["template"] == t]
            if sent:
                done = rec.generate(sent, cfg.max_new_tokens, stop=stop, chat=t == "chat")
                comps |= {it.id: c.text for it, c in zip(sent, done, strict=True)}
        got = [normalize_ws(comps[it.id]) if facts.closed else parse_answer(comps[it.id]) for it in items]
        ok = [g == normalize_ws(it.data["ref"]) for g, it in zip(got, items, strict=True)]
        return self._result(items, ok, templates, notes)

    def _result(
        self, items: list[Item], ok: list[bool], templates: tuple[str, ...], notes: list[str]
    ) -> dict[str, Any]:
        cfg = self.config
        table: list[dict[str, Any]] = []
        lines, curves = [], []
        pooled: dict[str, list[dict[str, Any]]] = {}
        for t in templates:
            for task in dict.fromkeys(it.data["task"] for it in items if it.data["template"] == t):
                rows = _rows(items, ok, cfg.shots, t, task)
                table += rows
                curves.append({"template": t, "task": task, "rises_from": rises_from(rows)})
                lines.append(series(f"{t} · {task}" if len(templates) > 1 else task, rows, "shots"))
            pooled[t] = _rows(items, ok, cfg.shots, t, None)
            if len({c["task"] for c in curves}) > 1:
                table += pooled[t]
                lines.append(series(f"{t} · all tasks", pooled[t], "shots") | {"dashed": True})
        figures = [
            figure(
                "icl-accuracy",
                "Accuracy by number of demonstrations",
                "demonstrations (shots)",
                "exact-match accuracy",
                lines,
                log_x=False,
            )
        ]
        behavior = behavior_score(
            "number of demonstrations",
            "B(x) = the number of demonstrations in the prompt (and the template); feature: correct",
            [(it.data["template"], it.data["shots"]) for it in items],
            ok,
            cfg.seed,
        )
        main = pooled.get(templates[0], [])
        if not main:
            verdict = "not measured: " + "; ".join(notes)
            headline = {"label": "accuracy", **rate(0, 0)}
        else:
            # The headline: the most shots that most queries fit in (a long prompt may exceed the context).
            full = max(r["n"] for r in main)
            first, last = main[0], [r for r in main if 2 * r["n"] >= full][-1]
            tasks = {c["task"] for c in curves}
            where = f"{len(tasks)} tasks pooled" if len(tasks) > 1 else next(iter(tasks))
            verdict = (
                f"accuracy {ci(first)} with {first['shots']} and {ci(last)} with {last['shots']} "
                f"demonstrations ({where}, {templates[0]})"
            )
            rising = [c for c in curves if c["rises_from"] is not None]
            verdict += "; rises significantly over 0 shots: " + (
                ", ".join(f"{c['task']} ({c['template']}) from {c['rises_from']}" for c in rising)
                if rising
                else "on no task"
            )
            headline = {
                "label": f"accuracy at {last['shots']} shots ({templates[0]})",
                **{k: last[k] for k in ("n", "k", "rate", "lo", "hi")},
            }
        return result(
            headline=headline,
            keys=["template", "task", "shots"],
            table=table,
            figures=figures,
            behavior=behavior,
            verdict=verdict,
            notes=notes,
            curves=curves,
        )


def _rows(
    items: list[Item], ok: list[bool], shots: tuple[int, ...], template: str, task: str | None
) -> list[dict[str, Any]]:
    """Accuracy per shot count for one template and task (None: every task pooled)."""
    rows = []
    for k in shots:
        idx = [
            j
            for j, it in enumerate(items)
            if it.data["template"] == template and it.data["shots"] == k and task in (None, it.data["task"])
        ]
        if idx:
            rows.append(
                {
                    "template": template,
                    "task": task or "all",
                    "shots": k,
                    **rate(sum(ok[j] for j in idx), len(idx)),
                }
            )
    return rows


def rises_from(rows: list[dict[str, Any]]) -> int | None:
    """The first shot count whose accuracy beats the 0-shot accuracy significantly (the 95% Newcombe
    interval of the difference above zero); None when none does or 0 shots was not asked."""
    zero = next((r for r in rows if r["shots"] == 0), None)
    if zero is None:
        return None
    for r in rows:
        if r["shots"] > 0 and proportion_diff_ci(r["k"], r["n"], zero["k"], zero["n"])[0] > 0:
            return int(r["shots"])
    return None
