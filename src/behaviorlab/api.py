"""The notebook API: `behaviorlab.open(RUN)` and `behaviorlab.runs()`; tables come back as pandas
DataFrames (built from the run's Arrow/Parquet data where it exists), figures as plotly figures.

    run = behaviorlab.open("runs/demo/binary-successor-natural")
    run.head_scores().head()          # DataFrame: kind, layer, head, hypothesis, score, baseline, ...
    run.failures(split="test_ood")    # DataFrame: the failure catalog from predictions.parquet
    behaviorlab.runs()                # DataFrame: the catalog
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from behaviorlab.errors import BadInput
from behaviorlab.io import read_parquet
from behaviorlab.rundir import METRICS, METRICS_LOG, PREDICTIONS, RunDir
from behaviorlab.store.catalog import resolve_catalog

if TYPE_CHECKING:  # torch-heavy; imported when a run is opened
    from behaviorlab.interpret.ablate import Component
    from behaviorlab.interpret.attention import AttentionMap
    from behaviorlab.interpret.edits import Perturbation
    from behaviorlab.interpret.hypotheses import Hypothesis
    from behaviorlab.interpret.notebook import InterpretRun

# Per-token lists are large and rarely wanted in a table view.
_HEAVY = ("tokens", "logprobs")


def _frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows))


def _parquet(path: Path, drop: Sequence[str] = ()) -> pd.DataFrame:
    if not path.is_file():
        raise BadInput(f"{path}: missing (evaluate the run first: behaviorlab eval {path.parent})")
    return read_parquet(path, drop=drop).to_pandas()  # the heavy columns are never read


class NotebookRun:
    """A run opened in a notebook: its model, data and every analysis; tables as DataFrames.

    `.analysis` is the underlying `InterpretRun` (lists of dicts, attention maps, caches)."""

    def __init__(self, analysis: InterpretRun) -> None:
        self.analysis = analysis

    def __repr__(self) -> str:
        return f"<behaviorlab run {self.path}>"

    @property
    def path(self) -> Path:
        """The run directory."""
        return Path(self.analysis.path)

    @property
    def model(self) -> Any:
        """The trained model (a hooked torch module)."""
        return self.analysis.model

    @property
    def task(self) -> Any:
        """The task it learned (reference `solve`, `sample`, `parse`)."""
        return self.analysis.task

    def predictions(self, split: str | None = None, tokens: bool = False) -> pd.DataFrame:
        """predictions.parquet (optionally one split; per-token lists only with `tokens`)."""
        df = _parquet(self.path / PREDICTIONS, () if tokens else _HEAVY)
        return df if split is None else df[df["split"] == split].reset_index(drop=True)

    def failures(self, split: str | None = None) -> pd.DataFrame:
        """The failure catalog: every wrong prediction with its first wrong token and metadata."""
        df = self.predictions(split)
        return df[~df["correct"]].reset_index(drop=True)

    def metrics(self) -> pd.DataFrame:
        """metrics.parquet (the journal while the run trains): loss, accuracy, lr and optimizer
        statistics by step for the monitor split, and the accuracy curves of the other splits."""
        from behaviorlab.track import read_metrics

        if (self.path / METRICS_LOG).is_file() and not (self.path / METRICS).is_file():
            return pd.DataFrame.from_records(read_metrics(self.path))
        return _parquet(self.path / METRICS)

    def head_scores(
        self, split: str = "test_id", n: int = 200, hypotheses: Sequence[Hypothesis] | None = None
    ) -> pd.DataFrame:
        """Every head scored against every hypothesis (the study's by default), best first per
        hypothesis: kind, layer, head, hypothesis, score, baseline (uniform attention), n."""
        if hypotheses is None:
            return _frame(self.analysis.head_scores(split=split, n=n))
        return _frame(self.analysis.head_scores(hypotheses, split=split, n=n))

    def recursion_heads(self, threshold: float = 0.4, ratio: float = 2.0) -> pd.DataFrame:
        """Final-decoder-layer heads that score >= `threshold` and >= `ratio` × their baseline on
        a study hypothesis."""
        return _frame(self.analysis.recursion_heads(threshold=threshold, ratio=ratio))

    def ablate(
        self,
        components: Sequence[Component | Sequence[Component]] | None = None,
        method: str = "zero",
        split: str = "test_id",
        n: int = 200,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Accuracy drop per ablated component (default: every head and MLP); `method` is zero,
        mean or resample."""
        return _frame(self.analysis.ablate(components, method=method, split=split, n=n, seed=seed))

    def perturb(
        self,
        perturbations: Sequence[Perturbation] | None = None,
        n_random: int = 4,
        split: str = "test_id",
        n: int = 200,
        seed: int = 0,
    ) -> pd.DataFrame:
        """One row per (input × perturbation): changed, followed the edit, still correct (random
        token edits, `n_random` per input, unless `perturbations` are given)."""
        rows = self.analysis.perturb(perturbations, n_random=n_random, split=split, n=n, seed=seed)
        return _frame(rows)

    def patch(
        self,
        components: Sequence[Component] | None = None,
        mode: str = "teacher",
        split: str = "test_id",
        n: int = 200,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Activation patching rows over (clean, corrupted) pairs drawn from a split; `mode` is
        teacher (teacher-forced) or generate."""
        return _frame(self.analysis.patch(components, mode=mode, split=split, n=n, seed=seed))

    def attention(
        self,
        group_by: str | None = None,
        kinds: Sequence[str] | None = None,
        layers: Sequence[int] | None = None,
        split: str = "test_id",
        n: int = 200,
    ) -> list[AttentionMap]:
        """Attention maps averaged over `n` inputs (grouped by a metadata field when given), one
        per head; each has `.figure()` (plotly, positions on both axes) and `.to_dict()`."""
        return self.analysis.attention(group_by=group_by, kinds=kinds, layers=layers, split=split, n=n)

    def __getattr__(self, name: str) -> Any:
        # Everything else (cache, examples, ablation_confirmation, figures) as InterpretRun has it.
        return getattr(self.analysis, name)


def open(path: str | Path) -> NotebookRun:  # noqa: A001 - `behaviorlab.open(RUN_DIR)` is the entry
    """Open a training run for analysis in a notebook."""
    from behaviorlab.interpret.notebook import open_run

    return NotebookRun(open_run(Path(path)))


def runs(catalog: str | Path | None = None, kind: str | None = None) -> pd.DataFrame:
    """The run catalog as a DataFrame (newest first); `kind` keeps one kind (train, probe, ...).

    `catalog` is a catalog.sqlite, or a file `behaviorlab runs export` wrote (.csv or .parquet):
    both give the same frame."""
    from behaviorlab.store.export import catalog_table, read_exported

    path = None if catalog is None else Path(catalog)
    if path is not None and path.suffix.lower() in (".csv", ".parquet"):
        df = read_exported(path).to_pandas()
    else:
        df = catalog_table(resolve_catalog(path)).to_pandas()
    if kind is not None and not df.empty:
        df = df[df["kind"] == kind].reset_index(drop=True)
    return df


def summary(path: str | Path) -> dict[str, Any]:
    """A run's summary.json (any kind)."""
    return RunDir.open(Path(path)).summary
