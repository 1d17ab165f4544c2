"""Explain any text model on a task: ask it few-shot, parse its answers, and run the same shortcut
search on them — the shortcut program a pretrained LM uses for binary successor, with the share
of its failures that program predicts on fresh inputs.

Every input the explanation needs is drawn before any is asked (`n` inputs, 2·`queries` more to
fit on, `n` gibberish strings for the mechanistic MI, `check` fresh ones), so their number is known
up front; a short timed warm-up turns it into an estimate; the distinct ones are asked in one pass
(shortest first, batched, the demonstrations read once) and the search reads the kept answers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.lm.base import TextModel
from behaviorlab.lm.fewshot import FewShotModel
from behaviorlab.metamodels.budget import check_explain
from behaviorlab.metamodels.explain import ExplainResult, ask, explain
from behaviorlab.metamodels.on_run import check_numbers
from behaviorlab.metamodels.queries import planned_queries
from behaviorlab.tasks import Task, get
from behaviorlab.tasks.dataset import derive_seed
from behaviorlab.validate import check_int

# Model tokens allowed beyond the task's longest answer: room for a slightly longer wrong answer.
MARGIN = 4
# Queries timed for the estimate (real ones: their answers are kept).
WARMUP = 16


def model_task(name: str, order: str | None = None, steps: str | None = None) -> Task:
    """The task as a pretrained model reads it: binary successor in its natural order (plain
    0/1 digits) unless another order is named."""
    if name == "binary-successor" and order is None:
        order = "natural"
    return get(name, order=order, steps=steps)


def canonical_for(task: Task) -> Callable[[str], str]:
    """Spell an answer the task's way when it can: its tokens glued canonically, or its characters
    read as tokens (`1011` -> `1 0 1 1`); anything else is kept as the model wrote it."""

    def canon(text: str) -> str:
        for attempt in (text, " ".join(text.replace(" ", ""))):
            try:
                return task.vocab.detokenize(task.vocab.tokenize(attempt))
            except BadInput:
                continue
        return text

    return canon


def answer_budget(model: TextModel, task: Task) -> Callable[[str], int]:
    """Model tokens for the answer to a query: the task's longest answer, each task token counted
    as the most model tokens any grammar token takes after a space, plus `MARGIN`."""
    per_token = max(len(model.tokenize(" " + t)) for t in task.grammar_tokens())
    return lambda query: per_token * task.answer_bound(query) + MARGIN


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


@dataclass
class QueryPlan:
    """What explain will ask the model: inputs per purpose, how many distinct, how long."""

    model: str
    counts: dict[str, int]  # purpose -> inputs (repeats included)
    distinct: int  # model queries: a repeated input is asked once
    warmed: int = 0  # queries already asked (the warm-up)
    seconds_per_query: float | None = None  # measured on the warm-up

    @property
    def estimate_seconds(self) -> float | None:
        """Time left for the queries after the warm-up, at the warm-up's pace."""
        spq = self.seconds_per_query
        return None if spq is None else spq * (self.distinct - self.warmed)

    def line(self) -> str:
        """One line for the user, before the long part starts."""
        parts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        head = f"asking {self.model}: {sum(self.counts.values())} inputs ({parts}), {self.distinct} distinct"
        est = self.estimate_seconds
        if est is None:
            return f"{head}; timing a warm-up of {min(WARMUP, self.distinct)} …"
        return (
            f"{head}; warm-up {self.seconds_per_query:.2f} s per query: "
            f"about {_duration(est)} for the other {self.distinct - self.warmed}"
        )


class PartialAnswers(BadInput):
    """Ctrl-C while the model was being asked: what had been answered; nothing was searched."""

    def __init__(self, plan: QueryPlan, asked: int, seconds: float, answered: int, correct: int) -> None:
        self.plan, self.asked, self.seconds, self.answered, self.correct = (
            plan,
            asked,
            seconds,
            answered,
            correct,
        )
        acc = f"{correct / answered:.1%} of {answered} inputs" if answered else "no input"
        super().__init__(
            f"interrupted after {asked} of {plan.distinct} model queries ({_duration(seconds)}): "
            f"partial exact match {acc} answered so far; no program was searched, nothing was written"
        )

    def to_json(self) -> dict[str, Any]:
        """The partial result as data, marked interrupted."""
        return {
            "status": "interrupted",
            "model": self.plan.model,
            "queries_planned": self.plan.distinct,
            "queries_asked": self.asked,
            "seconds": self.seconds,
            "answered": self.answered,
            "accuracy_so_far": self.correct / self.answered if self.answered else None,
        }


