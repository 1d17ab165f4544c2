"""Tries the hardening rules as an adversarial user would, through the CLI in fresh processes, and
counts what held: `python tests/faults/adversary.py [WORKDIR]` (about two minutes).

Each case runs the console entry point in this process (rules 4 and 5 start real processes). A
case holds when the command exits with the expected code (2 for bad input) after one `error: …`
line on stderr, prints no traceback and no raw control character, leaves no output path behind
and changes none of the files it must not touch. Not collected by pytest (the fault tests cover
each rule; this is the wider sweep the issue asks for)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import tomli_w

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE.parent), str(HERE)]
from adversary_cases import BL, Case, cases  # noqa: E402


def digest(paths: list[Path]) -> dict[str, str]:
    out = {}
    for p in paths:
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else "-"
    return out


def run_cli(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """`behaviorlab ARGV` through the console entry point, in this process (imports once)."""
    from behaviorlab.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(argv)
                code = 0
            except SystemExit as e:
                code = int(e.code or 0)
            except BaseException:  # a crash is what this script looks for: keep it as text
                traceback.print_exc(file=err)
                code = -1
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return code, out.getvalue(), err.getvalue()


def attempt(case: Case) -> tuple[bool, str]:
    before = digest(case.kept)
    code, stdout, stderr = run_cli(case.argv[len(BL) :], case.env)
    lines = stderr.splitlines()
    problems = []
    if code != case.code and not (case.code is None and code in (0, 1, 2)):
        problems.append(f"exit {code}")
    if code == 2 and not (len(lines) == 1 and lines[0].startswith("error: ")):
        problems.append(f"stderr {stderr[-300:]!r}")
    if "Traceback" in stderr + stdout:
        problems.append("traceback")
    if any(c in stderr + stdout for c in "\x1b\x07\x08\r"):
        problems.append("control character on the terminal")
    problems += [f"left {p}" for p in case.gone if p.exists() or p.is_symlink()]
    if digest(case.kept) != before:
        problems.append("changed protected files")
    return not problems, "; ".join(problems) or (lines[0][:150] if lines else "ok")


def full_disk(w: Path, run: Path, tiny: Path) -> list[tuple[str, bool, str]]:
    """Rule 5: commands onto a file system with 8 KB free (root only: a tmpfs)."""
    disk = w / "small"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)]).returncode:
        return []
    try:
        (disk / "filler").write_bytes(b"\0" * 56 * 1024)
        found = []
        for name, argv in [
            ("train with 8 KB free", [*BL, "train", str(tiny), "--out", str(disk / "run")]),
            (
                "probe with 8 KB free",
                [*BL, "probe", "--model", str(run), "--out", str(disk / "p"), "-n", "1"],
            ),
            (
                "tasks build with 8 KB free",
                [
                    *BL,
                    "tasks",
                    "build",
                    str(ROOT / "configs" / "tasks-binary-reverse.toml"),
                    "--out",
                    str(disk / "d"),
                ],
            ),
            ("report --out with 8 KB free", [*BL, "report", str(run), "--out", str(disk / "r.html")]),
            ("study with 8 KB free", [*BL, "study", "recursion", "--quick", "--out", str(disk / "s")]),
        ]:
            ok, note = attempt(
                Case("5", name, argv, [disk / "run", disk / "p", disk / "d", disk / "r.html", disk / "s"])
            )
            found.append((name, ok, note))
        return found
    finally:
        subprocess.run(["umount", "-l", str(disk)])


HOLD = (
    "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
    "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, str(os.getpid()).encode()); print(1, flush=True); "
    "time.sleep(600)"
)


def stragglers(w: Path, run: Path, tiny: Path) -> list[tuple[str, bool, str]]:
    """Rule 4: a resume (or --force) beside a live process still writing the directory."""
    from behaviorlab.probes import run_probes

    probe = w / "straggler-probe"
    run_probes([str(run)], probe, probes="copying", limit=1)
    copy = w / "straggler-run"
    shutil.copytree(run, copy)
    found = []
    for name, folder, argv in [
        ("train --resume beside a straggler", copy, ["train", str(tiny), "--out", str(copy), "--resume"]),
        ("train --force over a live run", copy, ["train", str(tiny), "--out", str(copy), "--force"]),
        (
            "probe --resume beside a straggler",
            probe,
            [
                "probe",
                "--model",
                str(run),
                "--out",
                str(probe),
                "--probes",
                "copying",
                "-n",
                "1",
                "--resume",
            ],
        ),
        (
            "probe --force over a live run",
            probe,
            [
                "probe",
                "--model",
                str(run),
                "--out",
                str(probe),
                "--probes",
                "copying",
                "-n",
                "1",
                "--force",
            ],
        ),
    ]:
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder / ".lock")], stdout=subprocess.PIPE)
        assert holder.stdout is not None
        holder.stdout.readline()
        try:
            ok, note = attempt(Case("4", name, [*BL, *argv], [], [folder]))
            ok = ok and str(holder.pid) in note
        finally:
            holder.kill()
            holder.wait()
        found.append((name, ok, note))
    return found


def workers_die(w: Path, tiny: Path) -> list[tuple[str, bool, str]]:
    """Rule 4: kill -9 of a command with a worker pool; its workers must be gone within seconds."""
    from test_dirs_and_workers import AGENTS, _alive, _cmdline, _descendants

    found = []
    long = w / "long.toml"
    raw = __import__("tomllib").loads(tiny.read_text())
    raw["train"].update(steps=100_000, checkpoint_every=20, eval_every=100_000)
    long.write_text(tomli_w.dumps(raw))
    (w / "long-sweep.toml").write_text('base = "long.toml"\n[grid]\n"train.seed" = [0, 1]\n')
    for name, argv, out in [
        ("kill -9 sweep", ["sweep", str(w / "long-sweep.toml"), "--out", str(w / "k-sweep")], w / "k-sweep"),
        (
            "kill -9 imitate",
            ["imitate", str(ROOT / "configs" / "imitation-quick.toml"), "--out", str(w / "k-imit")],
            w / "k-imit",
        ),
        ("kill -9 study", ["study", "recursion", "--quick", "--out", str(w / "k-study")], w / "k-study"),
        (
            "kill -9 sweep --backend ray",
            ["sweep", str(w / "long-sweep.toml"), "--out", str(w / "k-ray"), "--backend", "ray"],
            w / "k-ray",
        ),
    ]:
        proc = subprocess.Popen([*BL, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        kids: list[int] = []
        while time.monotonic() < deadline and proc.poll() is None:
            kids = [c for c in _descendants(proc.pid) if not _cmdline(c).startswith(AGENTS)]
            working = [c for c in kids if "spawn_main" in _cmdline(c) or _cmdline(c).startswith("ray::")]
            if working and list(out.rglob("summary.json")):
                break
            time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        gone_by = time.monotonic() + 20
        while any(map(_alive, kids)) and time.monotonic() < gone_by:
            time.sleep(0.2)
        alive = [k for k in kids if _alive(k)]
        note = f"{len(kids)} processes, {len(alive)} alive after 20 s"
        found.append((name, bool(kids) and not alive, note))
        for k in alive:
            os.kill(k, signal.SIGKILL)
    return found


def main() -> None:
    from kit import tiny_config
    from lm_tiny import gpt2_dir

    w = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="adversary-"))
    w.mkdir(parents=True, exist_ok=True)
    tiny = tiny_config(w)  # w/tiny.toml
    (w / "small-sweep.toml").write_text('base = "tiny.toml"\n[grid]\n"train.seed" = [0, 1]\n')
    run = w / "run"
    subprocess.run([*BL, "train", str(tiny), "--out", str(run)], check=True, capture_output=True)
    hf = gpt2_dir(w)
    results: list[tuple[str, str, bool, str]] = []
    for case in cases(w, run, hf):
        ok, note = attempt(case)
        results.append((case.rule, case.name, ok, note))
        shutil.rmtree(w / "out", ignore_errors=True)
        print(f"[{'held' if ok else 'FAILED'}] {case.rule} {case.name}: {note}", flush=True)
    for name, ok, note in full_disk(w, run, tiny) + stragglers(w, run, tiny) + workers_die(w, tiny):
        rule = "5" if "free" in name else "4"
        results.append((rule, name, ok, note))
        print(f"[{'held' if ok else 'FAILED'}] {rule} {name}: {note}", flush=True)
    for rule in sorted({r for r, *_ in results}):
        mine = [ok for r, _, ok, _ in results if r == rule]
        print(f"rule {rule}: {sum(mine)}/{len(mine)} held")
    print(f"all: {sum(ok for *_, ok, _ in results)}/{len(results)} held")


if __name__ == "__main__":
    main()
