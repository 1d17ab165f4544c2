"""The pre-flight estimate of an imitation experiment (limits.py's rules), from its config alone:
every example and query it draws, the runs it trains (teacher recipe, bases, students) and the
teacher's answers — refused in one line before anything is sampled or written."""

from __future__ import annotations

from behaviorlab.imitation.config import SYNTHETIC_TEACHER, Fit, ImitationConfig
from behaviorlab.imitation.plan import points
from behaviorlab.imitation.skills import family
from behaviorlab.limits import WORKER_BYTES, Need
from behaviorlab.models import ModelConfig
from behaviorlab.tasks.dataset import EXAMPLE_BYTES, PARQUET_BYTES, SAMPLE_SECONDS
from behaviorlab.train.budget import JOB_BYTES, STEP_SECONDS, fit_need

# A floor on one generated token of the smallest model (measured: ~0.3 ms batched on 2 cores).
TOKEN_SECONDS = 1e-5
BYTES_VOCAB = 256  # the byte tokenizer; a word vocabulary is larger, so this is a floor


def _fit(model: ModelConfig, fit: Fit, threads: int) -> Need:
    return fit_need(model, BYTES_VOCAB, 1, steps=fit.steps, batch_size=fit.batch_size, threads=threads)


def experiment_need(cfg: ImitationConfig, workers: int) -> Need:
    """Memory, disk and time of the whole experiment, `workers` training jobs at a time."""
    fam = family(cfg.family)
    skills = len(fam.skills)
    synthetic = cfg.teacher.spec == SYNTHETIC_TEACHER
    # The recipe draws each skill's examples, its invalid share and a quarter again for `similar:`.
    teacher = round(cfg.teacher.examples_per_skill * skills * (1.25 + cfg.queries.invalid_fraction))
    drawn = (
        (teacher if synthetic else 0)
        + cfg.base.examples_per_skill * len(cfg.base.skills)
        + cfg.eval.per_skill * skills
        + cfg.eval.invalid
        + max(cfg.sweep.amounts) * len(cfg.queries.settings)
        + cfg.algorithm.n
        + cfg.algorithm.extra_fit
        + (cfg.queries.seeds * len(cfg.queries.broad) if cfg.queries.source == "grow" else 0)
    )
    data = Need(
        memory=drawn * EXAMPLE_BYTES,
        disk=drawn * PARQUET_BYTES,
        seconds=drawn * SAMPLE_SECONDS,
        parts=(f"{drawn:,} examples and queries",),
    )
    runs = [_fit(s.model, cfg.base.fit, cfg.threads) for s in cfg.base.sizes]
    runs += [_fit(cfg.size(p.base).model, cfg.student, cfg.threads) for p in points(cfg)]
    if synthetic:
        runs.append(_fit(cfg.teacher.model, cfg.teacher.fit, cfg.threads))
    hf = Need(seconds=cfg.hf_student.fit.steps * STEP_SECONDS) if cfg.hf_student is not None else Need()
    par = max(1, min(workers, len(runs)))
    training = Need(
        memory=par * (WORKER_BYTES + max(r.memory for r in runs)) + len(runs) * JOB_BYTES,
        disk=sum(r.disk for r in runs),
        seconds=sum(r.seconds for r in runs) / par,
        parts=(f"{len(runs)} training runs, {par} at a time",),
    )
    evaluation = cfg.eval.per_skill * skills + cfg.eval.invalid
    answers = 2 * evaluation + max(cfg.sweep.amounts)  # the teacher: two samples, then the data
    tokens = answers * cfg.teacher.max_new_tokens + len(runs) * evaluation * cfg.student_max_new_tokens
    asking = Need(seconds=tokens * TOKEN_SECONDS)
    return Need(
        memory=data.memory + training.memory,
        disk=data.disk + training.disk,
        seconds=data.seconds + training.seconds + asking.seconds + hf.seconds,
        parts=data.parts + training.parts,
    )
