"""Imitation experiments: a teacher's outputs fine-tune weaker students; content, style and
algorithm compared side by side (`run_experiment`, configs in `config.py`)."""

from behaviorlab.imitation.config import ImitationConfig, load_config, validate
from behaviorlab.imitation.experiment import run_experiment
from behaviorlab.jobs import in_process

__all__ = ["ImitationConfig", "in_process", "load_config", "run_experiment", "validate"]
