"""The studies one command runs: each names its grid, the analyses every run gets after evaluation,
and how its cells are read into claims (plus what else its page shows)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from behaviorlab.study import architectures, boundary, grid
from behaviorlab.study.arch_claims import architecture_claims
from behaviorlab.study.claims import check_claims
from behaviorlab.study.phases import boundary_claims, boundary_sentences
from behaviorlab.train import ExperimentConfig

Summary = dict[str, Any]
Jobs = Callable[[bool, tuple[int, ...]], list[tuple[Any, int, ExperimentConfig]]]


@dataclass(frozen=True)
class StudyDef:
    """A study: its grid (jobs), per-run analyses, and how its cell summaries are read."""

    name: str
    title: str
    jobs: Jobs
    analyses: tuple[str, ...]
    read: Callable[[Sequence[Summary], bool], dict[str, Any]]  # cells, quick -> claims and extras


def _recursion(cells: Sequence[Summary], quick: bool) -> dict[str, Any]:
    return {"claims": check_claims(cells)}


def _tree_boundary(cells: Sequence[Summary], quick: bool) -> dict[str, Any]:
    claims, rows = boundary_claims(cells)
    return {
        "claims": claims,
        "phases": rows,
        "boundary": boundary_sentences(rows),
        "settings_vs_paper": boundary.settings_vs_paper(quick),
        "dropped": boundary.dropped(quick),
    }


def _architectures(cells: Sequence[Summary], quick: bool) -> dict[str, Any]:
    claims, rows = architecture_claims(cells)
    ran = [c["lr"] for c in cells]  # the rates trained (`--cells` may have left some out)
    return {
        "claims": claims,
        "comparison": rows,
        "settings_vs_paper": architectures.settings_vs_paper(quick, ran),
    }


STUDIES: dict[str, StudyDef] = {
    "recursion": StudyDef("recursion", "recursion study", grid.jobs, ("explain", "heads"), _recursion),
    "tree-boundary": StudyDef("tree-boundary", "tree-boundary study", boundary.jobs, (), _tree_boundary),
    "architectures": StudyDef(
        "architectures", "architectures study", architectures.jobs, ("explain",), _architectures
    ),
}
