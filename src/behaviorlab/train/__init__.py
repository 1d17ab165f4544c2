"""Training: configs, the deterministic loop (one process or many), checkpoints, evaluation."""

from behaviorlab.train.config import ExperimentConfig, TrainConfig, load_config
from behaviorlab.train.evaluation import evaluate_run
from behaviorlab.train.loop import train
from behaviorlab.train.phases import TrainingFailed
from behaviorlab.train.run import Run, open_run

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
