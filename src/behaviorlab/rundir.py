"""The run directory: every file name in one place, and `RunDir`, a run of any kind read once.

A run directory is self-describing: `summary.json` says its `kind` (train, probe, imitation, …)
and `status`, `config.toml` holds the resolved config. Reading a run for a catalog row, a report
or `runs list` goes through `RunDir` and imports no torch: only the standard library here.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json, atomic_write_text, read_toml, sha256_file

# Files and folders of a run directory.
CONFIG = "config.toml"  # the resolved config, every default written out
ENV = "env.json"  # versions, platform, seeds, threads, determinism flags, code revision
SUMMARY = "summary.json"  # kind, status and the headline numbers
METRICS = "metrics.parquet"  # step, split, loss, accuracy, lr, optimizer statistics
METRICS_LOG = "metrics.jsonl"  # the same rows, appended as training logs them (metrics.parquet at the end)
PREDICTIONS = "predictions.parquet"  # every answer with per-token log-probs
RESULTS = "results.json"  # a probe's or an imitation experiment's tables
OUTPUTS = "outputs.parquet"  # a probe run's every generation (prompt, output, tokens, log-probs)
PARTS = "parts"  # a probe run's finished model x probe parts (resume skips them)
DATA = "data"  # the splits, one Parquet file each
CHECKPOINTS = "checkpoints"  # step-N/{model,optimizer,rng}.safetensors + manifest.json
MANIFEST = "manifest.json"  # in checkpoints/: every checkpoint's files with their sha256
ANALYSIS = "analysis"  # what explain / interpret write (JSON, Parquet, text)
REPORT = "report.html"  # the self-contained report
FIGURES = "figures"  # the report's figures as PNG
# What the optional results sinks write (track/): in the run directory, or an export's folder.
TENSORBOARD = "tensorboard"  # TensorBoard event files
TABLES = "tables"  # the csv / parquet sinks' tables
MLFLOW_DB = "mlflow.db"  # the default MLflow store, beside the runs
# In a checkpoint's step-N/ folder.
MODEL_WEIGHTS = "model.safetensors"
OPTIMIZER_STATE = "optimizer.safetensors"
RNG_STATE = "rng.safetensors"
TRAINER = "trainer.json"  # the loop's state (step, counters, metrics rows so far)
# In analysis/: what each analysis writes (the report reads them by these names).
ATTENTION = "attention.json"  # averaged attention maps
HEAD_SCORES = "head_scores.json"  # every head against every hypothesis
METAMODEL = "metamodel.json"  # the shortcut program and its numbers (explain)
METAMODEL_TEXT = "metamodel.txt"  # the same program as text
PERTURBATION = "perturbation.json"
ABLATION = "ablation.json"
PATCHING = "patching.json"
CACHE = "cache.safetensors"  # an activation cache
CACHE_SUMMARY = "cache_summary.parquet"
SAMPLES = "samples.json"  # a language model's continuations (lm-samples)
STUDY_ROW = "study_row.json"  # a study run's finished row (a resumed study skips the run)
IMITATION_EVAL = "imitation-eval.json"  # a student's answers on the evaluation queries
# In an imitation run: its training runs, answers and their training data.
IMITATION_TEACHER = "teacher"  # the synthetic teacher's training run
IMITATION_BASES = "bases"  # one training run per base size
IMITATION_STUDENTS = "students"  # one training run per student
IMITATION_HF = "hf-student"  # the fine-tuned Hugging Face student
IMITATION_OUTPUTS = "outputs"  # the teacher's answers (TEACHER_ANSWERS)
TEACHER_ANSWERS = "teacher.json"
BASE_DATA = "base-data"
TEACHER_DATA = "teacher-data"
# Files of a collection (a folder of runs): a sweep's table, a demo's or study's summary.
SWEEP = "sweep.json"
STUDY = "study.json"  # a study's cells across seeds and its claims
STUDY_MD = "STUDY.md"
SUMMARY_MD = "SUMMARY.md"  # a demo's summary as Markdown
DEMO_PROBES = "probes"  # a demo's probe run
STUDY_MARKER = ".study"  # a study folder before its study.json exists
STUDY_SESSIONS = "study_sessions.json"  # each invocation of a study: wall time, runs, load
CATALOG = "catalog.sqlite"  # the run catalog beside the runs
CORPUS_MANIFEST = "corpus.json"  # a built language-modelling corpus: its sources and counts

RUN_MARKERS = (CONFIG, SUMMARY, METRICS, PREDICTIONS)

Kind = Literal["train", "probe", "imitation"]
KINDS: tuple[str, ...] = ("train", "probe", "imitation")
Status = Literal["created", "running", "trained", "stopped", "complete", "failed", "interrupted"]


def split_file(folder: Path, split: str) -> Path:
    """A split's Parquet file in a data folder (a run's data/, a dataset build's output)."""
    return folder / f"{split}.parquet"


