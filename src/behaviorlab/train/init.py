"""Starting a run from a base run's weights (`train.init_from`): the checks and the weights."""

from __future__ import annotations

from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import Tensor

from behaviorlab.errors import BadInput
from behaviorlab.rundir import CHECKPOINTS, MODEL_WEIGHTS, read_manifest
from behaviorlab.tasks.base import Learnable
from behaviorlab.train import checkpoint
from behaviorlab.train.config import ExperimentConfig
from behaviorlab.train.data import make_task
from behaviorlab.train.run import read_config


def _weights(base: Path, sha256: str) -> dict[str, Tensor]:
    """The base's model weights whose file has this sha256 (verified), from any kept checkpoint."""
    ckpt_dir = base / CHECKPOINTS
    for entry in reversed(read_manifest(ckpt_dir)["checkpoints"]):
        if entry["files"].get(MODEL_WEIGHTS) == sha256:
            path = checkpoint.verify(ckpt_dir, entry)
            try:
                return load_file(path / MODEL_WEIGHTS)
            except (SafetensorError, OSError) as e:
                raise BadInput(f"{path}: unreadable checkpoint ({e})") from None
    raise BadInput(
        f"train.init_from {base}: no checkpoint with the recorded weights (sha256 {sha256[:12]}…);"
        " the base run changed since this config was resolved"
    )


def init_state(cfg: ExperimentConfig, task: Learnable) -> dict[str, Tensor] | None:
    """The weights a run starts from (None: a fresh init); BadInput when the base does not fit."""
    tc = cfg.train
    if tc.init_from is None:
        return None
    if tc.init_sha256 is None:
        raise BadInput("train.init_from: the config is not resolved (load it with load_config/validate)")
    base = Path(tc.init_from)
    if not base.is_dir():
        raise BadInput(f"train.init_from {base}: no such run directory")
    base_cfg = read_config(base)
    if base_cfg.model != cfg.model:
        ours, theirs = cfg.model.model_dump(), base_cfg.model.model_dump()
        diff = ", ".join(f"{k} {theirs[k]!r} -> {ours[k]!r}" for k in ours if ours[k] != theirs[k])
        raise BadInput(f"train.init_from {base}: the model config differs from the base's ({diff})")
    base_vocab, vocab = make_task(base_cfg.data).vocab, task.vocab
    if len(base_vocab) != len(vocab):
        raise BadInput(
            f"train.init_from {base}: vocabulary size {len(vocab)} differs from the base's {len(base_vocab)}"
        )
    if base_vocab.tokens != vocab.tokens:
        raise BadInput(f"train.init_from {base}: same vocabulary size, different tokens (ids differ)")
    return _weights(base, tc.init_sha256)
