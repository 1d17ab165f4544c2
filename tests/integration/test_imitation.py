"""`behaviorlab imitate` end to end at tiny sizes: results tables, determinism, resume keeps
finished students, and bad input is one line that leaves nothing behind."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from behaviorlab.cli import main
from behaviorlab.errors import BadInput
from behaviorlab.imitation import in_process, run_experiment, validate
from behaviorlab.report import render_report
from behaviorlab.rundir import RESULTS, RunDir

TINY_MODEL = {"kind": "decoder-only", "d_model": 16, "n_heads": 2, "dec_layers": 1, "d_ff": 32, "max_len": 64}
TINY: dict[str, Any] = {
    "name": "tiny-imitation",
    "teacher": {
        "examples_per_skill": 100,
        "model": {**TINY_MODEL, "kind": "encoder-decoder", "enc_layers": 1},
        "fit": {"steps": 20, "batch_size": 16, "lr": 3e-3},
    },
    "base": {
        "examples_per_skill": 50,
        "fit": {"steps": 10, "batch_size": 16, "lr": 3e-3},
        "sizes": [
            {"name": "a", "model": TINY_MODEL},
            {"name": "b", "model": {**TINY_MODEL, "dec_layers": 2}},
        ],
    },
    "student": {"steps": 10, "batch_size": 8},
    "sweep": {"amounts": [8, 16]},
    "eval": {"per_skill": 10, "invalid": 4},
    "algorithm": {"n": 20, "extra_fit": 0},
}


def tiny(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(TINY)
    for dotted, value in changes.items():
        *path, key = dotted.split("__")
        node = raw
        for part in path:
            node = node.setdefault(part, {})
        node[key] = value
    return raw


def _run(out: Path, raw: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    return run_experiment(validate(raw or tiny(), "tiny"), out, progress=False, **kw)


def test_tiny_run_writes_every_table(tmp_path: Path) -> None:
    out = tmp_path / "imit"
    results = _run(out)
    assert RunDir.open(out).kind == "imitation" and RunDir.open(out).status == "complete"
    names = [r["name"] for r in results["rows"]]
    # Amount sweep for local and broad on base a, base sweep at the default amount.
    assert names == [
        "teacher (2nd sample)", "base a", "base b",
        "local-8-a", "local-16-a", "broad-8-a", "broad-16-a", "local-8-b",
    ]  # fmt: skip
    student = results["rows"][3]
    assert set(student["content"]) == {"successor", "add", "reverse", "all"}
    assert {"list", "summary", "unigram_overlap", "length_r", "template", "abstain_invalid"} <= set(
        student["style"]
    )
    assert student["algorithm"]["teacher_failures"] >= 0 and "same_shortcut" in student["algorithm"]
    for cell in student["content"].values():
        assert 0 <= cell["ci_low"] <= cell["estimate"] <= cell["ci_high"] <= 1 and cell["method"] == "wilson"
    assert results["data"]["local"]["16"]["examples"] == 16 and results["data"]["local"]["16"]["tokens"] > 16
    assert {f["name"].split(" (")[0] for f in results["findings"]} >= {
        "style approaches the teacher's as data grows",
        "a larger base beats more imitation data",
    }
    assert json.loads((out / RESULTS).read_text()) == results
    assert sorted(p.name for p in (out / "plots").iterdir()) == [
        "amount.png",
        "base.png",
        "local-vs-broad.png",
    ]
    assert sorted(p.name for p in (out / "data").glob("local-*.parquet")) == [
        "local-16.parquet",
        "local-8.parquet",
    ]
    page = render_report(out).read_text()  # `behaviorlab report DIR` on an imitation run
    for title in ("Imitation: findings", "Content", "Style", "Algorithm", "Sweeps", "local-16-a"):
        assert title in page, title
    assert (out / "figures" / "amount-content.png").is_file() and (
        out / "figures" / "local-vs-broad.png"
    ).is_file()


def test_same_config_and_seed_give_identical_results(tmp_path: Path) -> None:
    a = (_run(tmp_path / "a"), (tmp_path / "a" / RESULTS).read_bytes())
    b = (_run(tmp_path / "b"), (tmp_path / "b" / RESULTS).read_bytes())
    assert a[1] == b[1]
    c = _run(tmp_path / "c", tiny(seed=1))
    assert c["rows"][0]["examples"] != a[0]["rows"][0]["examples"] or c != a[0]


class Interrupting:
    """A runner that stops the experiment (like Ctrl-C) after `after` student jobs finished."""

    def __init__(self, after: int | None) -> None:
        self.after, self.kept = after, []  # type: ignore[var-annotated]

    def __call__(self, fn: Callable[..., Any], jobs: list[Any], on_update: Any) -> Iterator[tuple[int, Any]]:
        students = "students" in str(jobs[0][1])
        for i, result in in_process(fn, jobs, on_update):
            if students:
                self.kept.append(result["kept"])
                if self.after is not None and len(self.kept) > self.after:
                    raise KeyboardInterrupt
            yield i, result


def test_resume_keeps_finished_students(tmp_path: Path) -> None:
    out = tmp_path / "imit"
    stop = Interrupting(after=2)
    with pytest.raises(KeyboardInterrupt):
        _run(out, runner=stop)
    assert RunDir.open(out).status == "interrupted"
    with pytest.raises(BadInput, match="--resume with a config that differs"):
        _run(out, tiny(seed=5), resume=True)
    again = Interrupting(after=None)
    resumed = _run(out, runner=again, resume=True)
    assert again.kept == [True, True, True, False, False]  # three finished, two trained now
    fresh = _run(tmp_path / "fresh")
    assert resumed == fresh  # a resumed experiment ends where an uninterrupted one does


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"teacher__spec": "hf:/no/such/model", "base__tokenizer": "bytes"}, "no such file or directory"),
        ({"teacher__spec": "nonsense", "base__tokenizer": "bytes"}, "model spec 'nonsense'"),
        ({"teacher__spec": "smollm2"}, "base.tokenizer = words covers only"),
        ({"queries__local": "divide"}, r"queries.local: unknown skill\(s\) \['divide'\]"),
        ({"base__skills": []}, "base.skills: unknown skill"),
        ({"sweep__amounts": [16, 8]}, "strictly increasing"),
        ({"sweep__amounts": []}, "sweep.amounts: List should have at least 1 item"),
        ({"sweep__default_base": "z"}, "default_base 'z' is not one of"),
        ({"queries__local": "add", "sweep__amounts": [200]}, "add: only 90 distinct queries of 180"),
        (
            {
                "family": "next-number",
                "queries": {"local": "next", "broad": ["next"]},
                "base__skills": ["previous"],
                "algorithm__skill": "next",
            },
            "teacher.spec = synthetic trains the synthetic family",
        ),
        ({"teacher__temperature": -1.0}, "teacher.temperature"),
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    out = tmp_path / "never"
    with pytest.raises(BadInput, match=message) as err:
        _run(out, tiny(**changes))
    assert "\n" not in str(err.value)
    assert not out.exists()


@pytest.mark.slow  # spawned worker processes import torch: about a minute on the shared box
def test_cli_runs_on_the_local_pool_and_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(tomli_w.dumps(tiny(sweep__amounts=[8], base__sizes=TINY["base"]["sizes"][:1])))

    def cli(*args: str | Path) -> int:
        try:
            main([str(a) for a in args])
        except SystemExit as e:
            return int(e.code or 0)
        return 0

    assert cli("imitate", cfg, "--out", tmp_path / "run", "--workers", "2") == 0
    assert "wrote" in capsys.readouterr().out and (tmp_path / "run" / RESULTS).is_file()
    assert cli("imitate", cfg, "--out", tmp_path / "run") == 2  # exists: needs --force
    assert "--force" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[teacher]\nspec = "gguf:/nope.gguf"\n[base]\ntokenizer = "bytes"\n'
        '[[base.sizes]]\nname = "a"\nmodel = {}\n'
    )
    assert cli("imitate", bad, "--out", tmp_path / "never") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and not (tmp_path / "never").exists()


def test_queries_grown_from_seeds_by_the_teacher(tmp_path: Path) -> None:
    from behaviorlab.imitation.queries import make_query
    from behaviorlab.imitation.skills import SYNTHETIC
    from behaviorlab.tasks.recorded import read_pairs

    raw = tiny(queries__source="grow", queries__seeds=4, queries__settings=["local"], sweep__amounts=[4, 8])
    results = _run(tmp_path / "imit", raw)
    rows = read_pairs(tmp_path / "imit" / "data" / "local.parquet")
    assert 4 <= len(rows) <= 8 and len({r.input for r in rows}) == len(rows)
    # The seeds are local-skill queries; what the (barely trained) teacher adds is in a known format.
    assert sum(r.input.startswith("successor: ") for r in rows) >= 4
    assert all(make_query(SYNTHETIC, r.input) is not None for r in rows)
    assert results["data"]["local"]["4"]["examples"] == 4
