"""Heads of a language model: scored on the LM hypotheses, the best confirmed by ablation.

Two probe sets, both seeded: repeated random token sequences (Olsson et al. 2022: `start + r + r`,
r drawn uniformly from the model's ordinary tokens; the second copy is the answer it is forced
to read) for previous-token, duplicate-token and induction heads, and few-shot copy prompts
(`Input: w1 w2 / Output: w1` demonstrations, then a query) for heads that attend to the answer.
Every head is scored as in interpret/scores.py (attention mass on the hypothesis's keys against
uniform attention). The top K heads of a hypothesis are then zero-ablated together, and so are
`n_random` draws of K other heads: the change in the mean log-prob of the answer tokens (and their
top-1 share) for the found heads next to the random draws' median and range.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.interpret._layout import Prepared
from behaviorlab.interpret.ablate import Component, head_components
from behaviorlab.interpret.lm_effects import Tick, ablate_answers
from behaviorlab.interpret.lm_hypotheses import KEYS, LM
from behaviorlab.interpret.prompts import prepare_prompts
from behaviorlab.interpret.scores import head_scores
from behaviorlab.lm.fewshot import few_shot_prompt
from behaviorlab.lm.white_box import ABLATE, Head, WhiteBox, split_ablation, white_box
from behaviorlab.stats import versus_random

COPY_WORDS = (
    "apple", "river", "stone", "cloud", "garden", "window", "silver", "paper", "candle", "forest",
    "ocean", "pencil", "mirror", "basket", "rabbit", "ladder", "island", "planet", "button", "jacket",
)  # fmt: skip


def repeated_tokens(box: WhiteBox, n: int = 8, half: int = 24, seed: int = 0) -> Prepared:
    """n prompts `start + r` answered with `r` again (r: `half` random ordinary tokens)."""
    rng = random.Random(seed)
    pool = box.plain_ids()
    if len(pool) < 2:
        raise BadInput(f"{box.spec}: fewer than two ordinary tokens to draw random sequences from")
    start = box.start_ids()
    # Without repeats inside r where the vocabulary allows (then an earlier copy is unambiguous).
    seqs = [rng.sample(pool, half) if len(pool) >= 4 * half else rng.choices(pool, k=half) for _ in range(n)]
    return prepare_prompts(box, [""] * n, prompt_ids=[start + r for r in seqs], answers=seqs, references=None)


def copy_prompts(
    box: WhiteBox, n: int = 8, shots: int = 3, seed: int = 0, new_tokens: int = 4
) -> Prepared | None:
    """Few-shot prompts whose answer is the first of two words, with the model's greedy answer
    forced; fewer shots where the context is short, None when not even one fits."""
    rng = random.Random(seed)

    def pair() -> tuple[str, str]:
        a, b = rng.sample(COPY_WORDS, 2)
        return f"{a} {b}", a

    items = [([pair() for _ in range(shots)], pair()) for _ in range(n)]
    room = (box.text.context_length or 10**9) - new_tokens
    for k in range(shots, 0, -1):
        prompts = [few_shot_prompt(demos[:k], query) for demos, (query, _) in items]
        if max(len(box.prompt_ids(p)) for p in prompts) <= room:
            refs = [ref for _, (_, ref) in items]
            return prepare_prompts(box, prompts, new_tokens=new_tokens, references=refs)
    return None


def score_heads(box: WhiteBox, *, n: int = 8, half: int = 24, seed: int = 0) -> list[dict[str, Any]]:
    """Every head against the LM hypotheses (repeated tokens; few-shot copy prompts for copy)."""
    repeated = repeated_tokens(box, n, half, seed)
    rows = head_scores(box.model, repeated, LM[:3], batch_size=8)
    copy = copy_prompts(box, n, seed=seed) if box.text.alphabet is None else None
    if copy is not None:  # open-text models whose context holds a few-shot prompt
        rows += head_scores(box.model, copy, LM[3:], batch_size=8)
    return rows


def top_heads(rows: Sequence[dict[str, Any]], key: str, k: int) -> list[Head]:
    """The k best-scoring heads for a hypothesis named by its short key (induction, copy, ...)."""
    if key not in KEYS:
        raise BadInput(f"top:{key}: unknown hypothesis; use one of {', '.join(KEYS)}")
    name = KEYS[key].name
    ranked = sorted((r for r in rows if r["hypothesis"] == name), key=lambda r: -r["score"])[:k]
    stack = {"encoder": "enc", "decoder": "dec", "cross": "dec"}
    return [Head(stack[r["kind"]], int(r["layer"]), int(r["head"]), r["kind"] == "cross") for r in ranked]


def components_of(heads: Sequence[Head]) -> list[Component]:
    """Ablation components (per-head output slices) of heads."""
    return [Component(h.z_hook, head=h.head) for h in heads]


def head_label(c: Component) -> str:
    """`dec.3.h5` for the component of a head's output slice."""
    stack, layer, attn = c.hook.split(".")[:3]
    return f"{stack}.{layer}.{'cross.' if attn == 'cross_attn' else ''}h{c.head}"


