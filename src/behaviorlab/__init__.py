"""behaviorlab: what has a generative model actually learned, and where will it fail?

The notebook entry points (each imports what it needs when called; `help(behaviorlab.open)`):

    run = behaviorlab.open("runs/demo/binary-successor-natural")  # a trained run; tables as DataFrames
    behaviorlab.runs()                                    # the run catalog as a DataFrame
    t = behaviorlab.task("binary-successor", order="natural")   # a task: solve, sample, parse
    m = behaviorlab.load("smollm2")                       # any model as a TextModel (hf:, gguf:, run:)
    r = behaviorlab.explain("runs/demo/binary-successor-natural")  # the shortcut program behind it
    behaviorlab.probe(["smollm2"], "runs/probes")         # black-box probes, results.json's content
    behaviorlab.report("runs/demo")                       # the self-contained HTML report
"""

from __future__ import annotations

__version__ = "0.1.0"

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from behaviorlab.api import NotebookRun
    from behaviorlab.lm import TextModel
    from behaviorlab.metamodels.result import ExplainResult
    from behaviorlab.tasks import Task

__all__ = ["explain", "load", "open", "probe", "report", "runs", "summary", "task"]


def open(path: str | Path) -> NotebookRun:  # noqa: A001 - `behaviorlab.open(RUN_DIR)` is the notebook entry
    """Open a training run for analysis in a notebook: its model, task, data and every analysis
    (attention, head scores, ablation, patching, perturbation) with tables as DataFrames."""
    from behaviorlab.api import open as _open

    return _open(path)


def runs(catalog: str | Path | None = None, kind: str | None = None) -> pd.DataFrame:
    """The run catalog (a catalog.sqlite, or a file `behaviorlab runs export` wrote) as a pandas
    DataFrame, newest first; `kind` keeps one kind (train, probe, imitation)."""
    from behaviorlab.api import runs as _runs

    return _runs(catalog, kind)


def summary(path: str | Path) -> dict[str, Any]:
    """A run directory's summary.json (any kind): status and headline numbers."""
    from behaviorlab.api import summary as _summary

    return _summary(path)


def task(name: str, order: str | None = None, steps: str | None = None) -> Task:
    """A task by name (`behaviorlab tasks list`): its reference `solve`, `sample`, `parse`;
    `order` for binary-successor (natural, reverse), `steps` for the tree tasks (1, 2, 3, all)."""
    from behaviorlab import tasks

    return tasks.get(name, order=order, steps=steps)


def load(spec: str) -> TextModel:
    """Any model as a `TextModel` (generate, score, tokenize): `run:DIR` or a run directory,
    `hf:DIR`, `gguf:FILE`, or the alias `smollm2`. Nothing is downloaded."""
    from behaviorlab import lm

    return lm.load(spec)


def explain(
    run_dir: str | Path, *, queries: int | None = None, check: int | None = None, seed: int = 0
) -> ExplainResult:
    """The shortcut program behind a trained, evaluated run and how well it predicts the run's
    failures (writes RUN/analysis/metamodel.json); `queries` and `check` as `behaviorlab explain`."""
    from behaviorlab.metamodels.on_run import explain_run

    return explain_run(Path(run_dir), seed=seed, queries=queries, check=check)


def probe(
    models: Sequence[str],
    out: str | Path,
    *,
    probes: Sequence[str] | None = None,
    n: int | None = None,
    seed: int = 0,
    force: bool = False,
) -> dict[str, Any]:
    """The black-box probes on every model (specs as `load` takes them) into the probe run
    directory `out`; returns results.json's content. `n` caps the items per condition."""
    from behaviorlab.probes import run_probes

    return run_probes(list(models), Path(out), probes=probes, limit=n, seed=seed, force=force)


def report(path: str | Path, out: str | Path | None = None) -> Path:
    """Write the self-contained HTML report of a run of any kind, a demo, sweep or study (PATH/
    report.html unless `out`), with PNG copies of its figures; returns the page's path."""
    from behaviorlab.report import render_report

    return render_report(Path(path), None if out is None else Path(out))


# The modules a notebook reaches into besides the entry points above.
MODULES = ["lm", "results", "stats", "tasks"]


def __dir__() -> list[str]:
    return sorted([*__all__, *MODULES, "__version__"])
