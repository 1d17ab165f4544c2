"""The tree-boundary and architectures studies end to end on tiny grids (real cells, tiny models):
runs, the phase table and boundary, the tuned comparison, STUDY.md, a report with the phase
diagram, the cost record, resume; and the real `--quick` grids through the CLI (slow)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from behaviorlab.errors import BadInput
from behaviorlab.study import run as study_run
from behaviorlab.study.architectures import ArchCell
from behaviorlab.study.boundary import BoundaryCell
from behaviorlab.study.definitions import STUDIES
from behaviorlab.train.config import validate

TINY_MODEL = {"d_model": 16, "n_heads": 2, "enc_layers": 1, "dec_layers": 1, "d_ff": 32}


def _shrink(cfg: Any, n_train: int) -> Any:
    """The same cell's config with a tiny model, few examples and a few steps (seconds to train)."""
    raw = json.loads(cfg.model_dump_json())
    raw["model"].update(TINY_MODEL)
    for split in raw["data"]["splits"]:
        split["n"] = n_train if split["name"] == "train" else 30
    raw["train"].update(steps=40, eval_every=20, checkpoint_every=20, eval_examples=32, batch_size=16)
    return validate(raw, "tiny")


def _boundary_jobs(quick: bool, seeds: tuple[int, ...] = (0, 1)) -> list[tuple[BoundaryCell, int, Any]]:
    cells = [BoundaryCell("inorder", s, size, 500, "medium") for s in ("1", "all") for size in (3, 5)]
    return [(c, s, _shrink(c.config(s, True), 60)) for c in cells for s in seeds]


def _arch_jobs(quick: bool, seeds: tuple[int, ...] = (0, 1)) -> list[tuple[ArchCell, int, Any]]:
    cells = [
        ArchCell("binary-successor/natural", k, lr)
        for k in ("encoder-decoder", "lstm")
        for lr in (3e-3, 1e-3)
    ]
    return [(c, s, _shrink(c.config(s, True), 100)) for c in cells for s in seeds]


def _re_read_through_the_cli(out: Path, study: dict[str, Any], capsys: Any) -> None:
    """A study.json written by older code (no sessions, stale claims) is read anew by `--resume`
    without training again; the wall time of the session that trained the runs is kept."""
    from behaviorlab.cli import main

    old = {k: v for k, v in study.items() if k not in ("sessions", "command")}
    old.update(claims=[], boundary={}, seconds=1234.5)
    (out / "study.json").write_text(json.dumps(old))
    (out / "study_sessions.json").unlink()
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["study", "tree-boundary", "--out", str(out), "--quick", "--seeds", "2", "--resume"])
    assert done.value.code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "8 runs, 8 finished and kept, 0 to run\n" in printed
    assert "atomic-vs-end-to-end/inorder" in printed and "study: " in printed
    again = json.loads((out / "study.json").read_text())
    assert again["claims"] == study["claims"] and again["boundary"] == study["boundary"]
    assert [s["seconds"] for s in again["sessions"]] == [1234.5] and again["seconds"] == 1234.5
    assert again["load"] == study["load"] and "--resume" in (out / "STUDY.md").read_text()


