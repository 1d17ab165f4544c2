"""What a study cost across sessions, the command it records, RESULTS.md's sections written from
finished study folders, and the pinned grids (a changed config makes `--resume` retrain a run)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from study_fakes import arch_study, boundary_study, write_study

from behaviorlab.errors import BadInput
from behaviorlab.study.definitions import STUDIES
from behaviorlab.study.results_md import ATOMIC_MARK, ATOMIC_ROW, main, update_results
from behaviorlab.study.sessions import Session, command, cost, earlier_sessions

RESULTS = f"""# Results

## 1. The recursion study (full grid)

| claim (the study says) | verdict | what we measured |
|---|---|---|
{ATOMIC_ROW} **mixed** | 1-step learns; end to end learns at lr 1e-3. |
| Another claim. | **mixed** | kept as it is |

## 3. Black-box probes

text
"""


def test_sessions_add_up_and_an_old_study_json_counts_as_one(tmp_path: Path) -> None:
    old = {"study": "tree-boundary", "seconds": 5000.0, "load": {"mean_1min": 3.0}, "workers": 2}
    (tmp_path / "study.json").write_text(json.dumps(old))
    earlier = earlier_sessions(tmp_path)
    assert [s["seconds"] for s in earlier] == [5000.0] and earlier[0]["runs_trained"] is None
    assert Session(tmp_path, earlier, kept=4, backend="local", workers=2).close() == earlier  # a re-read
    session = Session(tmp_path, earlier, kept=4, backend="local", workers=2)
    for _ in range(2):
        session.run_finished()
    sessions = session.close()
    assert len(sessions) == 2 and sessions[1]["runs_trained"] == 2 and sessions[1]["runs_kept"] == 4
    assert earlier_sessions(tmp_path) == sessions  # study_sessions.json now holds both
    c = cost(sessions, [{"cpu_seconds": 10.0}, {"cpu_seconds": 2.5}])
    assert c["seconds"] == pytest.approx(5000.0 + sessions[1]["seconds"]) and c["cpu_seconds"] == 12.5
    assert c["load"] == sessions[1]["load"]  # the session that trained the most runs
    interrupted = Session(tmp_path, sessions, kept=0, backend="local", workers=1).close(interrupted=True)
    assert interrupted[-1]["interrupted"] and len(earlier_sessions(tmp_path)) == 3


def test_the_command_a_study_records() -> None:
    out = Path("runs/b")
    assert (
        command("tree-boundary", out, False, (0, 1, 2), "local")
        == "behaviorlab study tree-boundary --out runs/b"
    )
    assert command("architectures", out, True, (0, 1), "ray") == (
        "behaviorlab study architectures --out runs/b --quick --seeds 2 --backend ray"
    )
    assert "run_study(seeds=...)" in command("recursion", out, False, (3, 4), "local")


def test_results_sections_from_finished_studies(tmp_path: Path) -> None:
    boundary, arch = boundary_study(), arch_study()
    text = update_results(RESULTS, boundary, arch)
    assert update_results(text, boundary, arch) == text  # rewritten in place, not appended again
    assert text.index("## 3. Black-box probes") < text.index("## 5. Where end to end fails")
    assert text.index("## 5.") < text.index("## 6. The architecture axis")
    row = next(ln for ln in text.splitlines() if ln.startswith(ATOMIC_ROW))
    assert "**holds only past a boundary**" in row and ATOMIC_MARK in row
    assert "1-step learns; end to end learns at lr 1e-3. Tree-boundary study (§5): inorder: end to end" in row
    assert row.count("Tree-boundary study") == 1 and "| Another claim. | **mixed** | kept as it is |" in text
    section = text.split("<!-- study:tree-boundary:begin -->")[1].split("<!-- study:tree-boundary:end -->")[0]
    assert "behaviorlab study tree-boundary --out runs/tree-boundary   # 12 settings" in section
    assert "= 144 runs" in section and "4000.0 s wall (67 min)" in section
    assert "### Left out of the grid" in section
    assert section.count("| inorder |") == 12 and "| atomic-vs-end-to-end/preorder |" in section
    section = text.split("<!-- study:architectures:begin -->")[1]
    assert "### At the tuned learning rates" in section and "| encoder-decoder-better |" in section
    # The command line: in place, and a wrong folder is one line and leaves RESULTS.md as it was.
    results = tmp_path / "RESULTS.md"
    results.write_text(RESULTS)
    b, a = write_study(tmp_path / "b", boundary), write_study(tmp_path / "a", arch)
    assert main([str(results), "--tree-boundary", str(a)]) == 2 and results.read_text() == RESULTS
    assert main([str(results), "--tree-boundary", str(b), "--architectures", str(a)]) == 0
    assert results.read_text() == text
    with pytest.raises(BadInput, match="no claims-table row"):
        update_results("# Results\n", boundary, None)


def test_a_one_rate_architectures_section_says_there_was_no_tuning() -> None:
    """A grid run with `--cells '*lr0.003'`: the section's command, rule and left-out cells say so."""
    arch = arch_study()
    arch["cells"] = [c for c in arch["cells"] if c["lr"] == 3e-3]
    arch.update(STUDIES["architectures"].read(arch["cells"], False))
    arch.update(only_cells="*lr0.003", cells_left_out=["binary-successor-natural@lstm-lr0.001"])
    section = update_results(RESULTS, None, arch).split("<!-- study:architectures:begin -->")[1]
    assert (
        "--out runs/architectures --cells '*lr0.003'   # 2 tasks × 4 kinds × 1 learning rate × 3 seeds"
        in section
    )
    assert "One learning rate for every kind, 0.003, so no tuning (1 cell at other rates" in section
    assert "AdamW at lr 0.003 only (the other rates were left out with --cells: no tuning)" in section
    assert "Cost: full grid, part of it: 1 cell left out with --cells '*lr0.003'; seeds" in section
    assert "### Cells not run (--cells '*lr0.003')" in section and "the rate with the best" not in section


def _fingerprint(name: str, quick: bool) -> tuple[int, str]:
    names = sorted(f"{cfg.name}:{cfg.digest()}" for _, _, cfg in STUDIES[name].jobs(quick, (0, 1, 2)))
    return len(names), hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


@pytest.mark.parametrize(
    ("name", "quick", "pinned"),
    [
        ("tree-boundary", False, (144, "841cfc26d2430735")),
        ("tree-boundary", True, (12, "91c4564c48923e73")),
        ("architectures", False, (144, "db8867faec5f9d13")),
        ("architectures", True, (24, "0beb2edf75844234")),
    ],
)
def test_the_grids_are_pinned(name: str, quick: bool, pinned: tuple[int, str]) -> None:
    """Every run's config, as the finished studies in RESULTS.md were run. A change here makes
    `--resume` retrain those runs: change a grid on purpose only, then re-pin and re-run."""
    assert _fingerprint(name, quick) == pinned