def figure_file(folder: Path, key: str) -> Path:
    """A report figure's PNG by its key."""
    return folder / f"{key}.png"


def part_files(out: Path, index: int, name: str) -> tuple[Path, Path]:
    """A probe run's finished part (model `index` x probe `name`): its rows and its result."""
    stem = out / PARTS / f"{index:02d}-{name}"
    return stem.with_suffix(".parquet"), stem.with_suffix(".json")


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file that must hold an object; BadInput names the file otherwise."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise BadInput(f"{path}: expected a JSON object, found {type(obj).__name__}")
    return obj


def is_run(path: Path) -> bool:
    """True when `path` is a directory holding at least one run file."""
    return path.is_dir() and any((path / m).exists() for m in RUN_MARKERS)


@dataclass
class RunDir:
    """A run directory opened for reading: its kind, resolved config (as data) and summary."""

    path: Path
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    config_text: str | None = None

    @classmethod
    def open(cls, path: Path) -> RunDir:
        """Read config.toml and summary.json once; BadInput when `path` is not a run directory."""
        path = Path(path)
        if not is_run(path):
            raise BadInput(f"{path}: not a run directory (none of {', '.join(RUN_MARKERS)})")
        summary = read_json_object(path / SUMMARY) if (path / SUMMARY).is_file() else {}
        config_text, config = None, {}
        if (path / CONFIG).is_file():
            config = read_toml(path / CONFIG)
            config_text = (path / CONFIG).read_text(encoding="utf-8")  # decodes: read_toml did
        # Runs written before kinds existed are training runs.
        kind = str(summary.get("kind") or config.get("kind") or "train")
        if kind not in KINDS:
            raise BadInput(f"{path / SUMMARY}: unknown run kind {kind!r}; expected one of {', '.join(KINDS)}")
        return cls(path, kind, config, summary, config_text)

    def file(self, name: str) -> Path:
        """A file or folder of this run by its name (one of the constants above)."""
        return self.path / name

    @property
    def name(self) -> str:
        """The run's name: summary, then config, then the folder name."""
        return str(self.summary.get("name") or self.config.get("name") or self.path.name)

    @property
    def status(self) -> str:
        """created / running / trained / stopped / complete / failed / interrupted."""
        return str(self.summary.get("status", "created"))

    @property
    def task(self) -> str | None:
        """The task key a training run learned (None for runs without one)."""
        data = self.config.get("data", {})
        task = self.summary.get("task") or (data.get("task") if isinstance(data, dict) else None)
        return None if task is None else str(task)

    def env(self) -> dict[str, Any]:
        """env.json, or {} when absent."""
        path = self.file(ENV)
        return read_json_object(path) if path.is_file() else {}

    def section(self, name: str) -> dict[str, Any]:
        """A table of the config (`optim`, `train`, …), {} when absent."""
        value = self.config.get(name, {})
        return value if isinstance(value, dict) else {}

    def checkpoints(self) -> list[dict[str, Any]]:
        """The manifest's checkpoint entries, oldest first ([] when there is none)."""
        return list(read_manifest(self.path / CHECKPOINTS)["checkpoints"])

    def checkpoint_problems(self) -> list[tuple[str, str]]:
        """(file, problem) for every checkpoint file missing or not matching its sha256."""
        return checkpoint_problems(self.path)

    def reload(self) -> RunDir:
        """The same directory read again (after a writer changed it)."""
        return RunDir.open(self.path)


