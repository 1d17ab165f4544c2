"""MLflow: one MLflow run per behaviorlab run, through the tracking client (optional extra
`behaviorlab[track]`: mlflow-skinny with SQLAlchemy; imported only when the sink is opened).

The store is `mlflow_uri`, else $MLFLOW_TRACKING_URI, else a SQLite file beside the run
(`sqlite:///…/mlflow.db`, MLflow's own default backend since 3.7)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.rundir import MLFLOW_DB


def safe_name(name: str) -> str:
    """A metric or file name MLflow accepts (letters, digits, _ - . / and spaces)."""
    return re.sub(r"[^\w\-./ ]", "_", name)


def _own_store(path: Path) -> Path:
    """The default store beside the run: new, or an MLflow store already (its schema's tables);
    any other file of that name is someone else's and is never migrated into one."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise BadInput(f"{path}: not a plain file; refusing to use it as the MLflow store")
    if path.exists():
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError:
            tables = set()
        if not {"alembic_version", "experiments", "runs"} <= tables:
            raise BadInput(f"{path}: exists and is not an MLflow store; refusing to write into it")
    return path


class MlflowSink:
    """Metrics by step, tables as JSON artifacts, files as artifacts of one MLflow run."""

    def __init__(self, run_dir: Path, run: str, options: Mapping[str, Any]) -> None:
        from mlflow.tracking import MlflowClient

        self.uri = options.get("mlflow_uri") or os.environ.get("MLFLOW_TRACKING_URI")
        artifacts: str | None = None
        if not self.uri:
            store = _own_store(run_dir.parent / MLFLOW_DB).resolve()
            self.uri = f"sqlite:///{store}"
            # MLflow's default artifact root is ./mlruns under the *working directory*; our own
            # store keeps its artifacts beside it, so a run never writes where it was started.
            artifacts = (store.parent / "mlartifacts").as_uri()
        self.client = MlflowClient(tracking_uri=self.uri)
        name = options.get("experiment") or "behaviorlab"
        found = self.client.get_experiment_by_name(name)
        experiment = (
            found.experiment_id
            if found is not None
            else self.client.create_experiment(name, artifact_location=artifacts)
        )
        self.run_id = self.client.create_run(
            experiment, run_name=run, tags={"behaviorlab.run_dir": str(run_dir)}
        ).info.run_id

    def log_scalar(self, name: str, value: float, step: int) -> None:
        self.client.log_metric(self.run_id, safe_name(name), value, step=step)

    def log_table(self, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        with tempfile.TemporaryDirectory(prefix="behaviorlab-mlflow-") as tmp:
            path = Path(tmp) / f"{safe_name(name).replace('/', '-')}.json"
            path.write_text(json.dumps(list(rows), default=str, indent=1))
            self.client.log_artifact(self.run_id, str(path), artifact_path="tables")

    def log_artifact(self, path: Path) -> None:
        self.client.log_artifact(self.run_id, str(path))

    def close(self) -> None:
        self.client.set_terminated(self.run_id)
