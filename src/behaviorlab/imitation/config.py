"""The imitation experiment's config: teacher, queries, bases, students, sweeps, evaluation.

Everything is checked here, before a directory is created: skills exist in the family, sizes
and amounts make sense, the default sweep point is one of the points."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from behaviorlab.errors import BadInput
from behaviorlab.imitation.skills import FAMILIES, family
from behaviorlab.io import read_toml
from behaviorlab.models import ModelConfig
from behaviorlab.validate import SafeName, Seed, Strict, Threads

SYNTHETIC_TEACHER = "synthetic"  # the teacher spec that trains the shipped recipe


class Fit(Strict):
    """How long and how fast one training job runs."""

    steps: int = Field(300, gt=0)
    batch_size: int = Field(32, gt=0)
    lr: float = Field(1e-3, gt=0)


Setting = Literal["local", "broad"]


def _both() -> list[Setting]:
    return ["local", "broad"]


class TeacherConfig(Strict):
    """Any TextModel spec, or `synthetic`: train the recipe's styled multi-skill model first."""

    spec: str = SYNTHETIC_TEACHER
    temperature: float = Field(0.7, ge=0.0)  # 0: greedy (then a second sample equals the first)
    max_new_tokens: int = Field(32, gt=0)
    chat: bool = False  # wrap each query in the model's chat template
    threads: Threads = 1  # torch threads while the teacher answers (in this process)
    examples_per_skill: int = Field(1500, gt=0)  # recipe: recorded examples per skill
    model: ModelConfig = ModelConfig(kind="encoder-decoder", d_model=64, n_heads=4, d_ff=256, max_len=64)
    fit: Fit = Fit(steps=2000, batch_size=64, lr=3e-3)


class QueriesConfig(Strict):
    """Which queries the teacher is asked: `sample` from the skills, or `grow` from a few seeds."""

    source: Literal["sample", "grow"] = "sample"
    local: str = "successor"
    broad: list[str] = Field(default_factory=lambda: ["successor", "reverse"])
    settings: list[Setting] = Field(default_factory=_both)
    invalid_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    seeds: int = Field(8, gt=0)  # grow: seed queries per skill
    grow_prompt: str = "similar: {query}"  # grow: what the teacher is asked for a similar query


class Size(Strict):
    """One base model size: a name for tables and its architecture."""

    name: SafeName  # becomes the folder bases/NAME
    model: ModelConfig


class BaseConfig(Strict):
    """Weaker bases: pre-trained on plain content (no style) of other skills, at several sizes."""

    skills: list[str] = Field(default_factory=lambda: ["add", "reverse"])
    examples_per_skill: int = Field(1000, gt=0)
    tokenizer: Literal["words", "bytes"] = "words"
    fit: Fit = Fit(steps=600, batch_size=64, lr=3e-3)
    sizes: list[Size] = Field(min_length=1)


class SweepConfig(Strict):
    """Imitation-data amounts (examples) and which base / amount the other sweep holds fixed."""

    amounts: list[int] = Field(default_factory=lambda: [64, 128, 256, 512], min_length=1)
    default_amount: int | None = None  # default: the first amount
    default_base: str | None = None  # default: the first base size


class EvalConfig(Strict):
    """Held-out queries per skill (disjoint from every imitation set) and invalid ones."""

    per_skill: int = Field(150, gt=0)
    invalid: int = Field(60, ge=0)


class AlgorithmConfig(Strict):
    """Metamodel search on teacher and students for one skill both answer."""

    enabled: bool = True
    skill: str = "successor"
    n: int = Field(300, gt=3)
    max_size: int | None = None  # default: two above the skill's sizes (where shortcuts show)
    extra_fit: int = Field(100, ge=0)  # more inputs asked of each model while fitting


class HFStudentConfig(Strict):
    """Also fine-tune a local Hugging Face causal LM on the default local imitation set."""

    path: str
    fit: Fit = Fit(steps=200, batch_size=8, lr=1e-3)