def test_tree_boundary_on_a_tiny_grid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any) -> None:
    monkeypatch.setitem(
        STUDIES, "tree-boundary", dataclasses.replace(STUDIES["tree-boundary"], jobs=_boundary_jobs)
    )
    out = tmp_path / "boundary"
    study = study_run.run_study(out, study="tree-boundary", quick=True, workers=2, seeds=(0, 1))
    assert study["study"] == "tree-boundary" and len(study["cells"]) == 4
    log = capsys.readouterr().out  # not a terminal: a line per finished run, with the time left
    assert "8 runs, 0 finished and kept, 8 to run on 2 local workers" in log
    assert re.search(r"tree-boundary: 8/8 tree-inorder-\S+ done; about 0 min left", log)
    assert study["cpu_seconds"] > 0 and study["load"]["cores"] >= 1
    assert all(r["cpu_seconds"] > 0 for r in study["runs"])
    rows = study["phases"]
    assert {(r["max_size"], r["n_train"]) for r in rows} == {(3, 500), (5, 500)}
    for r in rows:  # each setting reads both cells, with every seed's accuracy
        assert len(r["end_to_end"]["values"]) == 2 and len(r["one_step"]["values"]) == 2
        assert r["phase"] in (
            "end to end fails, 1-step learns",
            "both learn",
            "both fail",
            "end to end learns, 1-step fails",
        )
        assert r["depth"]["max"] <= r["max_size"]
    assert set(study["boundary"]) == {"inorder"}
    assert {c["claim"] for c in study["claims"]} == {
        "atomic-vs-end-to-end/inorder",
        "larger-trees-harder/inorder",
    }
    assert all(c["verdict"] in ("reproduced", "not reproduced", "mixed", "no data") for c in study["claims"])
    md = (out / "STUDY.md").read_text()
    assert "## Phases" in md and "## The boundary" in md and "## Our settings beside the paper's" in md
    assert "CPU-s summed over runs" in md
    page = (out / "report.html").read_text()
    assert "Phase diagram" in page and "tree-boundary study" in page
    assert f"Command: <code>behaviorlab study tree-boundary --out {out} --quick --seeds 2</code>" in page
    assert (out / "figures" / "phase-inorder-size-examples.png").is_file()
    # No run is explained (the boundary needs accuracy only), and a resumed study keeps every run.
    assert not any("metamodels" in c for c in study["cells"])
    again = study_run.run_study(out, study="tree-boundary", quick=True, workers=2, resume=True, seeds=(0, 1))
    assert again["phases"] == rows and again["cpu_seconds"] == study["cpu_seconds"]
    # The re-read trained nothing: it is no session, and the study's wall time is the first one's.
    assert again["sessions"] == study["sessions"] and again["seconds"] == study["seconds"]
    assert study["sessions"][0]["runs_trained"] == 8 and study["sessions"][0]["runs_kept"] == 0
    assert again["command"] == f"behaviorlab study tree-boundary --out {out} --quick --seeds 2"
    with pytest.raises(BadInput, match="holds the quick grid; --resume it with --quick"):
        study_run.run_study(out, study="tree-boundary", resume=True, seeds=(0, 1))
    _re_read_through_the_cli(out, study, capsys)

    with pytest.raises(BadInput, match="holds the tree-boundary study"):
        study_run.run_study(out, study="architectures", quick=True, resume=True)
    with pytest.raises(BadInput, match="unknown study"):
        study_run.run_study(tmp_path / "x", study="boundary")
    assert not (tmp_path / "x").exists()


def test_architectures_on_a_tiny_grid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(
        STUDIES, "architectures", dataclasses.replace(STUDIES["architectures"], jobs=_arch_jobs)
    )
    out = tmp_path / "arch"
    study = study_run.run_study(out, study="architectures", quick=True, workers=2, seeds=(0, 1))
    assert len(study["cells"]) == 4 and all(c.get("metamodels") for c in study["cells"])
    assert all(c["accuracy_by_split"]["val"]["n"] == 2 for c in study["cells"])
    rows = study["comparison"]  # one tuned rate per kind, chosen on the validation split
    assert [r["kind"] for r in rows] == ["encoder-decoder", "lstm"]
    for r in rows:
        both = [c for c in study["cells"] if c["kind"] == r["kind"]]
        best = max(both, key=lambda c: (c["accuracy_by_split"]["val"]["mean"], -c["lr"]))
        assert r["lr"] == best["lr"] and r["accuracy_id"] == best["accuracy_id"]
    assert rows[0]["encoder_decoder_is"] is None
    assert rows[1]["encoder_decoder_is"] in ("better", "worse", "no clear difference")
    assert {r["params"] for r in rows} == {c["params"] for c in study["cells"]}
    assert {c["claim"] for c in study["claims"]} == {
        "encoder-decoder-better",
        "no-length-generalisation",
        "failures-predicted",
    }
    page = (out / "report.html").read_text()
    assert "Architectures at their tuned learning rates" in page and "Our settings beside the paper" in page


