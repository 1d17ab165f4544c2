"""Explain any text model on a task: ask it few-shot, parse its answers, and run the same shortcut
search on them — the shortcut program a pretrained LM uses for binary successor, with the share
of its failures that program predicts on fresh inputs."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.lm.base import TextModel
from behaviorlab.lm.fewshot import FewShotModel
from behaviorlab.metamodels.budget import check_explain
from behaviorlab.metamodels.explain import ExplainResult, ask, explain
from behaviorlab.metamodels.on_run import check_numbers
from behaviorlab.tasks import Task
from behaviorlab.tasks.dataset import derive_seed
from behaviorlab.validate import check_int


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
) -> tuple[ExplainResult, dict[str, Any]]:
    """(the explanation, facts: the demonstrations, the model's exact-match accuracy, sizes)."""
    if shots < 0 or n < 4:
        raise BadInput(f"explain --model needs shots >= 0 and at least 4 inputs; got shots={shots}, n={n}")
    for name, value in (("queries", queries), ("check", check)):
        check_int(f"--{name}", value, 0)
    # Every input is asked with `shots` demonstrations in front of it.
    inputs = (n + 2 * queries + check) * (1 + shots)
    check_explain(f"explain --model {model.name}", inputs=inputs, alpha=alpha, seed=seed)
    demos = [
        (e.input, e.output)
        for e in task.sample(shots, derive_seed(seed, "demos"), min_size=min_size, max_size=max_size)
    ]
    few = FewShotModel(model, demos, canonical_for(task))
    shown = {x for x, _ in demos}

    def draw(k: int, s: int) -> list[str]:
        # Edge cases oversampled, as for our runs: rare inputs are where shortcuts part.
        drawn = task.sample(k, s, min_size=min_size, max_size=max_size, edge_fraction=0.25)
        return [e.input for e in drawn if e.input not in shown]

    xs = draw(n, derive_seed(seed, "inputs"))
    rows = list(zip(xs, ask(few, xs), strict=True))
    random.Random(seed).shuffle(rows)
    half = len(rows) // 2
    solver: Any = task
    result = explain(
        solver, rows[:half], rows[half:], alpha=alpha, seed=seed, model=few, extra_fit=queries, draw=draw
    )
    if check > 0:
        fresh = draw(check, derive_seed(seed, "fresh-check"))
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
    }
    return result, facts
