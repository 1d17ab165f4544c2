"""The run directory: every file name in one place, and `RunDir`, a run of any kind read once.

A run directory is self-describing: `summary.json` says its `kind` (train, probe, imitation,
interpret, …) and `status`, `config.toml` holds the resolved config. Reading a run for a catalog row, a report
or `runs list` goes through `RunDir` and imports no torch: only the standard library here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json, atomic_write_text, read_toml, sha256_file

try:
    import fcntl
except ImportError:  # pragma: no cover  (not POSIX: directories are not locked)
    fcntl = None  # type: ignore[assignment]

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
LM_HEADS = "lm_heads.json"  # a white-box run: the top heads per LM hypothesis, confirmed by ablation
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
DEMO_WHITEBOX = "whitebox"  # a demo's copying probe run of SmolLM2 with heads ablated
STUDY_MARKER = ".study"  # a study folder before its study.json exists
STUDY_SESSIONS = "study_sessions.json"  # each invocation of a study: wall time, runs, load
CATALOG = "catalog.sqlite"  # the run catalog beside the runs
CORPUS_MANIFEST = "corpus.json"  # a built language-modelling corpus: its sources and counts
LOCK = ".lock"  # held (flock) by the process writing the directory; released when it ends
OWNED = ".behaviorlab"  # marks a folder a command made inside someone else's directory (figures/)

RUN_MARKERS = (CONFIG, SUMMARY, METRICS, PREDICTIONS)

Kind = Literal["train", "probe", "imitation", "interpret"]
KINDS: tuple[str, ...] = ("train", "probe", "imitation", "interpret")
Status = Literal["running", "trained", "stopped", "complete", "failed", "interrupted"]
# Checkpoint folders and files named in a manifest: nothing that climbs out of checkpoints/.
_CHECKPOINT_DIR = re.compile(r"^step-[0-9]+$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


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
        """running / trained / stopped / complete / failed / interrupted.

        No status (the process died, or the disk was full, before writing one) reads as
        interrupted, and so does `running` once no process holds the run's lock: `--resume`
        continues either."""
        status = str(self.summary.get("status") or "interrupted")
        if status == "running" and (self.path / LOCK).exists() and not is_locked(self.path):
            return "interrupted"
        return status

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
    if out.exists() and _entries(out):
        if not force:
            raise BadInput(f"{out}: output directory exists and is not empty (use --force to replace it)")
        if not replaceable(out):
            raise BadInput(f"{out}: not {what}; --force replaces only that, refusing to delete it")
    parent = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not parent.is_dir():
        raise BadInput(f"{parent}: is not a directory; cannot create {out}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BadInput(f"{parent}: not writable; cannot create {out}")


def _entries(folder: Path) -> list[Path]:
    """What a directory holds besides its lock file."""
    return [p for p in folder.iterdir() if p.name != LOCK]


def replace_output_dir(
    out: Path, force: bool, replaceable: Callable[[Path], bool], what: str, files: dict[str, str]
) -> None:
    """`check_output_dir`, then lock `out` (see `lock`), empty or create it and write `files`
    (name -> text) atomically; a write that fails is one BadInput line naming the path, and a
    directory this call created is removed again (nothing is left behind)."""
    check_output_dir(out, force, replaceable, what)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock(out)  # before emptying: a process still writing here keeps its files
    except (OSError, BadInput) as e:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        if isinstance(e, BadInput):
            raise
        raise BadInput(
            f"{e.filename or out}: cannot create the output directory: {e.strerror or e}"
        ) from None
    try:
        for entry in _entries(out):  # rmtree never follows a symlink out of the directory
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        for name, text in files.items():
            atomic_write_text(out / name, text)
    except OSError as e:
        if created:
            discard(out)
        else:  # the user's own (empty or replaced) folder: give it back without our lock file
            unlock(out)
            with contextlib.suppress(OSError):
                (out / LOCK).unlink()
        raise BadInput(f"{e.filename or out}: cannot write the output directory: {e.strerror or e}") from None


# --- one writer per directory, never through a link out of it ------------------------------------

_held: dict[str, tuple[int, int]] = {}  # resolved directory -> (lock fd, times taken)


def lock(out: Path) -> None:
    """Hold OUT/.lock (flock) until `unlock` or the end of this process, so a second writer — a
    resumed run racing a straggler of the killed one — is refused in one line naming the holder.
    Taking it again in the same process only counts up."""
    key = str(out.resolve())
    if key in _held:
        fd, n = _held[key]
        _held[key] = (fd, n + 1)
        return
    if fcntl is None:  # pragma: no cover
        return
    try:
        fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise BadInput(f"{out / LOCK}: cannot open the directory's lock: {e.strerror or e}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        who = f" (pid {holder})" if holder.isdigit() else ""
        raise BadInput(
            f"{out}: in use by another process{who}; let it finish or stop it, then rerun"
        ) from None
    with contextlib.suppress(OSError):  # a full disk: the lock holds without the pid in it
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _held[key] = (fd, 1)


def unlock(out: Path) -> None:
    """Give back one `lock` of `out` (the file lock goes with the last)."""
    key = str(out.resolve())
    if key not in _held:
        return
    fd, n = _held.pop(key)
    if n > 1:
        _held[key] = (fd, n - 1)
    else:
        os.close(fd)


def is_locked(out: Path) -> bool:
    """True while some process (this one included) holds OUT/.lock."""
    if str(out.resolve()) in _held:
        return True
    if fcntl is None:  # pragma: no cover
        return False
    try:
        fd = os.open(out / LOCK, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def discard(out: Path) -> None:
    """Remove a directory this command created and could not fill (nothing left behind)."""
    unlock(out)
    shutil.rmtree(out, ignore_errors=True)


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
            and isinstance(entry.get("files"), dict)
        )
        # The names become paths that are read, replaced and deleted: none may leave checkpoints/.
        if ok and _CHECKPOINT_DIR.match(entry["dir"]) and all(map(_FILE_NAME.match, entry["files"])):
            continue
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
