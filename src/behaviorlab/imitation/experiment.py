"""`run_experiment`: teacher -> imitation data -> students, evaluated side by side.

Stages: check the config and load the teacher (before DIR exists); train the synthetic teacher and
the bases; record the teacher's answers (imitation data, two evaluation samples, its algorithm);
fine-tune the students from their bases; score everything (`results.py`) and plot it. Training
jobs go through a runner (`sweep.backends.run_jobs` from the CLI); a resumed experiment keeps
every finished run and every recorded answer."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from behaviorlab.errors import BadInput
from behaviorlab.imitation import queries as Q
from behaviorlab.imitation import recipe
from behaviorlab.imitation.algorithm import content_model, explain_model, inputs
from behaviorlab.imitation.budget import experiment_need
from behaviorlab.imitation.config import SYNTHETIC_TEACHER, ImitationConfig
from behaviorlab.imitation.jobs import eval_digest
from behaviorlab.imitation.plan import Point, points
from behaviorlab.imitation.results import assemble
from behaviorlab.imitation.runner import open_dir, run_jobs_with_bar
from behaviorlab.imitation.skills import Family, family
from behaviorlab.io import atomic_write_json
from behaviorlab.jobs import Runner, in_process
from behaviorlab.limits import require
from behaviorlab.lm import load
from behaviorlab.lm.base import Decoding, TextModel
from behaviorlab.outdir import mark
from behaviorlab.rundir import (
    BASE_DATA,
    DATA,
    RESULTS,
    TEACHER_ANSWERS,
    TEACHER_DATA,
    RunDir,
    read_json_object,
    split_file,
    unlock,
    update_summary,
    write_summary,
)
from behaviorlab.rundir import (
    IMITATION_BASES as BASES,
)
from behaviorlab.rundir import (
    IMITATION_HF as HF,
)
from behaviorlab.rundir import (
    IMITATION_OUTPUTS as OUTPUTS,
)
from behaviorlab.rundir import (
    IMITATION_STUDENTS as STUDENTS,
)
from behaviorlab.rundir import (
    IMITATION_TEACHER as TEACHER,
)
from behaviorlab.tasks.dataset import derive_seed
from behaviorlab.tasks.recorded import read_pairs
from behaviorlab.tasks.text import TextVocab
from behaviorlab.track import check_sinks, send_run

Say = Callable[[str], None]


def _decoding(cfg: ImitationConfig, *parts: object) -> Decoding:
    t = cfg.teacher.temperature
    return Decoding() if t == 0 else Decoding(greedy=False, temperature=t, seed=derive_seed(cfg.seed, *parts))


def _ask(cfg: ImitationConfig, teacher: TextModel, texts: list[str], *parts: object) -> list[str]:
    outs = teacher.generate(
        texts, cfg.teacher.max_new_tokens, decoding=_decoding(cfg, *parts), chat=cfg.teacher.chat
    )
    return [c.text for c in outs]


class Experiment:
    """One experiment's state while it runs (paths, the family, the queries, the teacher)."""

    def __init__(self, cfg: ImitationConfig, out: Path, teacher: TextModel | None, say: Say) -> None:
        self.cfg, self.out, self.teacher, self.say = cfg, out, teacher, say
        self.fam: Family = family(cfg.family)
        self.pieces = recipe.fixed_pieces(self.fam) if cfg.base.tokenizer == "words" else None
        n_valid = cfg.eval.per_skill * len(self.fam.skills)
        frac = cfg.eval.invalid / (n_valid + cfg.eval.invalid)
        self.eval = Q.sample(
            self.fam, list(self.fam.skills), n_valid + cfg.eval.invalid, frac, derive_seed(cfg.seed, "eval")
        )
        algo = cfg.algorithm
        self.algo_inputs = (
            inputs(self.fam, algo.skill, algo.n, algo.max_size, derive_seed(cfg.seed, "algo"))
            if algo.enabled
            else []
        )
        self.planned: dict[str, list[Q.Query]] = {}
        if cfg.queries.source == "sample":  # known before the teacher answers: refuse bad sizes now
            for s in cfg.queries.settings:
                self.planned[s] = self._sample(s, max(cfg.sweep.amounts))

    def skills(self, setting: str) -> list[str]:
        return [self.cfg.queries.local] if setting == "local" else list(self.cfg.queries.broad)

    def _sample(self, setting: str, n: int) -> list[Q.Query]:
        qc = self.cfg.queries
        exclude = {q.text for q in self.eval}
        return Q.sample(
            self.fam,
            self.skills(setting),
            n,
            qc.invalid_fraction,
            derive_seed(self.cfg.seed, "queries", setting),
            exclude,
        )

    def request(self, algorithm: bool) -> dict[str, Any]:
        """What a trained run answers: the evaluation queries, and the algorithm skill's inputs."""
        algo = self.cfg.algorithm
        req: dict[str, Any] = {
            "family": self.fam.name,
            "queries": [q.text for q in self.eval],
            "max_new_tokens": self.cfg.student_max_new_tokens,
        }
        if algorithm and algo.enabled:
            req["algorithm"] = {
                "skill": algo.skill,
                "inputs": self.algo_inputs,
                "seed": self.cfg.seed,
                "extra_fit": algo.extra_fit,
            }
        return req

    # --- stage 1: the synthetic teacher and the bases ---------------------------------------------

    def pretrain(self, runner: Runner, progress: bool) -> dict[str, Any]:
        cfg, out, jobs = self.cfg, self.out, []
        base_data = recipe.write_pairs(
            split_file(out / BASE_DATA, "train"),
            recipe.base_pairs(
                [self.fam.skills[s] for s in cfg.base.skills],
                cfg.base.examples_per_skill,
                derive_seed(cfg.seed, "base"),
            ),
        )
        if cfg.teacher.spec == SYNTHETIC_TEACHER:
            pairs = recipe.teacher_pairs(
                self.fam,
                cfg.teacher.examples_per_skill,
                cfg.queries.invalid_fraction,
                derive_seed(cfg.seed, "teacher"),
            )
            path = recipe.write_pairs(split_file(out / TEACHER_DATA, "train"), pairs)
            tc = recipe.train_config(
                "teacher", {"train": path}, cfg.teacher.model, cfg.teacher.fit, cfg, self.pieces
            )
            jobs.append((tc.model_dump_json(), str(out / TEACHER), {**self.request(False), "queries": []}))
        for size in cfg.base.sizes:
            bc = recipe.train_config(
                f"base-{size.name}", {"train": base_data}, size.model, cfg.base.fit, cfg, self.pieces
            )
            jobs.append((bc.model_dump_json(), str(out / BASES / size.name), self.request(False)))
        self.say(f"training {len(jobs)} run(s): teacher recipe and bases")
        done = run_jobs_with_bar(runner, jobs, "teacher + bases", progress)
        if cfg.teacher.spec == SYNTHETIC_TEACHER:
            self.teacher = load(f"run:{out / TEACHER}")
            done = done[1:]
        return {s.name: r for s, r in zip(cfg.base.sizes, done, strict=True)}

    # --- stage 2: the teacher's answers ------------------------------------------------------------

    def teacher_answers(self) -> dict[str, Any]:
        """Two samples on the evaluation queries and the algorithm view (cached)."""
        assert self.teacher is not None
        cfg, path = self.cfg, self.out / OUTPUTS / TEACHER_ANSWERS
        request = {
            **self.request(True),
            "decoding": _decoding(cfg, "sample-a").label(),
            "spec": self.teacher.spec,
        }
        if path.is_file() and (got := read_json_object(path)).get("request") == eval_digest(request):
            return got
        texts = [q.text for q in self.eval]
        self.say(f"teacher answers {len(texts)} evaluation queries twice ({_decoding(cfg, 'a').label()})")
        ans: dict[str, Any] = {
            "request": eval_digest(request),
            "sample_a": _ask(cfg, self.teacher, texts, "sample-a"),
        }
        ans["sample_b"] = _ask(cfg, self.teacher, texts, "sample-b")
        if cfg.algorithm.enabled:
            self.say(f"explaining the teacher's {cfg.algorithm.skill} algorithm")
            view = content_model(
                self.fam, cfg.algorithm.skill, self.teacher, cfg.teacher.max_new_tokens, cfg.teacher.chat
            )
            ans["algorithm"] = explain_model(
                self.fam, cfg.algorithm.skill, view, self.algo_inputs, cfg.seed, cfg.algorithm.extra_fit
            )
        atomic_write_json(path, ans)
        return ans

    def imitation_data(self, setting: str) -> dict[int, dict[str, Any]]:
        """The teacher's answers to the setting's queries, as Parquet sets of each amount."""
        cfg, full = self.cfg, split_file(self.out / DATA, setting)
        n = max(cfg.sweep.amounts)
        if not full.is_file():
            assert self.teacher is not None
            if cfg.queries.source == "grow":
                seeds = Q.sample(
                    self.fam,
                    self.skills(setting),
                    cfg.queries.seeds * len(self.skills(setting)),
                    0.0,
                    derive_seed(cfg.seed, "seeds", setting),
                    {q.text for q in self.eval},
                )
                self.say(f"{setting}: growing {n} queries from {len(seeds)} seeds")
                qs = Q.grow(
                    self.fam,
                    self.teacher,
                    seeds,
                    n,
                    prompt=cfg.queries.grow_prompt,
                    max_new_tokens=cfg.teacher.max_new_tokens,
                    chat=cfg.teacher.chat,
                    seed=derive_seed(cfg.seed, "grow", setting),
                    exclude={q.text for q in self.eval},
                )
            else:
                qs = self.planned[setting]
            if not qs:
                raise BadInput(f"{setting}: the imitation set is empty (no queries)")
            self.say(f"{setting}: teacher answers {len(qs)} imitation queries")
            recipe.write_pairs(
                full,
                list(
                    zip(
                        [q.text for q in qs],
                        _ask(cfg, self.teacher, [q.text for q in qs], "data", setting),
                        strict=True,
                    )
                ),
            )
        rows = read_pairs(full)
        vocab = TextVocab(cfg.base.tokenizer, self.pieces or ())
        sets = {}
        for amount in cfg.sweep.amounts:
            part = rows[:amount]
            if len(part) < amount:
                self.say(
                    f"warning: {setting} has {len(rows)} distinct queries; the {amount} set holds all of them"
                )
            path = recipe.write_pairs(
                split_file(self.out / DATA, f"{setting}-{amount}"), [(e.input, e.output) for e in part]
            )
            tokens = sum(len(vocab.tokenize(e.input)) + len(vocab.tokenize(e.output)) for e in part)
            sets[amount] = {"path": str(path), "examples": len(part), "tokens": tokens}
        return sets

    # --- stage 3: students -------------------------------------------------------------------------

    def students(
        self, plan: list[Point], sets: dict[str, dict[int, dict[str, Any]]], runner: Runner, progress: bool
    ) -> list[Any]:
        cfg, jobs = self.cfg, []
        for p in plan:
            data = {"train": Path(sets[p.setting][p.amount]["path"])}
            sc = recipe.train_config(
                p.name,
                data,
                cfg.size(p.base).model,
                cfg.student,
                cfg,
                self.pieces,
                init_from=self.out / BASES / p.base,
            )
            jobs.append((sc.model_dump_json(), str(self.out / STUDENTS / p.name), self.request(True)))
        self.say(f"fine-tuning {len(jobs)} student(s)")
        return run_jobs_with_bar(runner, jobs, "students", progress)

    def hf_student(self, sets: dict[str, dict[int, dict[str, Any]]]) -> dict[str, Any]:
        """Fine-tune the configured Hugging Face causal LM on the default local set; its answers."""
        from behaviorlab.imitation.hf_student import finetune, prompt_text

        hc, cfg = self.cfg.hf_student, self.cfg
        assert hc is not None
        setting = "local" if "local" in sets else next(iter(sets))
        pairs = [(e.input, e.output) for e in read_pairs(Path(sets[setting][cfg.default_amount]["path"]))]
        self.say(f"fine-tuning the Hugging Face student {hc.path} on {len(pairs)} {setting} examples")
        where = finetune(
            Path(hc.path),
            pairs,
            self.out / HF,
            steps=hc.fit.steps,
            batch_size=hc.fit.batch_size,
            lr=hc.fit.lr,
            seed=cfg.seed,
        )
        model = load(f"hf:{where.resolve()}")
        outs = model.generate([prompt_text(q.text) for q in self.eval], cfg.student_max_new_tokens)
        ans: dict[str, Any] = {
            "outputs": [c.text for c in outs],
            "setting": setting,
            "amount": cfg.default_amount,
        }
        if cfg.algorithm.enabled:
            view = content_model(
                self.fam, cfg.algorithm.skill, model, cfg.student_max_new_tokens, False, prompt_text
            )
            ans["algorithm"] = explain_model(
                self.fam, cfg.algorithm.skill, view, self.algo_inputs, cfg.seed, cfg.algorithm.extra_fit
            )
        return ans


