"""Cell summaries of the tree-boundary and architectures studies with accuracies we choose, read by
the real study code into study.json documents (for claim, Markdown, report and browser tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from behaviorlab.study.aggregate import interval
from behaviorlab.study.architectures import ArchCell
from behaviorlab.study.boundary import BoundaryCell, settings
from behaviorlab.study.definitions import STUDIES


def boundary_cell(trav: str, steps: str, size: int, n: int, model: str, accs: list[float]) -> dict[str, Any]:
    """A cell summary as `summarize_cell` writes it, with these ID accuracies per seed."""
    cell = BoundaryCell(trav, steps, size, n, model)
    return {
        "cell": cell.key,
        **cell.fields(),
        "seeds": len(accs),
        "failed": [],
        "accuracy_id": interval(accs),
        "accuracy_ood": interval([0.0] * len(accs)),
        "steps": [1200] * len(accs),
        "params": {"small": 20_000, "medium": 170_000, "large": 1_200_000}[model],
    }


def boundary_accs(trav: str, steps: str, size: int, n: int, model: str) -> list[float]:
    """End to end fails on larger trees unless data or the model grow; 1-step always learns."""
    if steps == "1":
        return [0.99, 0.98, 1.0]
    strength = (
        {4: 3, 7: 1, 10: 0}[size]
        + {500: 0, 1500: 1, 4500: 2}[n]
        + {"small": -1, "medium": 0, "large": 1}[model]
    )
    if strength >= 3:
        return [1.0, 0.99, 0.98]
    if strength == 2:
        return [0.95, 0.6, 0.92]  # learns in 2 of 3 seeds
    return [0.3, 0.1, 0.55]


def boundary_study(quick: bool = False) -> dict[str, Any]:
    """A whole tree-boundary study.json read from chosen cells."""
    cells = [
        boundary_cell(t, s, size, n, m, boundary_accs(t, s, size, n, m))
        for t in ("preorder", "inorder")
        for s in ("1", "all")
        for size, n, m in settings(quick)
    ]
    return _wrap("tree-boundary", cells, quick)


def arch_cell(task: str, kind: str, lr: float, ids: list[float], vals: list[float]) -> dict[str, Any]:
    """An architectures cell summary with these ID and validation accuracies per seed."""
    cell = ArchCell(task, kind, lr)
    return {
        "cell": cell.key,
        **cell.fields(),
        "seeds": len(ids),
        "failed": [],
        "accuracy_id": interval(ids),
        "accuracy_ood": interval([0.05] * len(ids)),
        "accuracy_by_split": {"val": interval(vals), "test_id": interval(ids)},
        "steps": [1500] * len(ids),
        "params": 150_000,
        "metamodels": {"median": 0.9, "worst": 0.8, "programs": {"s0": "natural/reference@10+0"}},
    }


def arch_study() -> dict[str, Any]:
    """A whole architectures study.json: encoder-decoder best on trees, tied on binary successor."""
    cells = []
    for task in ("binary-successor/natural", "tree-inorder/steps=1"):
        for kind in ("encoder-decoder", "decoder-only", "encoder-only", "lstm"):
            good = kind == "encoder-decoder" or task.startswith("binary")
            ids = [0.99, 1.0, 0.98] if good else [0.4, 0.5, 0.45]
            cells.append(arch_cell(task, kind, 3e-3, ids, ids))
            cells.append(arch_cell(task, kind, 1e-3, [x * 0.5 for x in ids], [x * 0.5 for x in ids]))
    return _wrap("architectures", cells, False)


def _wrap(name: str, cells: list[dict[str, Any]], quick: bool) -> dict[str, Any]:
    definition = STUDIES[name]
    return {
        "study": name,
        "title": definition.title,
        "quick": quick,
        "seeds": [0, 1, 2],
        "seconds": 4000.0,
        "cpu_seconds": 7000.0,
        "load": {
            "before": [1.0, 1.0, 1.0],
            "after": [2.0, 2.0, 2.0],
            "mean_1min": 3.2,
            "max_1min": 6.1,
            "cores": 2,
        },
        **definition.read(cells, quick),
        "cells": cells,
        "runs": [],
    }


def write_study(folder: Path, study: dict[str, Any]) -> Path:
    """A study folder holding just this study.json (enough for its report page)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.json").write_text(json.dumps(study))
    return folder
