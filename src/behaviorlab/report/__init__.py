"""Self-contained HTML reports (inline plotly.js; every figure also as PNG) for a run directory,
or a demo/sweep directory as one comparison page. Files read from RUN_DIR/analysis/ are listed in
`behaviorlab.report.analysis`."""

from behaviorlab.report.analysis import ANALYSIS_FILES
from behaviorlab.report.render import build_report, render_report

__all__ = ["ANALYSIS_FILES", "build_report", "render_report"]
