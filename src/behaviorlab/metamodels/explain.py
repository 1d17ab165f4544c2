"""`explain`: find the shortcut program that best predicts a model; test it on held-out inputs."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from behaviorlab.behaviors.estimators import mdl_score, mutual_information
from behaviorlab.errors import BadInput
from behaviorlab.lm.base import TextModel, texts
from behaviorlab.metamodels.batch import Batch
from behaviorlab.metamodels.context import View
from behaviorlab.metamodels.exception_rules import fit_exceptions
from behaviorlab.metamodels.families import family_for, reference_name
from behaviorlab.metamodels.induce import induce
from behaviorlab.metamodels.program import EXCEPTIONS_SUFFIX, Program
from behaviorlab.metamodels.queries import MECHANISTIC, planned_queries
from behaviorlab.metamodels.result import ExplainResult, degenerate
from behaviorlab.metamodels.risk import explain_risk
from behaviorlab.metamodels.scoring import Candidate, failure_stats, score
from behaviorlab.metamodels.tree_exceptions import fit_tree_exceptions
from behaviorlab.metamodels.tree_program import TreeProgram


class TaskLike(Protocol):
    """What explain needs from a task (see behaviorlab.tasks)."""

    key: str
    vocab: Any  # .tokens: special tokens first, then the grammar tokens

    def solve(self, text: str) -> str: ...

    def sample(self, n: int, seed: int, **ranges: Any) -> Sequence[Any]: ...


def _oracle(task: TaskLike) -> Callable[[str], str]:
    def solve(text: str) -> str:
        return task.solve(text)

    return solve


def _reference(task: TaskLike, x: str) -> str | None:
    try:
        return task.solve(x)
    except BadInput:
        return None


def ask(model: TextModel, inputs: Sequence[str]) -> list[str]:
    """The model's greedy outputs, with room for twice the longest input (in its tokens) plus 4;
    each distinct input is asked once (draws of short inputs repeat a lot)."""
    if not inputs:
        return []
    distinct = list(dict.fromkeys(inputs))
    budget = 2 * max(len(model.tokenize(x)) for x in distinct) + 4
    got = dict(zip(distinct, texts(model, distinct, budget), strict=True))
    return [got[x] for x in inputs]


def _inputs(p: Program | TreeProgram, inputs: Sequence[str], plain: Batch) -> Batch:
    """The batch a program runs on: with the reference outputs when it needs them."""
    return p.batch(inputs, plain.vocab) if p.uses_reference() else plain


def _views(lengths: Sequence[int]) -> list[View]:
    """Windows `x[:head] + x[-tail:]` that change some input of these lengths."""
    longest = max(lengths, default=0)
    return [(h, t) for t in (0, 1) for h in range(2, longest - t)]


def search(
    task: TaskLike,
    fit: Sequence[tuple[str, str]],
    learn: Sequence[tuple[str, str]],
    *,
    alpha: float = 1.0,
    screen: int = 64,
    keep_top: int = 12,
    view_bases: int = 1,
    induce_limit: int = 600,
) -> list[Candidate]:
    """Family members (also on windowed views), a decision list induced on `learn`, and the best
    of them patched with exceptions learned on `learn`; scored on `fit`, best MDL first."""
    fit_x, fit_m = [x for x, _ in fit], [m for _, m in fit]
    plain = Batch.of_texts(fit_x)
    family = family_for(task.key, _oracle(task))
    if family and isinstance(family[0], TreeProgram):
        trees = [p for p in family if isinstance(p, TreeProgram)]
        return _search_trees(trees, plain, fit_m, learn, alpha, reference_name(task.key))
    views = _views(plain.n.tolist()) if task.key.startswith("binary-successor") else []
    # Two-part code over the hypothesis class "family (× views) ∪ anything": one flag bit, then
    # a family member by its index (the family is fixed in advance from the study) and its view
    # by index, or a program spelled out in full. Equally good fits thus go to named shortcuts.
    member = 1.0 + math.log2(len(family))
    code = {p.name: member for p in family}
    m = min(len(fit_x), screen)
    head_x, head_m, head = fit_x[:m], fit_m[:m], plain.head(m)  # one list and batch: cached

    def screened(progs: Sequence[Program]) -> list[Program]:
        # Family members that miss on `screen` examples cannot win on the whole set.
        return sorted(
            progs, key=lambda p: score(p, _inputs(p, head_x, head), head_m, alpha, code[p.name]).mdl
        )

    ranked = screened([p for p in family if isinstance(p, Program)])
    ref = reference_name(task.key)
    # Views multiply the family; try them on the best few members (and the reference) only.
    bases = ranked[:view_bases] + [p for p in ranked[view_bases:] if p.name == ref]
    viewed = [p.with_view(v, f"{p.name}@{v[0]}+{v[1]}") for p in bases for v in views]
    code.update({p.name: member + math.log2(len(views)) for p in viewed})
    ranked = screened(ranked + viewed)
    keep = ranked[:keep_top] + [p for p in ranked[keep_top:] if p.name == ref]
    scored = [score(p, _inputs(p, fit_x, plain), fit_m, alpha, code[p.name]) for p in keep]
    learn_batch = Batch.of_texts([x for x, _ in learn])
    learn_m = [m for _, m in learn]
    # Induction from scratch is quadratic in rows; the exceptions search scales and wants them all.
    made = [induce(learn_batch.head(induce_limit), learn_m[:induce_limit], name=f"induced/{task.key}")]
    best = min(scored, key=lambda c: (c.mdl, c.size_bits)).program
    if isinstance(best, Program) and not best.uses_reference() and learn:
        made.append(fit_exceptions(best, learn_batch, learn_m))
    scored += [score(p, plain, fit_m, alpha, 1.0 + p.size_bits) for p in made]
    first = min(scored, key=lambda c: (c.mdl, c.size_bits))
    if first.program is made[0] and learn:
        # No family member explains the model as well as a decision list learned from scratch
        # (models with sinusoidal positions, say): patch the slips of that list instead.
        patched = fit_exceptions(made[0], learn_batch, learn_m)
        if patched.exceptions:
            scored.append(score(patched, plain, fit_m, alpha, 1.0 + patched.size_bits))
    return sorted(scored, key=lambda c: (c.mdl, c.size_bits))


def _search_trees(
    family: list[TreeProgram],
    plain: Batch,
    fit_m: list[str],
    learn: Sequence[tuple[str, str]],
    alpha: float,
    ref: str,
    bases_patched: int = 3,
) -> list[Candidate]:
    """Tree family members scored on the fitting set, and the best patched with term-level
    exceptions learned on `learn`; best MDL first."""
    member = 1.0 + math.log2(len(family))
    scored = sorted(
        (score(p, plain, fit_m, alpha, member) for p in family), key=lambda c: (c.mdl, c.size_bits)
    )
    if learn:
        learn_batch = Batch.of_texts([x for x, _ in learn])
        learn_m = [m for _, m in learn]
        # A shortcut that cuts the output hides slips past the cut: patch the best few members
        # and the reference, and let MDL choose among the patched programs.
        bases = scored[:bases_patched] + [c for c in scored[bases_patched:] if c.program.name == ref]
        for c in bases:
            assert isinstance(c.program, TreeProgram)
            patched = fit_tree_exceptions(c.program, learn_batch, learn_m)
            if patched.exceptions:
                scored.append(score(patched, plain, fit_m, alpha, 1.0 + patched.size_bits))
    return sorted(scored, key=lambda c: (c.mdl, c.size_bits))


def explain(
    task: TaskLike,
    fit: Sequence[tuple[str, str]],
    heldout: Sequence[tuple[str, str]],
    *,
    alpha: float = 1.0,
    seed: int = 0,
    model: TextModel | None = None,
    extra_fit: int = 150,
    draw: Callable[[int, int], list[str]] | None = None,
    top: int = 8,
    max_induce_examples: int = 400,
    mechanistic_n: int = MECHANISTIC,
) -> ExplainResult:
    """Select the program that best compresses the model's outputs on `fit` (MDL), then measure
    agreement, failure prediction and MI on `heldout` ((input, model output) pairs).

    With a `model` (the black box that wrote the outputs), 2·`extra_fit` more inputs are put to it:
    `draw(n, seed)` gives them (by default: the fitting set's size range, edge cases oversampled),
    and `mechanistic_n` gibberish strings for the mechanistic MI (`queries.planned_queries`)."""
    if not fit or not heldout:
        raise BadInput("explain needs at least one fitting and one held-out (input, output) pair")
    given = list(fit)
    extra: list[tuple[str, str]] = []
    gib: list[str] = []
    if model is not None:
        xs, gib = planned_queries(
            task,
            [x for x, _ in given],
            extra_fit=extra_fit,
            seed=seed,
            draw=draw,
            mechanistic_n=mechanistic_n,
        )
        extra = list(zip(xs, ask(model, xs), strict=True))
    # Half the extra queries feed the induction, half only the MDL score: a check on fresh
    # inputs against rules that fit their own data by luck.
    scored = search(task, given + extra, given[:max_induce_examples] + extra[:extra_fit], alpha=alpha)
    best = scored[0]
    program = best.program

    held_x, held_m = [x for x, _ in heldout], [m for _, m in heldout]
    refs = [_reference(task, x) for x in held_x]
    held = Batch.of_texts(held_x)
    prog_out = program.outputs(_inputs(program, held_x, held))
    stats = failure_stats(held_m, prog_out, refs)
    # Whole output strings are nearly all distinct, so this MI saturates near log2(n); the
    # failure indicators below carry the part that matters and estimate well.
    mi = mutual_information(held_m, prog_out, seed=seed)
    known = [(m != r, p != r) for m, p, r in zip(held_m, prog_out, refs, strict=True) if r is not None]
    fail_mi = mutual_information([a for a, _ in known], [b for _, b in known], seed=seed)

    mech = None
    if model is not None and gib:
        mech = mutual_information(ask(model, gib), program.run_many(gib), seed=seed)

    outs: dict[str, list[str]] = {program.name: prog_out}

    def held_out(p: Program | TreeProgram) -> list[str]:
        if p.name not in outs:
            outs[p.name] = p.outputs(_inputs(p, held_x, held))
        return outs[p.name]

    table = []
    for c in scored[:top]:
        agree = sum(a == m for a, m in zip(held_out(c.program), held_m, strict=True))
        table.append(
            {
                "name": c.program.name,
                "size_bits": c.size_bits,
                "code_bits": c.code_bits,
                "fit_agreement": c.fit_agreement,
                "cond_entropy_bits": c.cond_entropy_bits,
                "mdl": c.mdl,
                "heldout_agreement": agree / len(held_m),
            }
        )
    # Name the selected program by the smallest family member that behaves identically on
    # held-out inputs; only members that fit as well as it did can qualify.
    family = sorted(
        (
            c.program
            for c in scored
            if not c.program.name.startswith("induced/")
            and not c.program.name.endswith(EXCEPTIONS_SUFFIX)
            and c.fit_agreement >= best.fit_agreement
        ),
        key=lambda p: p.size_bits,
    )
    match = next((p.name for p in family if held_out(p) == prog_out), None)
    ref_prog = next(c.program for c in scored if c.program.name == reference_name(task.key))
    fit_all = given + extra
    risk = explain_risk(
        program,
        ([x for x, _ in fit_all], [m for _, m in fit_all], [_reference(task, x) for x, _ in fit_all]),
        (held_x, held_m, refs),
    )
    matches_ref = held_out(ref_prog) == prog_out
    agreement = stats.agreement if stats.agreement is not None else 0.0  # held-out is never empty
    return ExplainResult(
        task_key=task.key,
        program=program,
        metamodel_size=program.size_bits,
        metamodel_agreement=agreement,
        failure_prediction_rate=stats.failure_prediction_rate,
        failure_precision=stats.failure_precision,
        failure_prediction_ci=None
        if stats.predicted.estimate is None
        else (float(stats.predicted.ci_low or 0.0), float(stats.predicted.ci_high or 0.0)),
        n_failures=stats.n_failures,
        n_predicted_failures=stats.n_predicted,
        n_heldout=stats.n,
        mutual_information=mi,
        mdl=mdl_score(best.code_bits, best.residual_bits, alpha),
        alpha=alpha,
        candidates=table,
        family_match=match,
        matches_reference=matches_ref,
        failure_information=fail_mi,
        mutual_information_mechanistic=mech,
        heldout_inputs=held_x,
        risk_model=risk,
        unexplained=degenerate(agreement, table),
    )
