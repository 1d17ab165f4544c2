"""A third-party package adds a task and a probe without any edit to behaviorlab: the example
plugin (tests/integration/plugin_example, the one CONTRIBUTING.md shows) is pip-installed into a
folder of its own, put on the path, and `tasks list`, `train` and `probe` use what it registers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent / "plugin_example"
BEHAVIORLAB = Path(sys.executable).parent / "behaviorlab"

CONFIG = """
name = "reverse-abc"
[data]
task = "reverse-abc"
[[data.splits]]
name = "train"
n = 120
min_size = 1
max_size = 4
[[data.splits]]
name = "test_id"
n = 20
min_size = 1
max_size = 4
[model]
d_model = 16
n_heads = 2
enc_layers = 1
dec_layers = 1
d_ff = 32
max_len = 16
[train]
steps = 20
batch_size = 16
eval_every = 10
eval_examples = 16
checkpoint_every = 10
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The example plugin installed with pip into its own folder; the environment that sees it."""
    root = tmp_path_factory.mktemp("plugin")
    src, target = root / "src", root / "site"
    shutil.copytree(EXAMPLE, src)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--target", str(target), str(src)],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "BEHAVIORLAB_CATALOG": str(root / "catalog.sqlite")}
    env.pop("BEHAVIORLAB_PLUGINS", None)
    return env


def _run(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BEHAVIORLAB), *map(str, args)], env=env, capture_output=True, text=True)


def test_the_plugin_task_and_probe_work_through_the_cli(installed: dict[str, str], tmp_path: Path) -> None:
    listed = _run(installed, "tasks", "list")
    assert listed.returncode == 0, listed.stderr
    assert "reverse-abc" in listed.stdout and "Reverse a string" in listed.stdout
    (tmp_path / "cfg.toml").write_text(CONFIG)
    run = tmp_path / "run"
    trained = _run(installed, "train", tmp_path / "cfg.toml", "--out", run)
    assert trained.returncode == 0, trained.stderr
    assert json.loads((run / "summary.json").read_text())["task"] == "reverse-abc"
    probed = _run(installed, "probe", "--model", run, "--out", tmp_path / "probe", "-n", "1")
    assert probed.returncode == 0, probed.stderr
    results = json.loads((tmp_path / "probe" / "results.json").read_text())
    # The default probe list is the registry's: the built-ins, then the plugin's.
    config = tomllib.loads((tmp_path / "probe" / "config.toml").read_text())
    assert config["probes"] == ["copying", "repetition", "noise", "icl", "consistency", "same-length"]
    finding = results["probes"]["same-length"]["run"]
    assert finding["headline"]["n"] == 3 and finding["verdict"].startswith("as long as the input in")
    assert {"copying", "noise"} <= set(results["probes"])


def test_without_the_plugin_its_task_is_unknown(installed: dict[str, str], tmp_path: Path) -> None:
    off = {**installed, "BEHAVIORLAB_PLUGINS": "0"}
    (tmp_path / "cfg.toml").write_text(CONFIG)
    refused = _run(off, "train", tmp_path / "cfg.toml", "--out", tmp_path / "run")
    assert refused.returncode == 2 and "unknown task 'reverse-abc'" in refused.stderr
    assert refused.stderr.count("\n") == 1 and not (tmp_path / "run").exists()
