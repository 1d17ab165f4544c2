"""Where results go besides the run directory: the results sinks (TensorBoard, MLflow, CSV and
Parquet tables, or a plugin's), the training metrics journal, and exports of finished runs."""

from behaviorlab.track.base import Sink, Tracker, open_tracker, warn
from behaviorlab.track.config import TrackConfig
from behaviorlab.track.export import check_sinks, export_runs, record_into, send_run
from behaviorlab.track.record import MetricsJournal, read_metrics, write_metrics

__all__ = [
    "check_sinks",
    "send_run",
    "export_runs",
    "record_into",
    "MetricsJournal",
    "Sink",
    "TrackConfig",
    "Tracker",
    "open_tracker",
    "read_metrics",
    "warn",
    "write_metrics",
]