@pytest.mark.slow
def test_tree_boundary_on_ray(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The same tiny grid as Ray tasks gives the same accuracies as the local pool."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'behaviorlab[ray]')")
    monkeypatch.setitem(
        STUDIES, "tree-boundary", dataclasses.replace(STUDIES["tree-boundary"], jobs=_boundary_jobs)
    )
    local = study_run.run_study(tmp_path / "local", study="tree-boundary", quick=True, seeds=(0,))
    ray = study_run.run_study(tmp_path / "ray", study="tree-boundary", quick=True, backend="ray", seeds=(0,))
    assert ray["backend"] == "ray" and ray["phases"] == local["phases"]


@pytest.mark.slow
@pytest.mark.parametrize("study", ["tree-boundary", "architectures"])
def test_quick_study_through_the_cli(study: str, tmp_path: Path, capsys: Any) -> None:
    """The real --quick grid (≤ 15 minutes on 2 idle cores), as CI runs it."""
    from behaviorlab.cli import main

    out = tmp_path / study
    with pytest.raises(SystemExit) as done:
        main(["study", study, "--out", str(out), "--quick"])
    assert done.value.code == 0, capsys.readouterr().err
    data = json.loads((out / "study.json").read_text())
    assert data["quick"] and data["cpu_seconds"] / 2 < 15 * 60
    assert not [f for c in data["cells"] for f in c.get("failed", [])]
    assert all(c["verdict"] != "no data" for c in data["claims"])
    with pytest.raises(SystemExit) as bad:  # bad input is one line
        main(["study", study, "--out", str(out), "--quick", "--backend", "slurm", "--resume"])
    err = capsys.readouterr().err.strip().splitlines()
    assert bad.value.code == 2 and err == ["error: unknown backend 'slurm'; choose from local, ray"]


def test_part_of_a_grid_with_cells(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any) -> None:
    """`--cells GLOB` trains only the matching cells; the tuning text, STUDY.md, the page and the
    command say what was left out; resume needs the same glob; a glob that matches nothing writes nothing."""
    from behaviorlab.cli import main

    monkeypatch.setitem(
        STUDIES, "architectures", dataclasses.replace(STUDIES["architectures"], jobs=_arch_jobs)
    )
    with pytest.raises(SystemExit) as done:
        main(["study", "architectures", "--quick", "--list-cells"])
    assert done.value.code in (0, None)
    listed = capsys.readouterr().out.split()
    assert listed == [
        f"binary-successor-natural@{k}-lr{lr}"
        for k in ("encoder-decoder", "lstm")
        for lr in ("0.003", "0.001")
    ]
    with pytest.raises(BadInput, match="matches none of the 4 cells"):
        study_run.run_study(tmp_path / "none", study="architectures", quick=True, only="*lr0.1")
    assert not (tmp_path / "none").exists()

    out = tmp_path / "part"
    study = study_run.run_study(
        out, study="architectures", quick=True, workers=2, seeds=(0, 1), only="*lr0.003"
    )
    assert sorted(c["cell"] for c in study["cells"]) == [listed[0], listed[2]]
    assert len(study["runs"]) == 4 and {r["lr"] for r in study["comparison"]} == {0.003}
    assert study["cells_left_out"] == [listed[1], listed[3]] and study["only_cells"] == "*lr0.003"
    assert study["command"].endswith("--cells '*lr0.003'")
    (tuning,) = [s["ours"] for s in study["settings_vs_paper"] if s["setting"].startswith("tuning")]
    assert tuning.startswith("AdamW at lr 0.003 only")
    md = (out / "STUDY.md").read_text()
    assert "## Cells not run (--cells '*lr0.003')" in md and f"`{listed[1]}`" in md
    page = (out / "report.html").read_text()
    assert "Cells not run (2)" in page and listed[3].replace("@", "@<wbr>") in page
    with pytest.raises(BadInput, match="was run with --cells '\\*lr0.003'"):
        study_run.run_study(out, study="architectures", quick=True, seeds=(0, 1), resume=True)
    again = study_run.run_study(
        out, study="architectures", quick=True, seeds=(0, 1), resume=True, only="*lr0.003"
    )
    assert again["cells"] == study["cells"] and again["cells_left_out"] == study["cells_left_out"]