def confirm(
    box: WhiteBox,
    heads: Sequence[Head],
    prep: Prepared,
    *,
    n_random: int = 3,
    seed: int = 0,
    new_tokens: int = 4,
    tick: Tick | None = None,
) -> dict[str, Any]:
    """The found heads ablated together vs `n_random` draws of as many other heads."""
    found = components_of(heads)
    pool = [c for c in head_components(box.model) if c not in found]
    rng = random.Random(seed)
    draws = [rng.sample(pool, min(len(found), len(pool))) for _ in range(n_random)] if found else []
    rows = ablate_answers(box, prep, [found, *draws], new_tokens=new_tokens, tick=tick)
    rand = [r["delta_logprob"] for r in rows[1:]]
    out: dict[str, Any] = {
        "heads": [h.label for h in heads],
        "found": rows[0],
        "random": [{**r, "heads": [head_label(c) for c in d]} for r, d in zip(rows[1:], draws, strict=True)],
        "n_random": len(rand),
    }
    if rand:
        out["random_delta_median"] = statistics.median(rand)
        out["random_delta_range"] = [min(rand), max(rand)]
        # A drop is minus the change: how many random draws lower the answer's log-prob as much.
        vs = versus_random(-rows[0]["delta_logprob"], [-d for d in rand])
        out["random_at_least"], out["p_value"] = vs.at_least, vs.p_value
    return out


def resolve_ablation(spec: str, request: str | None, *, seed: int = 0) -> str:
    """The spec with explicit heads: `top:induction:4` is scored on this model and written out as
    `dec.L.hH,...` (what records keep, so a replay ablates the same heads without rescoring)."""
    if not request:
        return spec
    base, earlier = split_ablation(spec)
    if earlier is not None:
        raise BadInput(f"{spec}: already names heads to ablate; give either #ablate= or --ablate")
    if not request.startswith("top:"):
        return f"{base}{ABLATE}{request}"
    parts = request.split(":")
    if len(parts) != 3 or not parts[2].isdigit() or int(parts[2]) < 1:
        raise BadInput(f"--ablate {request!r}: write top:HYPOTHESIS:K (e.g. top:induction:4)")
    if parts[1] not in KEYS:  # before loading anything
        raise BadInput(f"--ablate {request!r}: unknown hypothesis {parts[1]!r}; use one of {', '.join(KEYS)}")
    from behaviorlab.lm import load

    box = white_box(load(base))
    heads = top_heads(score_heads(box, seed=seed), parts[1], int(parts[2]))
    if not heads:
        raise BadInput(f"--ablate {request!r}: {box.spec} has no heads scored on {parts[1]}")
    return f"{base}{ABLATE}{','.join(h.label for h in heads)}"