def check_output_dir(out: Path, force: bool, replaceable: Callable[[Path], bool], what: str) -> None:
    """The rule for every command that writes an output directory: a new or empty directory is
    fine; a non-empty one needs `force` and must be `what` (never a folder of other files).

    Also refuses a path that is a file, or whose parent cannot be written."""
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out}: exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise BadInput(f"{out}: output directory exists and is not empty (use --force to replace it)")
        if not replaceable(out):
            raise BadInput(f"{out}: not {what}; --force replaces only that, refusing to delete it")
    parent = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not parent.is_dir():
        raise BadInput(f"{parent}: is not a directory; cannot create {out}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BadInput(f"{parent}: not writable; cannot create {out}")


def replace_output_dir(
    out: Path, force: bool, replaceable: Callable[[Path], bool], what: str, files: dict[str, str]
) -> None:
    """`check_output_dir`, then empty or create `out` and write `files` (name -> text) atomically;
    a write that fails is one BadInput line naming the path."""
    check_output_dir(out, force, replaceable, what)
    try:
        if out.exists() and any(out.iterdir()):
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            atomic_write_text(out / name, text)
    except OSError as e:
        raise BadInput(f"{e.filename or out}: cannot write the output directory: {e.strerror or e}") from None


def _entry_ok(e: Any) -> bool:
    """A manifest entry: an int step, a dir name and a {file: sha256} map."""
    types = {"step": int, "dir": str, "files": dict}
    return isinstance(e, dict) and all(isinstance(e.get(k), t) for k, t in types.items())


def read_manifest(ckpt_dir: Path) -> dict[str, Any]:
    """checkpoints/manifest.json, or an empty one; BadInput names a malformed file."""
    path = ckpt_dir / MANIFEST
    if not path.exists():
        return {"checkpoints": []}
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: manifest is not valid JSON ({e})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("checkpoints"), list):
        raise BadInput(f"{path}: manifest has no `checkpoints` list")
    for entry in manifest["checkpoints"]:
        ok = (
            isinstance(entry, dict)
            and isinstance(entry.get("step"), int)
            and isinstance(entry.get("dir"), str)
        )
        if not ok or not isinstance(entry.get("files"), dict):
            raise BadInput(f"{path}: malformed checkpoint entry {str(entry)[:60]}")
    return manifest


def checkpoint_problems(run_dir: Path) -> list[tuple[str, str]]:
    """(file, problem) for every checkpoint file missing or not matching its recorded sha256."""
    ckpt_dir = run_dir / CHECKPOINTS
    out = []
    for entry in read_manifest(ckpt_dir)["checkpoints"]:
        for fname, digest in entry["files"].items():
            f = ckpt_dir / entry["dir"] / fname
            rel = f"{CHECKPOINTS}/{entry['dir']}/{fname}"
            if not f.is_file():
                out.append((rel, "missing from the recorded run"))
            elif (actual := sha256_file(f)) != digest:
                out.append((rel, f"sha256 on disk {actual[:12]}… != manifest {digest[:12]}… (tampered?)"))
    return out


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    """summary.json, atomically (a reader sees the old file or the new one)."""
    atomic_write_json(run_dir / SUMMARY, summary)


def update_summary(run_dir: Path, **fields: Any) -> dict[str, Any]:
    """Merge `fields` into summary.json (created when absent); returns the new summary."""
    path = run_dir / SUMMARY
    summary = read_json_object(path) if path.is_file() else {}
    summary.update(fields)
    write_summary(run_dir, summary)
    return summary
