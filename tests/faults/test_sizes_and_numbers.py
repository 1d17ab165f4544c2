"""Sizes are bounded before anything is allocated (limits.py), numbers are checked at every door
(validate.py), and user text reaches the terminal without control characters — each rule through
several commands, each refusal one line, exit 2, with nothing left behind."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from kit import refused, tiny_config, trained_tiny

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _imitation_config(tmp: Path, **changes: Any) -> Path:
    import tomllib

    raw = tomllib.loads((CONFIGS / "imitation-quick.toml").read_text())
    for dotted, value in changes.items():
        *tables, key = dotted.split(".")
        node = raw
        for t in tables:
            node = node[t]
        node[key] = value
    path = tmp / "imitation.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


# --- 1. sizes: estimated against this machine before anything is allocated -----------------------


def test_sizes_are_refused_before_allocation(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = cli("study", "recursion", "--out", out, "--seeds", "1000000000")
    refused(r, "1,000,000,000 seeds", "of memory", "available", "lower --seeds")
    cfg = _imitation_config(tmp_path, **{"teacher.examples_per_skill": 10**18})
    r = cli("imitate", cfg, "--out", out)
    refused(r, "imitation", "of memory", "lower examples_per_skill")
    # A model whose weights alone cannot fit: refused from the config, before any tensor exists.
    r = cli(
        "train",
        tiny_config(tmp_path),
        "--out",
        out,
        "--set",
        "model.d_model=1048576",
        "--set",
        "model.n_heads=1",
    )
    refused(r, "train tiny", "parameters", "lower model sizes")
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'task = "peano-add"\n[[splits]]\nname = "train"\nn = 1000000000000\nmin_size = 1\nmax_size = 3\n'
    )
    refused(cli("tasks", "build", spec, "--out", out), "1,000,000,000,000 examples", "of memory")
    sweep = tmp_path / "sweep.toml"  # 10^11 combinations: refused before any is built
    grid = {k: list(range(1, n + 1)) for k, n in [("train.seed", 100), ("train.warmup", 100)]}
    grid |= {k: list(range(1, n + 1)) for k, n in [("train.batch_size", 100), ("model.d_ff", 100_000)]}
    sweep.write_text(tomli_w.dumps({"base": tiny_config(tmp_path).name, "grid": grid}))
    refused(cli("sweep", sweep, "--out", out), "100,000,000,000 runs", "of memory", "shorten [grid]")
    assert not out.exists()


def test_explain_and_interpret_sizes(cli: Any, trained: Path) -> None:
    r = cli("explain", trained, "--queries", "1000000000000", "--check", "0")
    refused(r, "explain", "inputs", "of memory", "lower --queries")
    r = cli("explain", "--model", f"run:{trained}", "--task", "binary-successor", "--n", "1000000000000")
    refused(r, "explain --model", "of memory", "lower --queries, --check or --n")  # before loading it
    r = cli("explain", "--model", f"run:{trained}", "--task", "binary-successor", "--max-size", "600")
    refused(r, "size range")  # asked after loading the model: still one line
    r = cli("interpret", "perturb", trained, "-n", "8", "--per-input", "1000000000000000")
    refused(r, "perturb", "edits", "of memory")
    assert not (trained / "analysis" / "perturbation.json").exists()


def test_the_time_limit_has_an_override(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEHAVIORLAB_MAX_HOURS", "1e-9")  # any run is over this limit
    cfg, out = tiny_config(tmp_path, steps=4, eval_every=4, checkpoint_every=4), tmp_path / "run"
    refused(cli("train", cfg, "--out", out), "would take at least", "BEHAVIORLAB_MAX_HOURS", "--allow-long")
    refused(cli("study", "recursion", "--out", out, "--quick", "--seeds", "1"), "--allow-long")
    assert not out.exists()
    r = cli("train", cfg, "--out", out, "--allow-long", "--no-evaluate")
    assert r.code == 0, r


# --- 2. numbers: one range per kind of number, at the CLI, in TOML and through --set --------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["probe", "--model", "run:x", "--out", "OUT", "--seed", str(10**23)], ["--seed"]),
        (["tasks", "sample", "binary-successor", "--seed", "-1"], ["--seed"]),
        (["tasks", "sample", "binary-successor", "--edge-fraction", "nan"], ["finite"]),
        (["tasks", "lm-corpus", "--out", "OUT", "--validation-chunks", "-1"], ["--validation-chunks"]),
        (["tasks", "lm-corpus", "--out", "OUT", "--validation-fraction", "inf"], ["finite"]),
        (["explain", "RUN", "--alpha", "nan"], ["--alpha"]),
        (["interpret", "cache", "RUN", "-n", "-1"], ["-n"]),
        (["runs", "query", "select 1", "-n", "-5"], ["-n"]),
        (["lm-samples", "RUN", "--temperature", "-inf"], ["--temperature"]),
        (["sweep", "SWEEP", "--workers", "100000000000000000000"], ["--workers"]),
    ],
)
def test_cli_numbers_out_of_range(cli: Any, tmp_path: Path, args: list[str], words: list[str]) -> None:
    out = tmp_path / "out"
    args = [str(out) if a == "OUT" else str(tmp_path) if a in ("RUN", "SWEEP") else a for a in args]
    refused(cli(*args), *words)
    assert not out.exists()


def test_config_numbers_out_of_range(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cfg = tiny_config(tmp_path)
    refused(
        cli("train", cfg, "--out", out, "--set", f"train.seed={10**23}"), "train.seed", "less than or equal"
    )
    refused(cli("train", cfg, "--out", out, "--set", "data.seed=-3"), "data.seed", "greater than or equal")
    refused(cli("train", cfg, "--out", out, "--set", f"train.steps={10**30}"), "64-bit integer range")
    refused(cli("imitate", _imitation_config(tmp_path, seed=10**23), "--out", out), "seed")
    refused(
        cli("imitate", _imitation_config(tmp_path, workers=10**12), "--out", out), "--workers", "of memory"
    )
    assert not out.exists()


def test_api_numbers_are_checked_like_the_cli(tmp_path: Path, trained: Path) -> None:
    from behaviorlab.errors import BadInput
    from behaviorlab.probes import run_probes
    from behaviorlab.study import run_study

    with pytest.raises(BadInput, match="--seed"):
        run_probes([str(trained)], tmp_path / "p", seed=10**23)
    with pytest.raises(BadInput, match="seeds"):
        run_study(tmp_path / "s", seeds=range(10**12))
    assert not (tmp_path / "p").exists() and not (tmp_path / "s").exists()


def test_catalog_refuses_numbers_sqlite_cannot_hold(cli: Any, trained: Path, tmp_path: Path) -> None:
    import json
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    s = json.loads((copy / "summary.json").read_text())
    (copy / "summary.json").write_text(json.dumps({**s, "steps": 10**30}))
    refused(cli("runs", "record", copy, "--catalog", tmp_path / "c.sqlite"), "steps", "64-bit integer")


# --- 7. user text on the terminal: control characters escaped ------------------------------------

ESC = "\x1b[2J\x1b[31m"


def test_control_characters_never_reach_the_terminal(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / f"run{ESC}x"
    cfg = tiny_config(tmp_path, steps=4, eval_every=4, checkpoint_every=4)
    r = cli("train", cfg, "--out", out, "--set", f'name="evil{ESC}"')
    assert r.code == 0, r
    assert "\x1b" not in r.out + r.err and "\\x1b[2J" in r.out
    r = cli("runs", "list", "--catalog", tmp_path / "catalog.sqlite")
    assert r.code == 0 and "\x1b" not in r.out and "1 runs" in r.out
    with warnings.catch_warnings(record=True) as caught:  # a warning prints its message on stderr
        warnings.simplefilter("always")
        r = cli("report", out)
    assert r.code == 0 and "\x1b" not in r.out and "\\x1b" in r.out
    assert not [w for w in caught if "\x1b" in str(w.message)], [str(w.message) for w in caught]
    line = refused(cli("eval", tmp_path / f"missing{ESC}"), "missing\\x1b[2J")
    assert "\x1b" not in line
    assert "\x1b" not in refused(cli(f"nope{ESC}"), "nope\\x1b")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained_tiny(tmp_path_factory.mktemp("sizes") / "run")
