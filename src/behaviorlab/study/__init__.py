"""Multi-run studies on the sweep backends: the recursion study's grid, cells across seeds, claims."""

from behaviorlab.study.run import claims_table, run_study, study_cells

__all__ = ["claims_table", "run_study", "study_cells"]
