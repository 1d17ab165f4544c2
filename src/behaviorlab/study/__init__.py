"""Multi-run studies on the sweep backends: the recursion study's grid, cells across seeds, claims."""

from behaviorlab.study.run import run_study

__all__ = ["run_study"]
