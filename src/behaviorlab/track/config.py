"""`[track]`: where results go besides the run directory, and which splits training curves show.

Nothing here changes what a run learns, so a config's digest (its identity) leaves it out."""

from __future__ import annotations

from pydantic import Field

from behaviorlab.validate import Strict


class TrackConfig(Strict):
    """Optional results sinks (registry kind `sink`: tensorboard, mlflow, csv, parquet, or a
    plugin's) and the accuracy curves training logs at every evaluation."""

    sinks: list[str] = Field(default_factory=list)
    # Where a sink writes: TensorBoard event files and CSV/Parquet tables go to DIR/RUN_NAME
    # (default: the run directory's tensorboard/ or tables/ folder).
    dir: str | None = None
    # MLflow's tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db beside the run,
    # its artifacts in mlartifacts/ beside that).
    mlflow_uri: str | None = None
    experiment: str | None = None  # MLflow experiment (default: "behaviorlab")
    # Splits whose exact-match accuracy is logged at every evaluation beside the monitor split's
    # (None: every split but the monitor's; [] none), each capped at train.eval_examples examples.
    curves: list[str] | None = None
