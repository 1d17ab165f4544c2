"""Queries put to the teacher: held-out evaluation queries, local or broad imitation queries
sampled from the skills, or queries grown from a few seeds by asking the teacher for similar ones."""

from __future__ import annotations

import random
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from behaviorlab.errors import BadInput
from behaviorlab.imitation.skills import Family
from behaviorlab.lm.base import Decoding, TextModel
from behaviorlab.tasks.dataset import derive_seed

MAX_DRAWS = 50  # rounds of drawing (or growing) before giving up on more distinct queries


@dataclass(frozen=True)
class Query:
    """One query: its text, the skill and canonical task input it asks about, the reference answer."""

    text: str
    skill: str
    x: str
    valid: bool
    reference: str | None  # the exact answer (None for an invalid query)


def make_query(fam: Family, text: str) -> Query | None:
    """A query read back from its text (None when it is in no format the family knows)."""
    found = fam.split(text)
    if found is None:
        return None
    skill, x = found
    valid = skill.valid(x)
    try:
        reference = skill.task.solve(x) if valid else None
    except BadInput:  # parses but has no answer (1 has no predecessor)
        valid, reference = False, None
    return Query(skill.query(x) if valid else text.strip(), skill.name, x, valid, reference)


def _distinct(batches: Iterable[list[Query]], n: int, exclude: AbstractSet[str], what: str) -> list[Query]:
    out: dict[str, Query] = {}
    for batch in batches:
        for q in batch:
            if q.text not in exclude and q.text not in out and len(out) < n:
                out[q.text] = q
        if len(out) >= n:
            return list(out.values())
    raise BadInput(
        f"{what}: only {len(out)} distinct queries of {n} asked for; ask for fewer or widen the sizes"
    )


def _draws(fam: Family, skill: str, n: int, seed: int, invalid: bool) -> Iterable[list[Query]]:
    sk = fam.skills[skill]
    for r in range(MAX_DRAWS):
        rng = random.Random(derive_seed(seed, skill, invalid, r))
        xs = [sk.invalid(rng) for _ in range(n)] if invalid else sk.inputs(n, rng.randrange(2**31))
        yield [q for x in xs if (q := make_query(fam, sk.query(x))) is not None and q.valid != invalid]


def sample(
    fam: Family,
    skills: list[str],
    n: int,
    invalid_fraction: float,
    seed: int,
    exclude: AbstractSet[str] = frozenset(),
) -> list[Query]:
    """`n` distinct queries: valid ones spread evenly over `skills`, a share of invalid ones."""
    n_invalid = round(n * invalid_fraction)
    counts = [
        (n - n_invalid) // len(skills) + (k < (n - n_invalid) % len(skills)) for k in range(len(skills))
    ]
    out: list[Query] = []
    for k, (skill, count) in enumerate(zip(skills, counts, strict=True)):
        out += _distinct(_draws(fam, skill, count, derive_seed(seed, k), False), count, exclude, skill)
    for k, skill in enumerate(skills):
        count = n_invalid // len(skills) + (k < n_invalid % len(skills))
        draws = _draws(fam, skill, count, derive_seed(seed, "invalid", k), True)
        out += _distinct(draws, count, exclude | {q.text for q in out}, f"{skill} (invalid)")
    random.Random(seed).shuffle(out)
    return out


def grow(
    fam: Family,
    teacher: TextModel,
    seeds: list[Query],
    n: int,
    *,
    prompt: str,
    max_new_tokens: int,
    chat: bool,
    seed: int,
    exclude: AbstractSet[str] = frozenset(),
) -> list[Query]:
    """Self-instruct: ask the teacher (sampled) for queries similar to ones already in the pool,
    keep the new distinct ones it writes in a known format, until `n` or no more come."""
    pool = {q.text: q for q in seeds if q.text not in exclude}
    rng = random.Random(seed)
    for r in range(MAX_DRAWS):
        if len(pool) >= n:
            break
        asked = rng.choices(list(pool.values()), k=min(256, 2 * (n - len(pool)) + 8))
        outs = teacher.generate(
            [prompt.format(query=q.text) for q in asked],
            max_new_tokens,
            decoding=Decoding(greedy=False, temperature=1.0, seed=derive_seed(seed, "grow", r)),
            chat=chat,
        )
        for c in outs:
            q = make_query(fam, c.text.strip())
            if q is not None and q.text not in pool and q.text not in exclude and len(pool) < n:
                pool[q.text] = q
    return list(pool.values())