def run_experiment(
    cfg: ImitationConfig,
    out: Path,
    *,
    runner: Runner = in_process,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    say: Say = lambda _: None,
    sinks: Sequence[str] = (),
    parallel: int = 1,
    allow_long: bool = False,
) -> dict[str, Any]:
    """Run the whole experiment into `out` (its record also into `sinks` at the end); returns
    results.json's content. Its sizes are checked against this machine first (`parallel`
    training jobs at a time); `allow_long` lets it start when only the estimated time is over the
    limit."""
    check_sinks(sinks)
    t0 = time.perf_counter()
    need = experiment_need(cfg, parallel)
    hint = "lower examples_per_skill, sweep.amounts, eval sizes, models or steps"
    require(f"imitation {cfg.name}", need, out=out, hint=hint, allow_long=allow_long)
    torch.set_num_threads(cfg.teacher.threads)
    teacher = None if cfg.teacher.spec == SYNTHETIC_TEACHER else load(cfg.teacher.spec)
    if cfg.hf_student is not None:
        from behaviorlab.lm.hf import check_model_dir

        check_model_dir(Path(cfg.hf_student.path))
    exp = Experiment(cfg, out, teacher, say)  # samples every query: bad sizes are refused here
    open_dir(cfg, out, resume, force)  # locked until this returns
    try:
        return _run(exp, cfg, out, runner, resume, progress, t0, sinks)
    finally:
        unlock(out)


