"""The notebook API returns tables as pandas DataFrames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import behaviorlab
from behaviorlab.store import record
from behaviorlab.train import evaluate_run, train
from behaviorlab.train.config import validate


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import TINY

    out = tmp_path_factory.mktemp("api") / "run"
    train(validate(TINY, "tiny"), out, progress=False)
    evaluate_run(out)
    record(out)
    return out


def test_tables_are_dataframes(run_dir: Path) -> None:
    run: Any = behaviorlab.open(run_dir)
    preds = run.predictions()
    assert isinstance(preds, pd.DataFrame) and "logprobs" not in preds and len(preds) == 80
    fails = run.failures("test_ood")
    assert (
        isinstance(fails, pd.DataFrame) and not fails["correct"].any() and set(fails["split"]) <= {"test_ood"}
    )
    metrics = run.metrics()
    assert list(metrics[metrics["split"] == "train"]["step"]) == [10, 20, 30]
    assert set(metrics["split"]) == {"train", "test_id", "test_ood"}  # ID and OOD curves
    scores = run.head_scores(split="train", n=10)
    assert isinstance(scores, pd.DataFrame) and {"kind", "layer", "head", "hypothesis", "score"} <= set(
        scores
    )
    catalog = behaviorlab.runs(run_dir.parent / "catalog.sqlite")
    assert isinstance(catalog, pd.DataFrame) and list(catalog["kind"]) == ["train"]
    assert behaviorlab.runs(run_dir.parent / "catalog.sqlite", kind="probe").empty


def _typed(fn: Any, where: str) -> None:
    """A public callable a notebook reaches: a docstring, no `*args`/`**kw`, every parameter and
    the return annotated (so `help()` and tab completion show what it takes)."""
    import inspect

    sig = inspect.signature(fn)
    assert (fn.__doc__ or "").strip(), f"{where}: no docstring"
    for p in sig.parameters.values():
        assert p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD), f"{where}{sig}: takes *args/**kw"
        assert p.name == "self" or p.annotation is not p.empty, f"{where}: {p.name} has no type"
    assert sig.return_annotation is not sig.empty, f"{where}: no return type"


def test_dir_shows_the_notebook_entry_points_typed_and_documented() -> None:
    """`dir(behaviorlab)` used to show only `open` and `runs`, and notebook methods read
    `(*args, **kw)`: every entry point and every public NotebookRun method now has a typed
    signature and a docstring, and dir() lists them."""
    import inspect

    from behaviorlab.api import NotebookRun

    shown = [n for n in dir(behaviorlab) if not n.startswith("_")]
    entry = {"open", "runs", "task", "load", "explain", "probe", "report", "summary"}
    assert entry <= set(shown) and set(behaviorlab.__all__) == entry, shown
    for name in sorted(entry):
        _typed(getattr(behaviorlab, name), f"behaviorlab.{name}")
        assert f"behaviorlab.{name}(" in (behaviorlab.__doc__ or "") or name == "summary", name
    methods = [n for n, f in inspect.getmembers(NotebookRun, inspect.isfunction) if not n.startswith("_")]
    analyses = {"attention", "head_scores", "ablate", "patch", "perturb", "predictions", "metrics"}
    assert analyses <= set(methods)
    for name in methods:
        _typed(getattr(NotebookRun, name), f"NotebookRun.{name}")


def test_report_stays_callable_after_the_report_package_is_imported(run_dir: Path) -> None:
    """`behaviorlab.report(PATH)` imports the package `behaviorlab.report`, which Python then sets
    as the attribute `behaviorlab.report` in place of the entry function: a second call in the same
    notebook called a module. The package is callable the same way, with a typed signature."""
    import importlib

    importlib.import_module("behaviorlab.report")
    first = behaviorlab.report(run_dir)
    again = behaviorlab.report(run_dir, run_dir / "again.html")
    assert first == run_dir / "report.html" and again == run_dir / "again.html" and again.is_file()
    _typed(behaviorlab.report, "behaviorlab.report (the package)")
