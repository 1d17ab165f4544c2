"""Tries the hardening rules as an adversarial user would, through the CLI in fresh processes, and
counts what held: `python tests/faults/adversary.py [WORKDIR]` (a few minutes).

A case holds when the command exits with the expected code (2 for bad input) after one `error: …`
line on stderr, prints no traceback and no raw control character, leaves no output path behind
and changes none of the files it must not touch. Not collected by pytest (the fault tests cover
each rule; this is the wider sweep the issue asks for)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE.parent), str(HERE)]
BL = [sys.executable, "-m", "behaviorlab"]
BIG, HUGE = 10**12, 10**23


@dataclass
class Case:
    """One attempt: the command, what must not exist afterwards, what must stay byte-identical."""

    rule: str
    name: str
    argv: list[str]
    gone: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    code: int = 2
    env: dict[str, str] = field(default_factory=dict)


def digest(paths: list[Path]) -> dict[str, str]:
    out = {}
    for p in paths:
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else "-"
    return out


def attempt(case: Case) -> tuple[bool, str]:
    before = digest(case.kept)
    done = subprocess.run(
        case.argv, capture_output=True, text=True, timeout=600, env={**os.environ, **case.env}
    )
    lines = done.stderr.splitlines()
    problems = []
    if done.returncode != case.code:
        problems.append(f"exit {done.returncode}")
    if case.code == 2 and not (len(lines) == 1 and lines[0].startswith("error: ")):
        problems.append(f"stderr {done.stderr[-300:]!r}")
    if "Traceback" in done.stderr + done.stdout:
        problems.append("traceback")
    if any(c in done.stderr + done.stdout for c in "\x1b\x07\x08\r"):
        problems.append("control character on the terminal")
    problems += [f"left {p}" for p in case.gone if p.exists() or p.is_symlink()]
    if digest(case.kept) != before:
        problems.append("changed protected files")
    return not problems, "; ".join(problems) or (lines[0][:150] if lines else "ok")


def cases(w: Path, run: Path, hf: Path) -> list[Case]:
    """Every attempt, by rule (1 sizes, 2 numbers, 3 outputs, 5 failure path, 6 doors, 7 text)."""
    tiny = w / "tiny.toml"
    out = w / "out"
    imit = json.loads(json.dumps(_imitation()))
    c: list[Case] = []

    def imitation(**changes: object) -> Path:
        raw = json.loads(json.dumps(imit))
        for dotted, value in changes.items():
            *tables, key = dotted.split(".")
            node = raw
            for t in tables:
                node = node[t]
            node[key] = value
        path = w / f"imitation-{len(c)}.toml"
        path.write_text(tomli_w.dumps(raw))
        return path

    def train(*sets: str, **kw: object) -> Case:
        argv = [*BL, "train", str(tiny), "--out", str(out)] + [a for s in sets for a in ("--set", s)]
        return Case("", "", argv, [out], **kw)  # type: ignore[arg-type]

    def add(rule: str, name: str, case: Case) -> None:
        case.rule, case.name = rule, name
        c.append(case)

    # 1. sizes: refused before anything is allocated
    add(
        "1",
        "study --seeds 10^9",
        Case("", "", [*BL, "study", "recursion", "--out", str(out), "--seeds", "1000000000"], [out]),
    )
    for key, value in [
        ("teacher.examples_per_skill", 10**18),
        ("base.examples_per_skill", 10**15),
        ("sweep.amounts", [10**15]),
        ("eval.per_skill", 10**15),
        ("algorithm.n", 10**15),
        ("teacher.fit.steps", 10**15),
        ("student.batch_size", 10**12),
    ]:
        add(
            "1",
            f"imitate {key}={value}",
            Case("", "", [*BL, "imitate", str(imitation(**{key: value})), "--out", str(out)], [out]),
        )
    for s in [
        ("model.d_model=1048576", "model.n_heads=1"),
        ("model.max_len=1099511627776",),
        ("model.d_ff=1099511627776",),
        ("model.enc_layers=100000000",),
        (f"data.splits=[{{name='train', n={BIG}, min_size=1, max_size=8}}]",),
        (f"train.batch_size={BIG}",),
        ("train.steps=1000000000000000",),
        (f"train.eval_batch_size={BIG}",),
    ]:
        add("1", "train " + " ".join(s), train(*s))
    spec = w / "spec.toml"
    spec.write_text(
        f'task = "peano-add"\n[[splits]]\nname = "train"\nn = {BIG}\nmin_size = 1\nmax_size = 3\n'
    )
    add(
        "1", "tasks build n=10^12", Case("", "", [*BL, "tasks", "build", str(spec), "--out", str(out)], [out])
    )
    grid = {
        "train.seed": list(range(1000)),
        "train.warmup": list(range(1000)),
        "model.d_ff": list(range(1, 100_001)),
    }
    (w / "sweep.toml").write_text(tomli_w.dumps({"base": "tiny.toml", "grid": grid}))
    add(
        "1",
        "sweep of 10^11 runs",
        Case("", "", [*BL, "sweep", str(w / "sweep.toml"), "--out", str(out)], [out]),
    )
    add(
        "1",
        "explain --queries 10^12",
        Case("", "", [*BL, "explain", str(run), "--queries", str(BIG)], [run / "analysis"]),
    )
    add(
        "1",
        "explain --check 10^12",
        Case("", "", [*BL, "explain", str(run), "--check", str(BIG)], [run / "analysis"]),
    )
    add(
        "1",
        "explain --model --n 10^12",
        Case(
            "", "", [*BL, "explain", "--model", f"run:{run}", "--task", "binary-successor", "--n", str(BIG)]
        ),
    )
    add(
        "1",
        "explain --model --shots 10^9",
        Case(
            "",
            "",
            [*BL, "explain", "--model", f"run:{run}", "--task", "binary-successor", "--shots", "1000000000"],
        ),
    )
    add(
        "1",
        "interpret perturb --per-input 10^15",
        Case("", "", [*BL, "interpret", "perturb", str(run), "--per-input", str(10**15)]),
    )
    add(
        "1",
        "train --nproc 10^9",
        Case("", "", [*BL, "train", str(tiny), "--out", str(out), "--nproc", "1000000000"], [out]),
    )
    for cmd in (
        ["sweep", str(w / "small-sweep.toml"), "--out", str(out)],
        ["study", "recursion", "--out", str(out)],
        ["imitate", str(imitation()), "--out", str(out)],
    ):
        add("1", f"{cmd[0]} --workers 10^9", Case("", "", [*BL, *cmd, "--workers", "1000000000"], [out]))
    add(
        "1",
        "imitate workers=10^9 in the config",
        Case("", "", [*BL, "imitate", str(imitation(workers=10**9)), "--out", str(out)], [out]),
    )
    add("1", "train over the time limit", train(code=2, env={"BEHAVIORLAB_MAX_HOURS": "1e-9"}))

    # 2. numbers at every door
    for args in (
        ["probe", "--model", str(run), "--out", str(out), "--seed", str(HUGE)],
        ["probe", "--model", str(run), "--out", str(out), "--seed", "-1"],
        ["probe", "--model", str(run), "--out", str(out), "--limit", "0"],
        ["probe", "--model", str(run), "--out", str(out), "--limit", str(10**30)],
        ["tasks", "sample", "binary-successor", "--seed", str(10**30)],
        ["tasks", "sample", "binary-successor", "--edge-fraction", "nan"],
        ["tasks", "sample", "binary-successor", "-n", "-1"],
        ["tasks", "sample", "binary-successor", "--max-size", str(10**30)],
        ["tasks", "lm-corpus", "--out", str(out), "--validation-chunks", "-1"],
        ["tasks", "lm-corpus", "--out", str(out), "--validation-fraction", "nan"],
        ["tasks", "lm-corpus", "--out", str(out), "--chunk-bytes", "0"],
        ["explain", str(run), "--alpha", "inf"],
        ["explain", str(run), "--seed", "-5"],
        ["explain", "--model", f"run:{run}", "--task", "peano-add", "--shots", "-1"],
        ["interpret", "cache", str(run), "-n", "-1"],
        ["interpret", "perturb", str(run), "--seed", str(10**30)],
        ["runs", "query", "select 1", "--limit", "-1", "--catalog", str(w / "catalog.sqlite")],
        ["eval", str(run), "--failures", "-1"],
        ["lm-samples", str(run), "--temperature", "nan"],
        ["lm-samples", str(run), "--seed", str(10**30)],
        ["study", "recursion", "--out", str(out), "--seeds", "0"],
    ):
        add("2", " ".join(args[:2] + args[-2:]), Case("", "", [*BL, *args], [out]))
    for s in (
        "train.seed=100000000000000000000000",
        "data.seed=-1",
        "optim.lr=nan",
        f"train.steps={10**30}",
        "model.dropout=inf",
        "train.threads=0",
    ):
        add("2", f"train --set {s}", train(s))
    add(
        "2",
        "imitation seed 10^23",
        Case("", "", [*BL, "imitate", str(imitation(seed=HUGE)), "--out", str(out)], [out]),
    )
    bad_temp = imitation()
    bad_temp.write_text(bad_temp.read_text().replace("temperature = 0.7", "temperature = nan"))
    add(
        "2",
        "imitation temperature nan",
        Case("", "", [*BL, "imitate", str(bad_temp), "--out", str(out)], [out]),
    )
    (w / "seed-sweep.toml").write_text(tomli_w.dumps({"base": "tiny.toml", "grid": {"train.seed": [10**20]}}))
    add(
        "2",
        "sweep grid seed 10^20",
        Case("", "", [*BL, "sweep", str(w / "seed-sweep.toml"), "--out", str(out)], [out]),
    )
    dspec = w / "dspec.toml"
    dspec.write_text(
        f'task = "peano-add"\nseed = {HUGE}\n[[splits]]\nname = "train"\nn = 5\nmin_size = 1\nmax_size = 3\n'
    )
    add(
        "2", "dataset seed 10^23", Case("", "", [*BL, "tasks", "build", str(dspec), "--out", str(out)], [out])
    )

    # 3. every write inside the output directory, under its ownership rule
    mine = w / "mine"
    (mine / "figures").mkdir(parents=True)
    (mine / "figures" / "overview-accuracy.png").write_bytes(b"mine")
    add(
        "3",
        "report --out DIR/x.html over the user's figures/",
        Case("", "", [*BL, "report", str(run), "--out", str(mine / "x.html")], [mine / "x.html"], [mine]),
    )
    linked = w / "linked"
    linked.mkdir()
    (linked / "figures").symlink_to(mine / "figures", target_is_directory=True)
    add(
        "3",
        "report --out where figures/ is a link",
        Case("", "", [*BL, "report", str(run), "--out", str(linked / "x.html")], [linked / "x.html"], [mine]),
    )
    for where, argv in _linked_runs(w, run, tiny, mine):
        add("3", where, Case("", "", argv, [], [mine]))
    size = imitation(**{"base.sizes": [{"name": "..", "model": imit["base"]["sizes"][0]["model"]}]})
    add(
        "3",
        "imitation base size named ..",
        Case("", "", [*BL, "imitate", str(size), "--out", str(out)], [out]),
    )
    dots = w / "dots.toml"
    dots.write_text('task = "peano-add"\n[[splits]]\nname = ".."\nn = 5\nmin_size = 1\nmax_size = 3\n')
    add(
        "3",
        "tasks build split named ..",
        Case("", "", [*BL, "tasks", "build", str(dots), "--out", str(out)], [out]),
    )
    add(
        "3",
        "train --force over someone's notes",
        Case("", "", [*BL, "train", str(tiny), "--out", str(mine), "--force"], [], [mine]),
    )

    # 5. the failure path (a full disk) -- run separately, it needs a tmpfs

    # 6. untrusted files at the door
    bad_hf = w / "hf-truncated"
    shutil.copytree(hf, bad_hf)
    weights = bad_hf / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-64])
    add(
        "6",
        "probe truncated model.safetensors",
        Case("", "", [*BL, "probe", "--model", f"hf:{bad_hf}", "--out", str(out)], [out]),
    )
    add(
        "6",
        "explain truncated model.safetensors",
        Case("", "", [*BL, "explain", "--model", f"hf:{bad_hf}", "--task", "peano-add"]),
    )
    noisy = w / "hf-header"
    shutil.copytree(hf, noisy)
    (noisy / "model.safetensors").write_bytes(b"\xff" * 8 + b"{}")
    add(
        "6",
        "probe safetensors with a bogus header",
        Case("", "", [*BL, "probe", "--model", f"hf:{noisy}", "--out", str(out)], [out]),
    )
    nocfg = w / "hf-config"
    shutil.copytree(hf, nocfg)
    (nocfg / "config.json").write_text("{not json")
    add(
        "6",
        "probe HF dir with a broken config.json",
        Case("", "", [*BL, "probe", "--model", f"hf:{nocfg}", "--out", str(out)], [out]),
    )
    junk = w / "junk.gguf"
    junk.write_bytes(os.urandom(4096))
    add(
        "6",
        "probe gguf of random bytes",
        Case("", "", [*BL, "probe", "--model", f"gguf:{junk}", "--out", str(out)], [out]),
    )
    fake = w / "fake.gguf"
    fake.write_bytes(b"GGUF" + os.urandom(4096))
    add(
        "6",
        "probe gguf with only the magic",
        Case(
            "",
            "",
            [*BL, "probe", "--model", f"gguf:{fake}", "--out", str(out)],
            [out],
            env={"BEHAVIORLAB_CACHE": str(w / "cache")},
        ),
    )
    pages = w / "html"
    pages.mkdir()
    for i in range(12):
        (pages / f"p{i}.html").write_bytes(os.urandom(3000))
    (pages / "p5.html").write_bytes(b"<![garbage[" + os.urandom(3000))
    add(
        "6",
        "lm-corpus random bytes named .html",
        Case("", "", [*BL, "tasks", "lm-corpus", "--root", str(pages), "--out", str(out)], [out]),
    )
    for rel in (
        "predictions.parquet",
        "metrics.parquet",
        "data/train.parquet",
        "summary.json",
        "checkpoints/manifest.json",
        "config.toml",
    ):
        copy = w / f"bad-{rel.replace('/', '-')}"
        shutil.copytree(run, copy)
        (copy / rel).write_bytes(os.urandom(200))
        for cmd in (
            ["explain", str(copy), "--queries", "20", "--check", "0"],
            ["replay", str(copy)],
            ["runs", "record", str(copy), "--catalog", str(w / "c.sqlite")],
        ):
            add("6", f"{cmd[0]} with garbage {rel}", Case("", "", [*BL, *cmd]))
    notdb = w / "notdb.sqlite"
    notdb.write_bytes(os.urandom(5000))
    add(
        "6",
        "runs list on a catalog of random bytes",
        Case("", "", [*BL, "runs", "list", "--catalog", str(notdb)]),
    )
    big = w / "big-steps"
    shutil.copytree(run, big)
    s = json.loads((big / "summary.json").read_text())
    (big / "summary.json").write_text(json.dumps({**s, "steps": 10**30}))
    add(
        "6",
        "runs record of a summary with steps 10^30",
        Case("", "", [*BL, "runs", "record", str(big), "--catalog", str(w / "c2.sqlite")]),
    )
    recorded = w / "recorded.toml"
    (w / "garbage.parquet").write_bytes(os.urandom(1000))
    raw = {
        "name": "r",
        "data": {"files": {"train": "garbage.parquet"}},
        "model": {"d_model": 16, "n_heads": 2},
    }
    recorded.write_text(tomli_w.dumps(raw))
    add(
        "6",
        "train on recorded data that is not Parquet",
        Case("", "", [*BL, "train", str(recorded), "--out", str(out)], [out]),
    )

    # 7. user text on the terminal
    esc = "\x1b[2J\x1b]0;pwned\x07"
    add("7", "eval of a path with escapes", Case("", "", [*BL, "eval", str(w / f"no{esc}")]))
    add("7", "a command name with escapes", Case("", "", [*BL, f"x{esc}"]))
    add(
        "7",
        "tasks solve input with escapes",
        Case("", "", [*BL, "tasks", "solve", "binary-successor", f"1{esc}"]),
    )
    add(
        "7",
        "runs show with escapes",
        Case("", "", [*BL, "runs", "show", f"r{esc}", "--catalog", str(w / "catalog.sqlite")]),
    )
    evil = w / f"evil{esc}"
    add(
        "7",
        "train into a folder named with escapes",
        Case(
            "",
            "",
            [*BL, "train", str(tiny), "--out", str(evil), "--set", f'name="n{esc}"', "--no-evaluate"],
            code=0,
        ),
    )
    add("7", "report of that run", Case("", "", [*BL, "report", str(evil)], code=0))
    add(
        "7",
        "runs list showing it",
        Case("", "", [*BL, "runs", "list", "--catalog", str(w / "catalog.sqlite")], code=0),
    )
    return c


def _linked_runs(w: Path, run: Path, tiny: Path, outside: Path) -> list[tuple[str, list[str]]]:
    """Runs whose files or folders are links out of them, and the commands that would write there."""
    out = []
    for rel, argv in [
        ("analysis", ["explain", "RUN", "--queries", "20", "--check", "0"]),
        ("analysis", ["interpret", "heads", "RUN", "-n", "4"]),
        ("analysis", ["lm-samples", "RUN"]),
        ("checkpoints", ["train", str(tiny), "--out", "RUN", "--resume"]),
        ("predictions.parquet", ["eval", "RUN"]),
        ("figures", ["report", "RUN"]),
    ]:
        copy = w / f"linked-{len(out)}"
        shutil.copytree(run, copy)
        target = copy / rel
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
        target.symlink_to(
            outside / "figures"
            if rel != "predictions.parquet"
            else outside / "figures" / "overview-accuracy.png"
        )
        out.append(
            (
                f"{argv[0]} through a {rel} link out of the run",
                [*BL, *[str(copy) if a == "RUN" else a for a in argv]],
            )
        )
    # A checkpoint manifest naming a folder outside checkpoints/.
    copy = w / "linked-manifest"
    shutil.copytree(run, copy)
    m = json.loads((copy / "checkpoints" / "manifest.json").read_text())
    m["checkpoints"][0]["dir"] = "../../mine"
    (copy / "checkpoints" / "manifest.json").write_text(json.dumps(m))
    out.append(
        (
            "train --resume with a manifest naming ../../mine",
            [*BL, "train", str(tiny), "--out", str(copy), "--resume"],
        )
    )
    return out


def _imitation() -> dict[str, object]:
    import tomllib

    return tomllib.loads((ROOT / "configs" / "imitation-quick.toml").read_text())


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
                [*BL, "probe", "--model", str(run), "--out", str(disk / "p"), "--limit", "1"],
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


def workers_die(w: Path, tiny: Path) -> list[tuple[str, bool, str]]:
    """Rule 4: kill -9 of a command with a worker pool; its workers must be gone within seconds."""
    from test_dirs_and_workers import _alive, _children

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
    ]:
        proc = subprocess.Popen([*BL, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        kids: list[int] = []
        while time.monotonic() < deadline and proc.poll() is None:
            kids = [c for c in _children(proc.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
            if kids and list(out.rglob("summary.json")):
                break
            time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(5)
        alive = [k for k in kids if _alive(k)]
        found.append((name, bool(kids) and not alive, f"{len(kids)} workers, {len(alive)} alive after 5 s"))
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
    for name, ok, note in full_disk(w, run, tiny) + workers_die(w, tiny):
        rule = "5" if "free" in name else "4"
        results.append((rule, name, ok, note))
        print(f"[{'held' if ok else 'FAILED'}] {rule} {name}: {note}", flush=True)
    for rule in sorted({r for r, *_ in results}):
        mine = [ok for r, _, ok, _ in results if r == rule]
        print(f"rule {rule}: {sum(mine)}/{len(mine)} held")
    print(f"all: {sum(ok for *_, ok, _ in results)}/{len(results)} held")


if __name__ == "__main__":
    main()
