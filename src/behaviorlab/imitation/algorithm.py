"""Does the student copy the teacher's algorithm? Both become black boxes from a skill's task
input to the content of their styled answer; the metamodel search explains each, and we compare
the programs and the teacher's failures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.imitation import style
from behaviorlab.imitation.metrics import share
from behaviorlab.imitation.skills import Family
from behaviorlab.lm.base import Decoding, TextModel
from behaviorlab.lm.function import BatchFunctionModel
from behaviorlab.metamodels import explain, from_json, same_shortcut


def content_model(
    fam: Family,
    skill: str,
    model: TextModel,
    max_new_tokens: int,
    chat: bool,
    prompt: Callable[[str], str] = str,
) -> TextModel:
    """`model` seen through one skill: a task input in, the content of its (greedy) answer out;
    `prompt` turns a query into what the model reads."""
    sk = fam.skills[skill]

    def predict(xs: list[str]) -> list[str]:
        prompts = [prompt(sk.query(x)) for x in xs]
        outs = model.generate(prompts, max_new_tokens, decoding=Decoding(), chat=chat)
        return [style.content(fam.name, c.text) or "" for c in outs]

    return BatchFunctionModel(predict, f"{model.name}/{skill}", alphabet=sk.task.vocab.tokens[3:])


def inputs(fam: Family, skill: str, n: int, max_size: int | None, seed: int) -> list[str]:
    """The inputs both models are explained on: the skill's sizes and two beyond (by default)."""
    sk = fam.skills[skill]
    lo, hi = sk.sizes
    return sk.inputs(n, seed, (lo, max_size if max_size is not None else hi + 2))


def explain_model(
    fam: Family, skill: str, model: TextModel, xs: list[str], seed: int, extra_fit: int
) -> dict[str, Any]:
    """The model's content on `xs` and the metamodel explaining it (fit on half, held out on half)."""
    outs = model.generate(xs, 10**6)  # a content model answers in full
    pairs = [(x, c.text) for x, c in zip(xs, outs, strict=True)]
    half = len(pairs) // 2
    # Without extra queries the model is not asked anything more (a slow teacher costs nothing extra).
    asked = model if extra_fit > 0 else None
    result = explain(
        fam.skills[skill].task, pairs[:half], pairs[half:], seed=seed, model=asked, extra_fit=extra_fit
    )
    return {"outputs": [c.text for c in outs], "explain": result.to_json()}


def compare(
    xs: Sequence[str],
    solve: Callable[[str], str],
    teacher: dict[str, Any],
    student: dict[str, Any],
) -> dict[str, Any]:
    """Shared shortcut, agreement of the programs and of the outputs, and the teacher's failures
    the student reproduces exactly."""
    if not xs:
        raise BadInput("algorithm comparison needs inputs")
    refs = [solve(x) for x in xs]
    # Programs that call the reference (`else reference`) come back from JSON without their oracle.
    tp, sp = (from_json(m["explain"]["program"]) for m in (teacher, student))
    tp, sp = (p.bind(solve) if p.uses_reference() else p for p in (tp, sp))
    t_out, s_out = teacher["outputs"], student["outputs"]
    failures = [i for i, (t, r) in enumerate(zip(t_out, refs, strict=True)) if t != r]
    return {
        "teacher_program": teacher["explain"]["program_text"],
        "student_program": student["explain"]["program_text"],
        "teacher_family_match": teacher["explain"]["family_match"],
        "student_family_match": student["explain"]["family_match"],
        "same_shortcut": same_shortcut(tp, sp, list(xs)),
        # How well each program explains its own model on held-out inputs: a program that fits
        # its model badly makes the agreement of the programs say little about the models.
        "teacher_program_fit": teacher["explain"]["metamodel_agreement"],
        "student_program_fit": student["explain"]["metamodel_agreement"],
        "program_agreement": share(
            [a == b for a, b in zip(tp.run_many(xs), sp.run_many(xs), strict=True)]
        ).to_json(),
        "output_agreement": share([a == b for a, b in zip(t_out, s_out, strict=True)]).to_json(),
        "teacher_failures": len(failures),
        "failures_reproduced": share([s_out[i] == t_out[i] for i in failures]).to_json(),
        "student_accuracy": share([s == r for s, r in zip(s_out, refs, strict=True)]).to_json(),
        "teacher_accuracy": share([t == r for t, r in zip(t_out, refs, strict=True)]).to_json(),
    }
