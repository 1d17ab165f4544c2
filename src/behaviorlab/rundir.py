"""The run directory: every file name in one place, and `RunDir`, a run of any kind read once.

A run directory is self-describing: `summary.json` says its `kind` (train, probe, imitation, …)
and `status`, `config.toml` holds the resolved config. Reading a run for a catalog row, a report
or `runs list` goes through `RunDir` and imports no torch: only the standard library here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
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
# Files of a collection (a folder of runs): a sweep's table, a demo's or study's summary.
SWEEP = "sweep.json"
STUDY = "study.json"  # a study's cells across seeds and its claims
STUDY_MD = "STUDY.md"
LOCK = ".lock"  # held (flock) by the process writing the directory; released when it ends
OWNED = ".behaviorlab"  # marks a folder a command made inside someone else's directory (figures/)

RUN_MARKERS = (CONFIG, SUMMARY, METRICS, PREDICTIONS)

Kind = Literal["train", "probe", "imitation"]
KINDS: tuple[str, ...] = ("train", "probe", "imitation")
Status = Literal["running", "trained", "stopped", "complete", "failed", "interrupted"]
# Checkpoint folders and files named in a manifest: nothing that climbs out of checkpoints/.
_CHECKPOINT_DIR = re.compile(r"^step-[0-9]+$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


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


@contextlib.contextmanager
def resuming(out: Path) -> Iterator[None]:
    """Lock a directory a command continues, and check it holds no link out of itself, before the
    body reads it; the lock is kept when the body succeeds (the run goes on), given back if not."""
    lock(out)
    try:
        check_links(out)
        yield
    except BaseException:
        unlock(out)
        raise


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


def check_links(root: Path) -> Path:
    """`root`, after refusing any symbolic link inside it that leads out of it (a write through
    it would land elsewhere); links that stay inside are harmless."""
    base = root.resolve()
    for folder, dirs, files in os.walk(root):  # followlinks=False: links are seen, not entered
        for name in (*dirs, *files):
            p = Path(folder) / name
            if p.is_symlink():
                target = p.resolve()
                if target != base and base not in target.parents:
                    raise BadInput(
                        f"{p}: a symbolic link out of {root} (to {target}); refusing to write through it"
                    )
    return root


def claim_folder(folder: Path, what: str, *, owned: bool = False) -> Path:
    """Make `folder` (e.g. a report's figures/) ours to write into: a new or empty one gets an
    OWNED marker; one with the marker, or `owned` (inside our own run directory), is ours; one
    holding anyone else's files, or a link, is refused — never overwritten."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise BadInput(f"{folder}: not a plain folder; refusing to write {what} there")
    if folder.is_dir() and not owned and not (folder / OWNED).is_file() and _entries(folder):
        raise BadInput(
            f"{folder}: holds files behaviorlab did not write; refusing to write {what} there "
            "(choose another --out)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / OWNED).exists():
        atomic_write_text(folder / OWNED, f"behaviorlab writes {what} here\n")
    for p in folder.iterdir():
        if p.is_symlink():
            raise BadInput(f"{p}: a symbolic link in {folder}; refusing to write {what} there")
    return folder


# --- the failure path: never raises ---------------------------------------------------------------


def mark(out: Path, status: str, reason: str) -> str:
    """Record a failed/interrupted status with its reason, never raising. Returns '' when it was
    recorded, else a note for the error line: the run then reads as interrupted (`RunDir.status`),
    which `--resume` continues."""
    try:
        update_summary(out, status=status, error=reason)
        return ""
    except Exception as e:  # the failure path must not fail: say why in the error line instead
        why = e.strerror if isinstance(e, OSError) and e.strerror else " ".join(str(e).split())
        return f"; status not recorded ({why}): it reads as interrupted"


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
