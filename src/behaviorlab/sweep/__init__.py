"""Sweeps: expand a base config over a grid/list of overrides and run it locally or on Ray."""

from behaviorlab.sweep.backends import BACKENDS
from behaviorlab.sweep.runner import SWEEP_JSON, run_sweep
from behaviorlab.sweep.spec import Sweep, SweepRun, load_sweep

__all__ = ["BACKENDS", "SWEEP_JSON", "Sweep", "SweepRun", "load_sweep", "run_sweep"]
