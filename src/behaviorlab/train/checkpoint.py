"""Checkpoints as safetensors (model, optimizer, RNG) with a sha256 manifest; never pickle."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json, sha256_file
from behaviorlab.rundir import MANIFEST, MODEL_WEIGHTS, OPTIMIZER_STATE, RNG_STATE, TRAINER, read_manifest


@dataclass
class Checkpoint:
    """What a resumed run needs: weights, optimizer state, RNG state and loop state."""

    step: int
    model: dict[str, Tensor]
    optimizer: dict[str, Any]
    rng: Tensor
    trainer: dict[str, Any]


def _optimizer_to_tensors(state: dict[str, Any]) -> tuple[dict[str, Tensor], dict[str, str]]:
    """Flatten an optimizer state_dict: tensors by name, everything else as JSON metadata."""
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, Any] = {}
    for idx, per_param in state["state"].items():
        for name, value in per_param.items():
            key = f"state.{idx}.{name}"
            if isinstance(value, Tensor):
                tensors[key] = value.detach().contiguous().clone()
            else:
                scalars[key] = value
    # One metadata key: safetensors orders several keys differently per process, which would make
    # the file's sha256 differ between two otherwise identical runs.
    blob = {"param_groups": state["param_groups"], "scalars": scalars}
    return tensors, {"optimizer": json.dumps(blob, sort_keys=True)}


def _optimizer_from_tensors(tensors: dict[str, Tensor], meta: dict[str, str]) -> dict[str, Any]:
    """Inverse of _optimizer_to_tensors."""
    state: dict[int, dict[str, Any]] = {}
    blob = json.loads(meta["optimizer"])
    items: list[tuple[str, Any]] = list(tensors.items())
    items += list(blob["scalars"].items())
    for key, value in items:
        _, idx, name = key.split(".", 2)
        state.setdefault(int(idx), {})[name] = value
    groups = blob["param_groups"]
    for g in groups:  # JSON turns tuples into lists; optimizers expect the tuple back
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    # safetensors returns keys sorted as strings ("10" < "2"); restore parameter order so
    # anything that iterates optimizer state (e.g. statistics sums) sees the original order.
    ordered = {idx: state[idx] for idx in sorted(state)}
    return {"state": ordered, "param_groups": groups}


def _as_os_error(e: SafetensorError, where: Path) -> OSError:
    """An OSError (errno and message) from safetensors' `… (os error 28)` text."""
    found = re.search(r"os error (\d+)", str(e))
    code = int(found.group(1)) if found else errno.EIO
    return OSError(code, os.strerror(code), str(where))


def save(ckpt_dir: Path, ckpt: Checkpoint, keep_last: int = 3) -> Path:
    """Write a checkpoint into a temp dir, rename it into place, then update the manifest."""
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    name = f"step-{ckpt.step:08d}"
    final, tmp = ckpt_dir / name, ckpt_dir / f".tmp-{name}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        save_file({k: v.detach().contiguous() for k, v in ckpt.model.items()}, tmp / MODEL_WEIGHTS)
        opt_tensors, opt_meta = _optimizer_to_tensors(ckpt.optimizer)
        save_file(opt_tensors, tmp / OPTIMIZER_STATE, metadata=opt_meta)
        save_file({"torch_cpu": ckpt.rng}, tmp / RNG_STATE)
        (tmp / TRAINER).write_text(json.dumps(ckpt.trainer, sort_keys=True))
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    except BaseException as e:
        # A full disk or a kill leaves no half checkpoint: the last good one stays the newest.
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, SafetensorError):  # safetensors reports I/O failures as its own error
            raise _as_os_error(e, ckpt_dir) from None
        raise
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    files = {f.name: sha256_file(f) for f in sorted(final.iterdir())}
    manifest = read_manifest(ckpt_dir)
    entries = [e for e in manifest["checkpoints"] if e["step"] != ckpt.step]
    entries.append({"step": ckpt.step, "dir": name, "files": files})
    entries.sort(key=lambda e: e["step"])
    for old in entries[:-keep_last] if keep_last > 0 else []:
        shutil.rmtree(ckpt_dir / old["dir"], ignore_errors=True)
    manifest["checkpoints"] = entries[-keep_last:] if keep_last > 0 else entries
    atomic_write_json(ckpt_dir / MANIFEST, manifest)
    return final


def verify(ckpt_dir: Path, entry: dict[str, Any]) -> Path:
    """Check every file of a manifest entry against its sha256; BadInput names the first mismatch."""
    path = ckpt_dir / entry["dir"]
    for fname, digest in entry["files"].items():
        f = path / fname
        if not f.is_file():
            raise BadInput(f"{f}: checkpoint file missing")
        if sha256_file(f) != digest:
            raise BadInput(f"{f}: sha256 mismatch — checkpoint truncated or tampered")
    return path


def latest_entry(ckpt_dir: Path) -> dict[str, Any] | None:
    """The manifest entry of the newest checkpoint, if any."""
    entries = read_manifest(ckpt_dir)["checkpoints"]
    return entries[-1] if entries else None


def load(ckpt_dir: Path, step: int | None = None) -> Checkpoint:
    """Load (and verify) the checkpoint at `step`, or the latest one."""
    entries = read_manifest(ckpt_dir)["checkpoints"]
    if step is not None:
        entries = [e for e in entries if e["step"] == step]
    if not entries:
        raise BadInput(f"{ckpt_dir}: no checkpoint" + (f" at step {step}" if step else ""))
    entry = entries[-1]
    path = verify(ckpt_dir, entry)
    try:
        model = load_file(path / MODEL_WEIGHTS)
        opt_tensors = load_file(path / OPTIMIZER_STATE)
        from safetensors import safe_open

        with safe_open(path / OPTIMIZER_STATE, "pt") as f:
            opt_meta = f.metadata()
        rng = load_file(path / RNG_STATE)["torch_cpu"]
    except (SafetensorError, OSError) as e:
        raise BadInput(f"{path}: unreadable checkpoint ({e})") from None
    try:
        trainer = json.loads((path / TRAINER).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"{path / TRAINER}: not valid JSON ({e})") from None
    if not isinstance(trainer, dict):
        raise BadInput(f"{path / TRAINER}: expected a JSON object")
    return Checkpoint(
        step=entry["step"],
        model=model,
        optimizer=_optimizer_from_tensors(opt_tensors, opt_meta),
        rng=rng,
        trainer=trainer,
    )


def load_weights(ckpt_dir: Path) -> dict[str, Tensor]:
    """Only the model weights of the latest verified checkpoint."""
    entry = latest_entry(ckpt_dir)
    if entry is None:
        raise BadInput(f"{ckpt_dir}: no checkpoint")
    path = verify(ckpt_dir, entry)
    try:
        return load_file(path / MODEL_WEIGHTS)
    except (SafetensorError, OSError) as e:
        raise BadInput(f"{path}: unreadable checkpoint ({e})") from None
