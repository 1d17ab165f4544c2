"""`behaviorlab probe` end to end on a tiny run: the run directory, the side-by-side table, the
catalog, the report page, an identical replay (and a tampered one that is not), one-line errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from probe_fakes import tiny_run

from behaviorlab.cli import main
from behaviorlab.probes import OUTPUTS


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run the console entry point in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    got = capsys.readouterr()
    return code, got.out, got.err


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_run("transformer", tmp_path_factory.mktemp("runs"))


@pytest.fixture
def probed(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    out = tmp_path / "probe"
    code, stdout, err = cli(capsys, "probe", "--model", run, "-n", "8", "--out", out)
    assert code == 0, err
    return out, stdout


def test_probe_writes_a_catalogued_run_and_a_table(probed: tuple[Path, str]) -> None:
    out, stdout = probed
    for probe in ("copying", "repetition", "noise", "icl", "consistency", "data vs outputs"):
        assert probe in stdout
    assert "tiny-transformer" in stdout and "[" in stdout  # the model's column, with intervals
    config = (out / "config.toml").read_text()
    assert 'kind = "probe"' in config and "limit = 8" in config
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["models"] == ["tiny-transformer"]
    assert pq.read_table(out / OUTPUTS).num_rows == summary["generations"] > 0
    with sqlite3.connect(out.parent / "catalog.sqlite") as db:
        assert db.execute("select kind, status from runs").fetchall() == [("probe", "complete")]


def test_report_renders_a_probe_page(probed: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = probed
    code, _, err = cli(capsys, "report", out)
    assert code == 0, err
    html = (out / "report.html").read_text()
    for title in ("Headlines", "Probe: copying", "Probe: noise", "Probe: consistency", "Data vs outputs"):
        assert f"<h2>{title}</h2>" in html
    assert "Training curves" not in html
    order = [
        html.index(f"<h2>Probe: {p}</h2>") for p in ("copying", "repetition", "noise", "icl", "consistency")
    ]
    assert order == sorted(order)  # run order, although results.json keeps its keys sorted
    pngs = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert "icl-icl-accuracy-plain.png" in pngs and "copying-copy-by-span.png" in pngs


def test_replay_is_identical_then_catches_a_tampered_output(
    probed: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = probed
    code, stdout, err = cli(capsys, "replay", out)
    assert code == 0, stdout + err
    assert "identical" in stdout and "re-scored" in stdout
    table = pq.read_table(out / OUTPUTS)
    outputs = table.column("output").to_pylist()
    outputs[0] = outputs[0] + " O1"
    pq.write_table(
        table.set_column(table.schema.get_field_index("output"), "output", pa.array(outputs)), out / OUTPUTS
    )
    code, stdout, _ = cli(capsys, "replay", out)
    flat = " ".join(stdout.split())  # the console wraps long lines
    assert code == 1 and "DIFFERS" in flat and "text differs" in flat and "1 difference(s)" in flat
    code, _, err = cli(capsys, "replay", out, "--from-checkpoint")
    assert code == 2 and "probe run" in one_line(err)


@pytest.mark.parametrize(
    "models",
    [["nope:x"], ["gguf:"], ["RUN", "/no/such/run"], ["RUN", "run:/no/such/run"]],
)
def test_bad_model_specs_are_one_line_and_write_nothing(
    models: list[str], run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a for m in models for a in ("--model", str(run) if m == "RUN" else m)]
    code, _, err = cli(capsys, "probe", *args, "--out", tmp_path / "out")
    assert code == 2
    one_line(err)
    assert not (tmp_path / "out").exists()


def test_bad_options_and_force(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(
        capsys, "probe", "--model", run, "--probes", "copying,telepathy", "--out", tmp_path / "o"
    )
    assert code == 2 and "telepathy" in one_line(err) and not (tmp_path / "o").exists()
    code, _, err = cli(capsys, "probe", "--model", run, "-n", "0", "--out", tmp_path / "o")
    assert code == 2 and "'-n'" in one_line(err)  # the option's own range check names it
    # --force replaces only a probe run: never a training run, never a folder of other files.
    code, _, err = cli(capsys, "probe", "--model", run, "--out", run, "--force")
    assert code == 2 and "not a behaviorlab probe run" in one_line(err)
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    code, _, err = cli(capsys, "probe", "--model", run, "--out", other, "--force")
    assert code == 2 and (other / "keep.txt").read_text() == "mine"
    out = tmp_path / "p"
    args = ["probe", "--model", run, "--probes", "copying", "-n", "2", "--out", out]
    assert cli(capsys, *args)[0] == 0
    code, _, err = cli(capsys, *args)
    assert code == 2 and "--force" in one_line(err)
    assert cli(capsys, *args, "--force")[0] == 0
