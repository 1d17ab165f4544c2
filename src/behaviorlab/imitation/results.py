"""results.json: one row per model (teacher's second sample, bases, students) with content,
style and algorithm tables; the sweeps as lists of row names; the expected findings checked."""

from __future__ import annotations

from typing import Any, Protocol

from behaviorlab.imitation.algorithm import compare
from behaviorlab.imitation.config import SYNTHETIC_TEACHER, ImitationConfig
from behaviorlab.imitation.findings import findings
from behaviorlab.imitation.metrics import as_json, content_table, style_table, template_by_skill
from behaviorlab.imitation.plan import Point
from behaviorlab.imitation.queries import Query
from behaviorlab.imitation.skills import Family
from behaviorlab.lm.base import TextModel


class Experiment(Protocol):
    """What the tables need of a running experiment."""

    cfg: ImitationConfig
    fam: Family
    eval: list[Query]
    algo_inputs: list[str]
    teacher: TextModel | None


def _row(
    exp: Experiment, name: str, role: str, outputs: list[str], teacher: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    ref = teacher["sample_a"]
    row: dict[str, Any] = {"name": name, "role": role, **extra}
    row["content"] = as_json(content_table(exp.fam.name, exp.eval, outputs))
    row["style"] = as_json(style_table(exp.eval, outputs, ref, exp.cfg.seed))
    row["template_by_skill"] = as_json(template_by_skill(exp.eval, outputs, ref))
    row["examples"] = [
        {"query": q.text, "teacher": t, "output": o}
        for q, t, o in list(zip(exp.eval, ref, outputs, strict=True))[:6]
    ]
    return row


def _algorithm(exp: Experiment, teacher: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any] | None:
    if "algorithm" not in answer or "algorithm" not in teacher:
        return None
    task = exp.fam.skills[exp.cfg.algorithm.skill].task
    return compare(exp.algo_inputs, task.solve, teacher["algorithm"], answer["algorithm"])


def assemble(
    exp: Experiment,
    teacher: dict[str, Any],
    bases: dict[str, Any],
    plan: list[Point],
    students: list[Any],
    sets: dict[str, dict[int, dict[str, Any]]],
    hf: dict[str, Any] | None,
) -> dict[str, Any]:
    """Every table, sweep and finding of the experiment."""
    cfg = exp.cfg
    # The recipe's teacher lives inside DIR: name it by the recipe, so results do not depend on DIR.
    spec = (
        cfg.teacher.spec if cfg.teacher.spec == SYNTHETIC_TEACHER or exp.teacher is None else exp.teacher.spec
    )
    rows = [
        _row(
            exp,
            "teacher (2nd sample)",
            "teacher",
            teacher["sample_b"],
            teacher,
            spec=spec,
        )
    ]
    if "algorithm" in teacher:
        t_alg = teacher["algorithm"]
        rows[0]["algorithm"] = {
            "teacher_program": t_alg["explain"]["program_text"],
            "teacher_family_match": t_alg["explain"]["family_match"],
        }
    for size in cfg.base.sizes:
        rows.append(
            _row(
                exp,
                f"base {size.name}",
                "base",
                bases[size.name]["outputs"],
                teacher,
                base=size.name,
                d_model=size.model.d_model,
            )
        )
    for p, ans in zip(plan, students, strict=True):
        data = sets[p.setting][p.amount]
        rows.append(
            _row(
                exp,
                p.name,
                "student",
                ans["outputs"],
                teacher,
                setting=p.setting,
                amount=p.amount,
                base=p.base,
                examples_n=data["examples"],
                tokens=data["tokens"],
                algorithm=_algorithm(exp, teacher, ans),
            )
        )
    if hf is not None:
        rows.append(
            _row(
                exp,
                "hf student",
                "hf-student",
                hf["outputs"],
                teacher,
                setting=hf["setting"],
                amount=hf["amount"],
                algorithm=_algorithm(exp, teacher, hf),
            )
        )
    first = "local" if "local" in cfg.queries.settings else cfg.queries.settings[0]
    sweeps = {
        "amount": {
            s: [p.name for p in plan if p.setting == s and p.base == cfg.default_base]
            for s in cfg.queries.settings
        },
        "base": [p.name for p in plan if p.setting == first and p.amount == cfg.default_amount],
        "local_vs_broad": [
            p.name for p in plan if p.amount == cfg.default_amount and p.base == cfg.default_base
        ],
    }
    results: dict[str, Any] = {
        "name": cfg.name,
        "family": exp.fam.name,
        "teacher": rows[0]["spec"],
        "skills": {
            "local": [cfg.queries.local],
            "broad": cfg.queries.broad,
            "base": cfg.base.skills,
            "all": list(exp.fam.skills),
        },
        "defaults": {"amount": cfg.default_amount, "base": cfg.default_base},
        "algorithm_skill": cfg.algorithm.skill if cfg.algorithm.enabled else None,
        "data": {
            s: {str(a): v | {"path": v["path"].split("/")[-1]} for a, v in d.items()} for s, d in sets.items()
        },
        "rows": rows,
        "sweeps": sweeps,
    }
    results["findings"] = [f.to_json() for f in findings(results)]
    return results
