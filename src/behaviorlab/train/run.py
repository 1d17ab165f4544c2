"""A training run's directory: creating it (never over something that is not a run), reading its
config back, and opening a finished run with its model for evaluation or analysis."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from behaviorlab.errors import BadInput
from behaviorlab.models import Seq2SeqModel, build_model
from behaviorlab.outdir import resuming
from behaviorlab.rundir import CHECKPOINTS, CONFIG, DATA, RunDir, is_run, read_toml, replace_output_dir
from behaviorlab.tasks import Example, Task
from behaviorlab.tasks.base import Learnable
from behaviorlab.tasks.recorded import RecordedTask
from behaviorlab.train import checkpoint
from behaviorlab.train.config import ExperimentConfig, validate
from behaviorlab.train.data import make_task, read_splits


def prepare(out: Path, cfg: ExperimentConfig, *, resume: bool, force: bool) -> None:
    """Create (or, on resume, check) a run directory; nothing is written for a refused run.

    `force` replaces an existing *run* directory only; any other non-empty folder is refused.
    Either way the directory is locked for this process (see `rundir.lock`)."""
    if resume:
        if not (out / CONFIG).is_file():
            raise BadInput(f"{out}: --resume needs an existing run directory with {CONFIG}")
        with resuming(out):
            if read_config(out).digest() != cfg.digest():
                raise BadInput(f"{out}: --resume with a config that differs from the recorded one")
        return
    replace_output_dir(out, force, is_run, "a behaviorlab run directory", {CONFIG: cfg.to_toml()})


def holds_run_of(path: Path, cfg: ExperimentConfig) -> bool:
    """True when `path` is a run directory of exactly this config (a partial one resumes)."""
    return (path / CONFIG).is_file() and read_config(path).digest() == cfg.digest()


def read_config(run_dir: Path) -> ExperimentConfig:
    """The resolved config recorded in a training run's directory."""
    path = run_dir / CONFIG
    if not path.is_file():
        raise BadInput(f"{run_dir}: not a run directory (no {CONFIG})")
    return validate(read_toml(path), str(path), fallback=run_dir / DATA)


def config_of(run: RunDir) -> ExperimentConfig:
    """The resolved config of a training run already opened (its config.toml read once)."""
    if not run.config_text:
        raise BadInput(f"{run.path}: not a run directory (no {CONFIG})")
    return validate(run.config, str(run.file(CONFIG)), fallback=run.file(DATA))


@dataclass
class Run:
    """A finished (or checkpointed) run, opened for evaluation or analysis."""

    path: Path
    config: ExperimentConfig
    task: Task | RecordedTask
    model: Seq2SeqModel
    splits: dict[str, list[Example]]

    def task_for(self, purpose: str) -> Task:
        """The run's task, for analyses that need its reference and sampler (BadInput otherwise)."""
        if not isinstance(self.task, Task):
            raise BadInput(
                f"{self.path}: {purpose} needs a run trained on a task; this one learned recorded data"
            )
        return self.task


def new_model(cfg: ExperimentConfig, task: Learnable) -> Seq2SeqModel:
    """The model a config describes, freshly initialised."""
    v = task.vocab
    return build_model(cfg.model, len(v), v.pad_id, v.bos_id, v.eos_id)


def open_run(run_dir: Path) -> Run:
    """Load a training run's config, task, data splits and latest verified weights."""
    run = RunDir.open(run_dir)
    if run.kind != "train":
        raise BadInput(f"{run_dir}: a {run.kind} run has no trained model")
    return load_run(run, read_config(run_dir))


def load_run(run: RunDir, cfg: ExperimentConfig) -> Run:
    """A training run already opened, with its config: task, data splits and verified weights."""
    run_dir = run.path
    task = make_task(cfg.data)
    if not (run_dir / DATA).is_dir():
        raise BadInput(f"{run_dir}: no {DATA}/ folder (was the run started?)")
    model = new_model(cfg, task)
    model.load_state_dict(checkpoint.load_weights(run_dir / CHECKPOINTS))
    model.eval()
    return Run(run_dir, cfg, task, model, read_splits(run_dir))
