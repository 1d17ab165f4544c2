"""The main job (`behaviorlab demo`): its configs, its jobs, its summary and report."""

from behaviorlab.demo.run import run_demo

__all__ = ["run_demo"]
