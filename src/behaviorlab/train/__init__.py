"""Training: configs, the deterministic loop, checkpoints, run directories, evaluation of a run."""

from behaviorlab.train.config import ExperimentConfig, TrainConfig, load_config
from behaviorlab.train.evaluation import evaluate_run
from behaviorlab.train.loop import TrainingFailed, train
from behaviorlab.train.rundir import Run, open_run

__all__ = [
    "ExperimentConfig",
    "Run",
    "TrainConfig",
    "TrainingFailed",
    "evaluate_run",
    "load_config",
    "open_run",
    "train",
]
