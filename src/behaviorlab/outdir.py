"""The output-directory rules beyond creating one (rundir.replace_output_dir, rundir.lock): a
directory a command continues is locked and holds no link out of itself; a folder made inside
someone else's directory is claimed, never overwritten; and the failure path, which never raises."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_text
from behaviorlab.rundir import LOCK, OWNED, lock, unlock, update_summary


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
    if (
        folder.is_dir()
        and not owned
        and not (folder / OWNED).is_file()
        and [p for p in folder.iterdir() if p.name != LOCK]
    ):
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