def _run(
    exp: Experiment,
    cfg: ImitationConfig,
    out: Path,
    runner: Runner,
    resume: bool,
    progress: bool,
    t0: float,
    sinks: Sequence[str],
) -> dict[str, Any]:
    earlier = RunDir.open(out).summary.get("wall_seconds", 0.0) if resume else 0.0  # sessions add up
    write_summary(out, {"kind": "imitation", "status": "running", "name": cfg.name, "wall_seconds": earlier})
    try:
        bases = exp.pretrain(runner, progress)
        torch.set_num_threads(cfg.teacher.threads)
        teacher_ans = exp.teacher_answers()
        sets: dict[str, dict[int, dict[str, Any]]] = {s: exp.imitation_data(s) for s in cfg.queries.settings}
        plan = points(cfg)
        students = exp.students(plan, sets, runner, progress)
        hf = exp.hf_student(sets) if cfg.hf_student is not None else None
        results = assemble(exp, teacher_ans, bases, plan, students, sets, hf)
    except BaseException as e:
        status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        note = mark(out, status, str(e).splitlines()[0] if str(e) else type(e).__name__)
        if isinstance(e, OSError):  # a full disk: one line naming the path and the run's state
            raise BadInput(
                f"{e.filename or out}: {e.strerror or e}; imitation run {out} {status}{note}"
            ) from None
        if note and isinstance(e, BadInput):
            raise BadInput(f"{e.one_line()}{note}") from None
        raise
    atomic_write_json(out / RESULTS, results)
    from behaviorlab.imitation.plots import write_plots

    write_plots(results, out)
    seconds = round(earlier + time.perf_counter() - t0, 1)
    update_summary(
        out,
        status="complete",
        teacher=exp.teacher.spec if exp.teacher else cfg.teacher.spec,
        wall_seconds=seconds,
        findings={f["name"]: f["held"] for f in results["findings"]},
    )
    send_run(out, sinks)
    return results