class ImitationConfig(Strict):
    """One imitation experiment."""

    name: str = "imitation"
    family: str = "synthetic"
    seed: Seed = 0
    threads: Threads = 1
    workers: int | None = Field(None, gt=0)
    student_max_new_tokens: int = Field(32, gt=0)
    teacher: TeacherConfig = TeacherConfig()
    queries: QueriesConfig = QueriesConfig()
    base: BaseConfig
    student: Fit = Fit()
    sweep: SweepConfig = SweepConfig()
    eval: EvalConfig = EvalConfig()
    algorithm: AlgorithmConfig = AlgorithmConfig()
    hf_student: HFStudentConfig | None = None

    @property
    def default_amount(self) -> int:
        return self.sweep.default_amount or self.sweep.amounts[0]

    @property
    def default_base(self) -> str:
        return self.sweep.default_base or self.base.sizes[0].name

    def size(self, name: str) -> Size:
        """A base size by name."""
        return next(s for s in self.base.sizes if s.name == name)

    def to_json(self) -> dict[str, Any]:
        """Every value written out (defaults included)."""
        return json.loads(self.model_dump_json(exclude_none=True))


def check(cfg: ImitationConfig, source: str) -> ImitationConfig:
    """Cross-field checks: one line naming what makes no sense."""
    fam = family(cfg.family)
    known = list(fam.skills)

    def skills(where: str, names: list[str]) -> None:
        bad = [n for n in names if n not in fam.skills]
        if bad or not names:
            raise BadInput(
                f"{source}: {where}: unknown skill(s) {bad or '(none given)'}; family {fam.name} has {known}"
            )

    skills("queries.local", [cfg.queries.local])
    skills("queries.broad", cfg.queries.broad)
    skills("base.skills", cfg.base.skills)
    if cfg.algorithm.enabled:
        skills("algorithm.skill", [cfg.algorithm.skill])
    if cfg.teacher.spec == SYNTHETIC_TEACHER and fam.name != "synthetic":
        raise BadInput(
            f"{source}: teacher.spec = synthetic trains the synthetic family; family is {fam.name}"
        )
    amounts = cfg.sweep.amounts
    if any(a < 1 for a in amounts) or sorted(set(amounts)) != amounts:
        raise BadInput(f"{source}: sweep.amounts must be positive and strictly increasing; got {amounts}")
    if cfg.default_amount not in amounts:
        raise BadInput(f"{source}: sweep.default_amount {cfg.default_amount} is not one of {amounts}")
    names = [s.name for s in cfg.base.sizes]
    if len(set(names)) != len(names):
        raise BadInput(f"{source}: base.sizes names must be unique; got {names}")
    if cfg.default_base not in names:
        raise BadInput(f"{source}: sweep.default_base {cfg.default_base!r} is not one of {names}")
    if not cfg.queries.settings or len(set(cfg.queries.settings)) != len(cfg.queries.settings):
        raise BadInput(f"{source}: queries.settings must name local and/or broad once each")
    lo, hi = fam.skills[cfg.algorithm.skill].sizes if cfg.algorithm.enabled else (1, 1)
    if cfg.algorithm.max_size is not None and cfg.algorithm.max_size < lo:
        raise BadInput(
            f"{source}: algorithm.max_size {cfg.algorithm.max_size} is below the skill's sizes {lo}..{hi}"
        )
    if cfg.base.tokenizer == "words" and cfg.teacher.spec != SYNTHETIC_TEACHER:
        raise BadInput(
            f"{source}: base.tokenizer = words covers only the synthetic teacher's text; use bytes"
        )
    if "{query}" not in cfg.queries.grow_prompt:
        raise BadInput(f"{source}: queries.grow_prompt must contain {{query}}")
    return cfg


def validate(raw: dict[str, Any], source: str) -> ImitationConfig:
    """A raw dict as a checked config; every problem on one line naming the source."""
    try:
        cfg = ImitationConfig.model_validate(raw)
    except ValidationError as e:
        where = lambda loc: ".".join(str(p) for p in loc) or "<root>"  # noqa: E731
        problems = "; ".join(f"{where(err['loc'])}: {err['msg']}" for err in e.errors())
        raise BadInput(f"{source}: invalid imitation config: {problems}") from None
    return check(cfg, source)


def load_config(path: Path) -> ImitationConfig:
    """Read and check an imitation config (TOML)."""
    return validate(read_toml(path, "config file"), str(path))


__all__ = ["FAMILIES", "ImitationConfig", "check", "load_config", "validate"]
