"""Shared fixtures: tiny experiment configs that train in seconds on one CPU thread."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch

# Tests run on shared 2-core machines: one intra-op thread is faster and steadier for tiny models.
torch.set_num_threads(1)

TINY: dict[str, Any] = {
    "name": "tiny",
    "data": {
        "task": "binary-successor",
        "options": {"order": "reverse"},
        "seed": 0,
        "splits": [
            {"name": "train", "n": 150, "min_size": 1, "max_size": 8},
            {"name": "test_id", "n": 40, "min_size": 1, "max_size": 8},
            {"name": "test_ood", "n": 40, "min_size": 9, "max_size": 10},
        ],
    },
    "model": {
        "d_model": 16,
        "n_heads": 2,
        "enc_layers": 1,
        "dec_layers": 1,
        "d_ff": 32,
        "max_len": 32,
    },
    "optim": {"name": "adamw", "lr": 3e-3},
    "train": {
        "steps": 30,
        "batch_size": 16,
        "warmup": 5,
        "eval_every": 10,
        "eval_examples": 32,
        "checkpoint_every": 10,
        "target_accuracy": None,
    },
}


@pytest.fixture
def tiny_raw() -> dict[str, Any]:
    """A fresh copy of the tiny config as a raw dict (tests mutate it)."""
    return copy.deepcopy(TINY)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """`cli("train", cfg, "--out", d)` runs the console entry point in-process -> Result."""
    from kit import Cli  # tests/faults/kit.py (on sys.path for the fault tests that use it)

    return Cli(capsys)
