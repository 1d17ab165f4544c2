"""Seeds, deterministic kernels and the environment record of a run."""

from __future__ import annotations

import os
import platform
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch


def set_threads(threads: int) -> None:
    """Pin torch's thread count (a run's recorded count: reductions then sum in the same order)."""
    torch.set_num_threads(threads)


def configure(seed: int, threads: int) -> None:
    """Seed every RNG we use and force deterministic kernels with a fixed thread count."""
    # Same thread count -> same reduction order -> bit-identical floats on one machine.
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def step_generator(seed: int, step: int, stream: int) -> torch.Generator:
    """A generator fixed by (seed, step, stream): batches need no RNG state to resume."""
    g = torch.Generator()
    g.manual_seed((seed * 1_000_003 + step * 97 + stream) % (2**63 - 1))
    return g


def _git_revision() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


# What must match between a recorded environment and this one for bit-identity to be expected.
ENV_KEYS = ("torch", "python", "numpy", "platform", "machine", "threads")


def environment_differences(recorded: dict[str, Any], seed: int, threads: int) -> list[str]:
    """How a recorded env.json differs from this process where it matters for bit-identity."""
    here = environment(seed, threads)
    return [
        f"{k} differs: recorded {recorded.get(k)!r}, here {here.get(k)!r}"
        for k in ENV_KEYS
        if recorded.get(k) != here.get(k)
    ]


def environment(seed: int, threads: int) -> dict[str, Any]:
    """What a replay needs to know: versions, platform, seeds, determinism flags, code revision."""
    import behaviorlab

    return {
        "behaviorlab": behaviorlab.__version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "seed": seed,
        "threads": threads,
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "git_revision": _git_revision(),
    }
