"""Experiment configs: TOML in, pydantic-validated, every default written back out.

`[data]` is either a task sampler (`task`, `options`, `splits`) or recorded Parquet files
(`files`, see `tasks.recorded`); the two are told apart by the `files` key.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import Discriminator, Field, Tag, ValidationError, model_validator

from behaviorlab import tasks
from behaviorlab.errors import BadInput
from behaviorlab.io import read_toml
from behaviorlab.models import ModelConfig
from behaviorlab.optim import OptimConfig
from behaviorlab.rundir import CHECKPOINTS, MODEL_WEIGHTS
from behaviorlab.tasks.dataset import DatasetSpec
from behaviorlab.tasks.pairs import is_pairs_file
from behaviorlab.tasks.recorded import RecordedSpec, resolve
from behaviorlab.track import TrackConfig
from behaviorlab.train import checkpoint
from behaviorlab.validate import Seed, Strict, Threads


def _data_source(value: Any) -> str:
    """`files` for recorded data, `task` for a task sampler."""
    if isinstance(value, dict):
        return "files" if "files" in value else "task"
    return "files" if isinstance(value, RecordedSpec) else "task"


DataConfig = Annotated[
    Annotated[DatasetSpec, Tag("task")] | Annotated[RecordedSpec, Tag("files")],
    Discriminator(_data_source),
]


class TrainConfig(Strict):
    """The training loop's knobs (strict: "30", true or "0.003" are type errors, inf/nan refused)."""

    steps: int = Field(2000, gt=0)
    batch_size: int = Field(64, gt=0)
    warmup: int = Field(100, ge=0)
    schedule: Literal["cosine", "linear", "constant"] = "cosine"
    min_lr_ratio: float = Field(0.1, ge=0.0, le=1.0)
    grad_clip: float = Field(1.0, ge=0.0)  # 0 disables clipping
    eval_every: int = Field(250, gt=0)
    eval_examples: int = Field(512, gt=0)  # accuracy checks during training use this many
    checkpoint_every: int = Field(500, gt=0)
    # Early stop once the monitor split reaches this accuracy (None: train all steps). None is the
    # default because TOML cannot write None back out.
    target_accuracy: float | None = Field(None, ge=0.0, le=1.0)
    monitor_split: str = "train"
    # What the monitor split reports: exact-match accuracy (greedy decoding), the token-level
    # teacher-forced loss and perplexity (language modelling: exact match of text is ~0), or both.
    monitor: Literal["accuracy", "loss", "both"] = "accuracy"
    seed: Seed = 0
    threads: Threads = 1  # fixed so runs are bit-identical on one machine
    eval_batch_size: int = Field(256, gt=0)
    # torch.compile the training forward (see train/compiled.py); the summary reports its cost.
    compile: bool = False
    # Start from another training run's latest verified weights instead of a fresh init; resolving
    # the config makes the path absolute and pins those weights by sha256 (replay checks it).
    init_from: str | None = None
    init_sha256: str | None = None

    @model_validator(mode="after")
    def _target_needs_accuracy(self) -> TrainConfig:
        if self.target_accuracy is not None and self.monitor == "loss":
            raise ValueError("target_accuracy needs the monitor to measure accuracy (monitor = 'loss')")
        return self


class ExperimentConfig(Strict):
    """One run: the data, the model, the optimizer and the loop."""

    name: str = "run"
    data: DataConfig
    model: ModelConfig = ModelConfig()
    optim: OptimConfig = OptimConfig()
    train: TrainConfig = TrainConfig()
    track: TrackConfig = TrackConfig()  # where results go besides the run directory

    def to_toml(self) -> str:
        """The resolved config, every default written out."""
        return tomli_w.dumps(_drop_none(self.model_dump(mode="json")))

    def digest(self) -> str:
        """A stable hash of the resolved config (the run's identity for sweeps and catalogs); where
        results are also sent (`track`) is not part of what a run is."""
        blob = json.dumps(self.model_dump(mode="json", exclude={"track"}), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _drop_none(obj: Any) -> Any:
    """TOML has no null: omit None values (they are the defaults on reload)."""
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_drop_none(v) for v in obj]
    return obj


