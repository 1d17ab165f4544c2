"""kill -9 at any point, then --resume, then `replay`: bit-identical to a run never interrupted."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest
from kit import run_script, summary, tiny_config

from behaviorlab.store import replay
from behaviorlab.train import evaluate_run, load_config, train

# Runs training in a fresh process and SIGKILLs it at a chosen point: between steps (after step
# AT), inside step AT (after backward, before the update), while writing checkpoint number AT
# (after its first file), or after checkpoint AT is in place but before its manifest entry.
KILLER = r"""
import os, signal, sys
from pathlib import Path
import torch
import behaviorlab.train.checkpoint as ck
from behaviorlab.train import load_config, train

cfg, out, where, at = load_config(Path(sys.argv[1])), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
torch.set_num_threads(1)

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def nth_call(fn, n):
    count = [0]
    def wrapped(*a, **k):
        count[0] += 1
        if count[0] == n:
            die()
        return fn(*a, **k)
    return wrapped

on_step = None
if where == "between":
    on_step = lambda s: die() if s == at else None
elif where == "step":
    torch.nn.utils.clip_grad_norm_ = nth_call(torch.nn.utils.clip_grad_norm_, at + 1)
elif where == "checkpoint":
    ck.save_file = nth_call(ck.save_file, 3 * (at - 1) + 2)
elif where == "manifest":
    ck.atomic_write_json = nth_call(ck.atomic_write_json, at)
train(cfg, out, progress=False, on_step=on_step)
"""


def _kill_resume_replay(tmp_path: Path, where: str, at: int) -> None:
    cfg_path = tiny_config(tmp_path)
    out = tmp_path / "run"
    done = run_script(KILLER, str(cfg_path), str(out), where, str(at))
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert summary(out)["status"] == "running"  # what a kill -9 leaves: no chance to say more
    train(load_config(cfg_path), out, resume=True, progress=False)
    evaluate_run(out)
    report = replay(out)
    assert report.identical, [str(d) for d in report.differences]
    assert summary(out)["status"] == "complete" and summary(out)["steps"] == 30


@pytest.mark.parametrize(
    ("where", "at"),
    [("between", 13), ("step", 21), ("checkpoint", 2), ("manifest", 2)],
)
def test_kill_at_each_kind_of_point(tmp_path: Path, where: str, at: int) -> None:
    _kill_resume_replay(tmp_path, where, at)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_kill_at_random_points(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    where = rng.choice(["between", "step", "checkpoint", "manifest"])
    at = rng.randint(1, 29) if where in ("between", "step") else rng.randint(1, 3)
    _kill_resume_replay(tmp_path, where, at)