def check_model_sizes(
    name: str, *, shots: int, n: int, queries: int, check: int, alpha: float, seed: int
) -> None:
    """Refuse numbers `explain_model` cannot use, and more inputs than fit this machine: before
    the model is even loaded (the CLI calls this first)."""
    if shots < 0 or n < 4:
        raise BadInput(f"explain --model needs shots >= 0 and at least 4 inputs; got shots={shots}, n={n}")
    for what, value in (("queries", queries), ("check", check)):
        check_int(f"--{what}", value, 0)
    # Every input is asked with `shots` demonstrations in front of it.
    inputs = (n + 2 * queries + check) * (1 + shots)
    check_explain(f"explain --model {name}", inputs=inputs, alpha=alpha, seed=seed)


def explain_model(
    model: TextModel,
    task: Task,
    *,
    shots: int = 8,
    n: int = 200,
    queries: int = 200,
    check: int = 200,
    min_size: int = 1,
    max_size: int = 8,
    alpha: float = 1.0,
    seed: int = 0,
    on_plan: Callable[[QueryPlan], None] | None = None,
    on_asked: Callable[[int], None] | None = None,
) -> tuple[ExplainResult, dict[str, Any]]:
    """(the explanation, facts: the demonstrations, the model's exact-match accuracy, sizes).

    `on_plan` hears the plan before the warm-up and again with its estimate; `on_asked(k)` hears
    of every k queries answered. Ctrl-C while asking raises `PartialAnswers`."""
    check_model_sizes(model.name, shots=shots, n=n, queries=queries, check=check, alpha=alpha, seed=seed)
    demos = [
        (e.input, e.output)
        for e in task.sample(shots, derive_seed(seed, "demos"), min_size=min_size, max_size=max_size)
    ]
    few = FewShotModel(
        model, demos, canonical_for(task), budget=answer_budget(model, task), on_asked=on_asked
    )
    shown = {x for x, _ in demos}

    def draw(k: int, s: int) -> list[str]:
        # Edge cases oversampled, as for our runs: rare inputs are where shortcuts part.
        drawn = task.sample(k, s, min_size=min_size, max_size=max_size, edge_fraction=0.25)
        return [e.input for e in drawn if e.input not in shown]

    xs = draw(n, derive_seed(seed, "inputs"))
    order = list(range(len(xs)))
    random.Random(seed).shuffle(order)  # the permutation the rows get below: fit inputs known now
    half = len(xs) // 2
    extra, gib = planned_queries(
        task, [xs[i] for i in order[:half]], extra_fit=queries, seed=seed, draw=draw, mechanistic_n=n
    )
    fresh = draw(check, derive_seed(seed, "fresh-check")) if check > 0 else []
    plan = {"n": xs, "queries": extra, "mechanistic": gib, "check": fresh}
    _ask_all(few, task, model.name, plan, on_plan)

    rows = list(zip(xs, ask(few, xs), strict=True))  # from here on, kept answers are read back
    random.Random(seed).shuffle(rows)
    solver: Any = task
    result = explain(
        solver,
        rows[:half],
        rows[half:],
        alpha=alpha,
        seed=seed,
        model=few,
        extra_fit=queries,
        draw=draw,
        mechanistic_n=n,
    )
    if fresh:
        refs = [task.solve(x) for x in fresh]
        result.fresh_check = {"all": check_numbers(ask(few, fresh), result.program.run_many(fresh), refs)}
    correct = sum(out == task.solve(x) for x, out in rows)
    facts = {
        "model": model.spec,
        "task": task.key,
        "shots": shots,
        "demonstrations": demos,
        "sizes": [min_size, max_size],
        "accuracy": correct / len(rows),
        "n": len(rows),
        "model_queries": len(few.kept),
    }
    return result, facts


def _ask_all(
    few: FewShotModel,
    task: Task,
    name: str,
    inputs: dict[str, list[str]],
    on_plan: Callable[[QueryPlan], None] | None,
) -> None:
    """Every distinct input asked once: a timed warm-up, then the rest (`PartialAnswers` on Ctrl-C)."""
    distinct = list(dict.fromkeys(x for xs in inputs.values() for x in xs))
    plan = QueryPlan(name, {k: len(v) for k, v in inputs.items() if v}, len(distinct))
    say = on_plan or (lambda p: None)
    say(plan)
    start = time.perf_counter()
    try:
        # Middle-length queries, one batch of one budget (mostly): a pace like the whole pass's.
        ranked = sorted(distinct, key=lambda x: (few.budget_of(x), len(x)))
        mid = max(0, len(ranked) // 2 - WARMUP // 2)
        warm = ranked[mid : mid + WARMUP]
        ask(few, warm)
        plan.warmed = len(few.kept)
        plan.seconds_per_query = (time.perf_counter() - start) / max(1, plan.warmed)
        say(plan)
        ask(few, distinct)
    except KeyboardInterrupt:
        answers = {k[0]: c.text for k, c in few.kept.items()}
        known = [(x, answers[x]) for x in inputs["n"] if x in answers]
        correct = sum(a == task.solve(x) for x, a in known)
        raise PartialAnswers(plan, len(few.kept), time.perf_counter() - start, len(known), correct) from None