def parse_override(item: str) -> tuple[list[str], Any]:
    """Parse `a.b.c=value`; the value is read as TOML (numbers, bools, strings, lists)."""
    if "=" not in item:
        raise BadInput(f"--set {item!r}: expected KEY=VALUE, e.g. optim.lr=3e-4")
    key, raw = item.split("=", 1)
    path = [p for p in key.strip().split(".") if p]
    if not path:
        raise BadInput(f"--set {item!r}: empty key")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word such as sophia-g is a string
    return path, value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `--set` overrides to a raw config dict (a copy)."""
    out = json.loads(json.dumps(raw))
    for item in overrides:
        path, value = parse_override(item)
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise BadInput(f"--set {item!r}: {part!r} is not a table")
        node[path[-1]] = value
    return out


def _where(loc: tuple[int | str, ...]) -> str:
    # The data union's tag (`task`/`files`) is not a key the user wrote: leave it out.
    parts = [
        str(p) for i, p in enumerate(loc) if not (i == 1 and loc[0] == "data" and p in ("task", "files"))
    ]
    return ".".join(parts) or "<root>"


def validate(
    raw: dict[str, Any], source: str, *, base: Path | None = None, fallback: Path | None = None
) -> ExperimentConfig:
    """Validate a raw dict; all problems listed on one line, naming the source.

    Recorded data is resolved here: paths relative to `base`, each file's sha256, the vocabulary;
    `fallback` is a run's data/ folder holding copies when an original file has moved."""
    try:
        cfg = ExperimentConfig.model_validate(_task_file_resolved(raw, base))
    except ValidationError as e:
        problems = "; ".join(f"{_where(err['loc'])}: {err['msg']}" for err in e.errors())
        raise BadInput(f"{source}: invalid config: {problems}") from None
    cfg = resolve_init(cfg, base)
    if isinstance(cfg.data, RecordedSpec):
        return cfg.model_copy(update={"data": resolve(cfg.data, base, fallback)})
    # Catch an unknown task or option now, before anything is written.
    tasks.get(cfg.data.task, **cfg.data.options)
    if not any(s.name == "train" for s in cfg.data.splits):
        raise BadInput(f"{source}: data.splits needs a split named 'train'")
    return cfg


def _task_file_resolved(raw: dict[str, Any], base: Path | None) -> dict[str, Any]:
    """A pairs file named as `[data] task`, made absolute against the config's folder."""
    data = raw.get("data")
    if not isinstance(data, dict):
        return raw
    task = data.get("task")
    if base is None or not isinstance(task, str) or not is_pairs_file(task) or Path(task).is_absolute():
        return raw
    return {**raw, "data": {**data, "task": str((base / task).resolve())}}


def resolve_init(cfg: ExperimentConfig, base: Path | None = None) -> ExperimentConfig:
    """`train.init_from` as an absolute path with the sha256 of its latest verified weights.

    A config that already records the sha256 is left alone (reading a finished run must not need
    its base); training checks the base still holds those weights."""
    tc = cfg.train
    if tc.init_from is None or tc.init_sha256 is not None:
        return cfg
    path = Path(tc.init_from).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    entry = checkpoint.latest_entry(path / CHECKPOINTS) if path.is_dir() else None
    if entry is None:
        raise BadInput(f"train.init_from {path}: not a training run with a checkpoint")
    checkpoint.verify(path / CHECKPOINTS, entry)
    pinned = {"init_from": str(path.resolve()), "init_sha256": entry["files"][MODEL_WEIGHTS]}
    return cfg.model_copy(update={"train": tc.model_copy(update=pinned)})


def load_config(path: Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """Read, override and validate a TOML experiment config (data paths relative to its folder)."""
    raw = read_toml(path, "config file")
    return validate(apply_overrides(raw, overrides or []), str(path), base=path.parent)
