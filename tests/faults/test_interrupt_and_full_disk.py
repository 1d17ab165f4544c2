"""Ctrl-C and a full disk: one line that says where things stand, a status with the reason, the last
good checkpoint intact, and a resume that ends where an uninterrupted run would."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from kit import Result, run_script, summary, tiny_config, tmpfs

from behaviorlab.rundir import checkpoint_problems, read_manifest
from behaviorlab.store import replay


def _cli_process(*args: str | Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "behaviorlab", *(str(a) for a in args)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# The CLI with each step slowed to 20 ms: the tiny run takes < 1 s in all, so on a loaded box the
# test's poll could miss it and the signal would land after the end. A test run started in the
# background by a shell without job control inherits SIGINT as ignored, and Python then installs
# no KeyboardInterrupt handler: restore the one an interactive user's process has.
SLOW = r"""
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
import behaviorlab.train.loop as loop
from behaviorlab.cli import main

after = loop.after_step

def slowly(s):
    time.sleep(0.02)
    return after(s)

loop.after_step = slowly
main(sys.argv[1:])
"""


def test_ctrl_c_marks_the_run_and_says_how_to_resume(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path, steps=600, checkpoint_every=20, eval_every=100)
    out = tmp_path / "run"
    cmd = [sys.executable, "-c", SLOW, "train", str(cfg), "--out", str(out), "--no-evaluate"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "checkpoints" / "manifest.json").is_file() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    err = Result(proc.returncode, stdout, stderr).one_line_error()
    assert proc.returncode == 130
    assert "interrupted at step" in err and "last checkpoint: step" in err and "--resume" in err
    s = summary(out)
    assert s["status"] == "interrupted" and s["error"].startswith("interrupted at step")
    done = _cli_process("train", cfg, "--out", out, "--resume")
    assert done.wait(timeout=300) == 0, done.communicate()[1]
    assert summary(out)["status"] == "complete" and summary(out)["steps"] == 600
    report = replay(out)
    assert report.identical, [str(d) for d in report.differences]


# Fills the disk right after the first checkpoint (step 10), then trains through the CLI.
FILLER = r"""
import sys
from pathlib import Path
import behaviorlab.train.loop as loop
from behaviorlab.cli import main

cfg, out, filler = sys.argv[1], sys.argv[2], Path(sys.argv[3])
after = loop.after_step

def fill_then(s):
    acc = after(s)
    if s.st.step == 10:
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
    return acc

loop.after_step = fill_then
main(["train", cfg, "--out", out])
"""


def test_a_full_disk_is_one_line_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path)
    with tmpfs(tmp_path / "small", "4m") as disk:
        out, filler = disk / "run", disk / "filler"
        done = run_script(FILLER, str(cfg), str(out), str(filler))
        err = Result(done.returncode, done.stdout, done.stderr).one_line_error()
        assert done.returncode == 2 and str(disk) in err and "No space left" in err
        entries = read_manifest(out / "checkpoints")["checkpoints"]
        assert [e["step"] for e in entries] == [10]  # the last good checkpoint, whole
        assert not checkpoint_problems(out)
        assert not [p for p in (out / "checkpoints").iterdir() if p.name.startswith(".tmp")]
        filler.unlink()
        resumed = run_script(
            "import sys; from behaviorlab.cli import main; main(sys.argv[1:])",
            "train",
            str(cfg),
            "--out",
            str(out),
            "--resume",
        )
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert summary(out)["status"] == "complete"
        report = replay(out)
        assert report.identical, [str(d) for d in report.differences]
