"""Self-contained HTML reports (inline plotly.js; every figure also as PNG) for a run directory,
or a demo/sweep directory as one comparison page. Files read from RUN_DIR/analysis/ are listed in
`behaviorlab.report.analysis`."""

import sys
import types
from pathlib import Path

from behaviorlab.report.analysis import ANALYSIS_FILES
from behaviorlab.report.render import build_report, render_report

__all__ = ["ANALYSIS_FILES", "build_report", "render_report"]


class _CallablePackage(types.ModuleType):
    """This package, callable as the notebook entry point `behaviorlab.report(PATH)`: once the
    package is imported Python sets it as `behaviorlab.report`, replacing the entry function of
    that name, and a second `behaviorlab.report(PATH)` in a notebook would call a module."""

    def __call__(self, path: str | Path, out: str | Path | None = None) -> Path:
        """Write the self-contained HTML report of a run of any kind, a demo, sweep or study
        (PATH/report.html unless `out`), with PNG copies of its figures; returns the page's path."""
        return render_report(Path(path), None if out is None else Path(out))


sys.modules[__name__].__class__ = _CallablePackage
