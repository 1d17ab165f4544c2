"""The cases `adversary.py` tries for rules 1-3, 6 and 7 (the ones a single command can show):
bad sizes, bad numbers, writes that would leave the output directory, files that are not what
they claim, control characters in user text."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

ROOT = Path(__file__).resolve().parents[2]
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
    code: int | None = 2  # None: it may cope (0, or 1 for a replay that differs) or refuse
    env: dict[str, str] = field(default_factory=dict)


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
        ("sweep", {"amounts": [10**15], "default_amount": 10**15}),
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
        Case(
            "",
            "",
            [*BL, "train", str(tiny), "--out", str(out), "--nproc", "1000000000"]
            + ["--set", "train.batch_size=1000000000"],
            [out],
        ),
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
        ["probe", "--model", str(run), "--out", str(out), "-n", "0"],
        ["probe", "--model", str(run), "--out", str(out), "-n", str(10**30)],
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
        ["runs", "query", "select 1", "-n", "-1", "--catalog", str(w / "catalog.sqlite")],
        ["eval", str(run), "-n", "-1"],
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

    # ... and the exports and results sinks (issue 22): their folders under the same rule
    (mine / "run").mkdir()
    (mine / "run" / "notes.csv").write_text("mine")
    add(
        "3",
        "export into OUT whose RUN folder holds the user's files",
        Case("", "", [*BL, "export", str(run), "--to", "csv", "--out", str(mine)], [], [mine]),
    )
    twin = w / "twin" / run.name
    shutil.copytree(run, twin)
    add(
        "3",
        "export of two runs with one folder name",
        Case("", "", [*BL, "export", str(run), str(twin), "--to", "csv", "--out", str(out)], [out]),
    )
    add(
        "3",
        "runs export --out over the user's CSV",
        Case(
            "",
            "",
            [*BL, "runs", "export", "--out", str(mine / "run" / "notes.csv"), "--format", "csv"]
            + ["--catalog", str(w / "catalog.sqlite")],
            [],
            [mine],
        ),
    )
    sunk = train('track.sinks=["csv"]', f'track.dir="{mine}"', 'name="run"', code=0, kept=[mine])
    sunk.gone = []  # the run itself trains (the sink is dropped with a warning)
    add("3", "train with [track] dir onto the user's folder", sunk)
    add("3", "train with an unknown results sink", train('track.sinks=["nope"]'))
    add(
        "3",
        "probe --sink nope",
        Case("", "", [*BL, "probe", "--model", str(run), "--out", str(out), "--sink", "nope"], [out]),
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
            add("6", f"{cmd[0]} with garbage {rel}", Case("", "", [*BL, *cmd], code=None))
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

    bad_metrics = w / "bad-metrics-export"
    shutil.copytree(run, bad_metrics)
    (bad_metrics / "metrics.parquet").write_bytes(os.urandom(300))
    add(
        "6",
        "export of a run with garbage metrics.parquet",
        Case("", "", [*BL, "export", str(bad_metrics), "--to", "parquet", "--out", str(out)], [out]),
    )
    nulls = w / "nulls.jsonl"
    nulls.write_text('{"input": "1 0", "output": "1 1"}\n{"input": null, "output": "1"}\n')
    rnd = w / "random-pairs.parquet"
    rnd.write_bytes(os.urandom(500))
    add(
        "6", "tasks sample a pairs file with a null input", Case("", "", [*BL, "tasks", "sample", str(nulls)])
    )
    add("6", "train on a pairs task file of random bytes", train(f'data.task="{rnd}"'))
    add(
        "6",
        "explain --model --task a pairs file of random bytes",
        Case("", "", [*BL, "explain", "--model", f"run:{run}", "--task", str(rnd)]),
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
        "export of that run",
        Case("", "", [*BL, "export", str(evil), "--to", "csv", "--out", str(w / "exported")], code=0),
    )
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
        ("analysis", ["lm-samples", "RUN", "--split", "test_id"]),
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
