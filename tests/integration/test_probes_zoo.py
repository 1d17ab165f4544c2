"""A model zoo through `probe --models`: our transformer, our LSTM and a Hugging Face model, each
model × probe part a job. A run killed mid-way resumes on a local Ray instance and matches a run on
the local process pool exactly; the comparison ranks the models; bad zoo files are one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from behaviorlab.rundir import OUTPUTS, PARTS, RESULTS
from behaviorlab.store import replay_probe
from behaviorlab.sweep.probes import probe
from tests.faults.kit import Cli
from tests.lm_tiny import gpt2_dir
from tests.unit.probe_fakes import tiny_run


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


ARGS = {"probes": "copying,repetition,icl", "limit": 3, "seed": 2}


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("zoo")
    runs = {k: tiny_run(k, root) for k in ("transformer", "lstm")}
    hf = gpt2_dir(root)
    file = root / "zoo.toml"
    file.write_text(
        f'[[model]]\nspec = "{runs["transformer"]}"\nname = "transformer"\n\n'
        f'[[model]]\nspec = "{runs["lstm"]}"\nname = "lstm"\ncontext = 24\n\n'
        f'[[model]]\nspec = "hf:{hf}"\nchat = false\n'
    )
    return file


def _same(a: Path, b: Path) -> None:
    assert pq.read_table(a / OUTPUTS).to_pylist() == pq.read_table(b / OUTPUTS).to_pylist()
    assert (a / RESULTS).read_text() == (b / RESULTS).read_text()


def test_killed_zoo_run_resumes_on_ray_and_matches_the_local_pool(
    zoo: Path, tmp_path: Path, cli: Cli
) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'behaviorlab[ray]')")
    local = probe([], tmp_path / "local", zoo=zoo, **ARGS)  # default for a zoo: the local pool
    assert [m["name"] for m in local["models"]] == ["transformer", "lstm", "gpt2-tiny"]
    assert local["models"][2]["chat"] is False  # the zoo's per-model setting
    ranking = local["comparison"]["icl"]["ranking"]
    assert len(ranking) == 3 and ranking[0]["estimate"] >= ranking[-1]["estimate"]
    assert len(local["comparison"]["icl"]["pairs"]) == 3

    # The same run from the command line, killed (workers and all) once a part has finished.
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "behaviorlab", "probe", "--models", str(zoo), "--out", str(out)]
    cmd += ["--probes", ARGS["probes"], "-n", "3", "--seed", "2", "--workers", "1"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not list((out / PARTS).glob("*.json")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list((out / PARTS).glob("*.json")))
    assert 1 <= finished < 9, "the kill should land after the first part and before the last"
    assert not (out / RESULTS).exists()

    res = cli("probe", "--models", zoo, "--out", out, "--probes", ARGS["probes"], "-n", "3",
              "--seed", "2", "--backend", "ray", "--resume")  # fmt: skip
    assert res.code == 0, res.err
    _same(out, tmp_path / "local")
    report = replay_probe(tmp_path / "local")  # the context bound of the zoo applies again
    assert report.identical, report.differences[:3]


def test_bad_zoo_files_are_one_line(tmp_path: Path, cli: Cli) -> None:
    cases = {
        "empty.toml": ("", "no models"),
        "typo.toml": ('[[model]]\nspec = "x"\ncontxt = 3\n', "model 1: contxt: Extra inputs"),
        "small.toml": ('[[model]]\nspec = "x"\ncontext = 4\n', "model 1: context: Input should be greater"),
        "other.toml": ('[models]\nspec = "x"\n', "unknown key"),
    }
    for name, (text, match) in cases.items():
        (tmp_path / name).write_text(text)
        res = cli("probe", "--models", tmp_path / name, "--out", tmp_path / "out")
        assert res.code == 2 and match in res.one_line_error(), (name, res.err)
    assert not (tmp_path / "out").exists()
    res = cli("probe", "--model", "nowhere", "--out", tmp_path / "out", "--workers", "2")
    assert res.code == 2 and "--workers need --backend" in res.one_line_error()
