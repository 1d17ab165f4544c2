"""A config's data as examples — sampled from a task or read from recorded files — and a run's
data/ folder, which holds every split a run trained and was evaluated on."""

from __future__ import annotations

from pathlib import Path

from behaviorlab import tasks
from behaviorlab.rundir import DATA
from behaviorlab.tasks import Example, Task
from behaviorlab.tasks.dataset import DatasetSpec, build_splits, write_splits
from behaviorlab.tasks.recorded import RecordedSpec, RecordedTask, copy_into, load, read_pairs

DataSpec = DatasetSpec | RecordedSpec


def make_task(data: DataSpec) -> Task | RecordedTask:
    """The task a config samples from, or recorded data's stand-in (key and vocabulary)."""
    if isinstance(data, RecordedSpec):
        return data.make_task()
    return tasks.get(data.task, **data.options)


def task_name(data: DataSpec) -> str:
    """The task's registry name (`recorded` for recorded data)."""
    return RecordedTask.name if isinstance(data, RecordedSpec) else data.task


def write_data(data: DataSpec, splits: dict[str, list[Example]], run_dir: Path) -> None:
    """Every split into RUN/data/: task splits as Parquet, recorded files copied byte for byte."""
    out = run_dir / DATA
    if isinstance(data, RecordedSpec):
        copy_into(data, out, fallback=out)
    else:
        write_splits(splits, out, data, force=True)


def sample(data: DataSpec) -> dict[str, list[Example]]:
    """Every split, in memory: task splits are a pure function of the config (so a resume
    rebuilds them rather than trusting files a killed process left), recorded ones are read."""
    return load(data) if isinstance(data, RecordedSpec) else build_splits(data)


def read_splits(run_dir: Path) -> dict[str, list[Example]]:
    """The splits a run recorded in its data/ folder, by name."""
    return {p.stem: read_pairs(p) for p in sorted((run_dir / DATA).glob("*.parquet"))}


def test_split_names(data: DataSpec) -> list[str]:
    """The non-empty splits besides train, in config order."""
    if isinstance(data, RecordedSpec):
        return [s for s in data.files if s != "train"]
    return [s.name for s in data.splits if s.name != "train" and s.n > 0]
