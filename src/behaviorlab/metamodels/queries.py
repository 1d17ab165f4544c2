"""The inputs `explain` puts to a black box beyond the recorded ones, drawn before any is asked: so
a caller can count them, ask them all in one sorted, batched pass, and say how long it will take."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from behaviorlab.behaviors.distributions import mechanistic
from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.errors import BadInput

# The mechanistic (gibberish) sample explain scores MI on, unless told otherwise.
MECHANISTIC = 200


def extra_inputs(
    task: Any,
    fit_inputs: Sequence[str],
    n: int,
    seed: int,
    draw: Callable[[int, int], list[str]] | None = None,
) -> list[str]:
    """`n` more inputs to fit on: `draw(n, seed')`, or by default the fitting set's size range with
    edge cases oversampled (rare inputs, long carry runs, are where shortcuts part)."""
    if n <= 0:
        return []
    if draw is not None:
        return draw(n, seed + 7919)
    size_of = getattr(task, "size_of", None)
    ranges: dict[str, Any] = {"edge_fraction": 0.25}
    try:
        sizes = [size_of(x) for x in fit_inputs] if size_of is not None else []
    except BadInput:  # non-canonical fitting inputs have no size
        sizes = []
    if sizes:
        ranges.update(min_size=min(sizes), max_size=max(sizes))
    try:
        return [ex.input for ex in task.sample(n, seed + 7919, **ranges)]
    except (TypeError, BadInput):  # a sampler without these options
        return [ex.input for ex in task.sample(n, seed + 7919)]


def mechanistic_inputs(task: Any, asked: Sequence[str], n: int, seed: int) -> list[str]:
    """`n` strings uniform over the grammar's token strings, as long as the inputs `asked`."""
    if n <= 0 or not asked:
        return []
    lengths = [len(tokenize(x)) for x in asked]
    return mechanistic(task, n, seed, min_len=min(lengths), max_len=max(lengths))


def planned_queries(
    task: Any,
    fit_inputs: Sequence[str],
    *,
    extra_fit: int,
    seed: int,
    draw: Callable[[int, int], list[str]] | None = None,
    mechanistic_n: int = MECHANISTIC,
) -> tuple[list[str], list[str]]:
    """(the 2·`extra_fit` extra fitting inputs, the mechanistic sample) `explain` will ask of a
    model when given these fitting inputs and settings — the same draws, in the same order."""
    extra = extra_inputs(task, fit_inputs, 2 * extra_fit, seed, draw)
    return extra, mechanistic_inputs(task, [*fit_inputs, *extra], mechanistic_n, seed)
