"""Small run directories of every kind the report draws — train, probe, imitation, study, demo —
made by the real code at tiny sizes (a tiny trained and explained run, probes on fake models, a
tiny imitation run), so the browser tests see the tables and figures a user would, in seconds.

Names are long on purpose (program names, model names, many series): that is where layouts break.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]


def train_run(out: Path) -> Path:
    """A tiny trained, evaluated, explained and opened-up run (analysis/ as the demo writes it)."""
    import sys

    from behaviorlab.interpret.findings import head_findings
    from behaviorlab.metamodels.on_run import explain_run
    from behaviorlab.train import evaluate_run, train
    from behaviorlab.train.config import validate

    sys.path.insert(0, str(ROOT))
    try:
        from conftest import TINY
    finally:
        sys.path.pop(0)
    raw = copy.deepcopy(TINY)
    raw["name"] = "binary-successor-reverse-tiny-run-with-a-long-name"
    train(validate(raw, "tiny"), out, progress=False)
    evaluate_run(out)
    explain_run(out, queries=60, check=60)
    head_findings(out, quick=True)
    return out


def probe_run(out: Path) -> dict[str, Any]:
    """Every probe on three fake open-text models (one with a chat template): three models side
    by side, twelve series in the noise figures."""
    import sys

    sys.path.insert(0, str(ROOT / "unit"))
    try:
        from probe_fakes import FakeLM
    finally:
        sys.path.pop(0)
    from behaviorlab.probes import run_probes

    models = [
        FakeLM(name="fake-open-text-model-alpha"),
        FakeLM(name="fake-open-text-model-beta"),
        FakeLM(chat=True, name="fake-chat-model-gamma-instruct"),
    ]
    return run_probes(models, out, seed=1, limit=2)


IMITATION_MODEL = {
    "kind": "decoder-only",
    "d_model": 16,
    "n_heads": 2,
    "dec_layers": 1,
    "d_ff": 32,
    "max_len": 64,
}
IMITATION: dict[str, Any] = {
    "name": "tiny-imitation",
    "teacher": {
        "examples_per_skill": 60,
        "model": {**IMITATION_MODEL, "kind": "encoder-decoder", "enc_layers": 1},
        "fit": {"steps": 10, "batch_size": 16, "lr": 3e-3},
    },
    "base": {
        "examples_per_skill": 30,
        "fit": {"steps": 5, "batch_size": 16, "lr": 3e-3},
        "sizes": [
            {"name": "a", "model": IMITATION_MODEL},
            {"name": "b", "model": {**IMITATION_MODEL, "dec_layers": 2}},
        ],
    },
    "student": {"steps": 5, "batch_size": 8},
    "sweep": {"amounts": [8, 16]},
    "eval": {"per_skill": 6, "invalid": 2},
    "algorithm": {"n": 12, "extra_fit": 0},
}


def imitation_run(out: Path) -> Path:
    """A tiny synthetic-teacher imitation run (every table and sweep figure, small numbers)."""
    from behaviorlab.imitation import run_experiment, validate

    run_experiment(validate(copy.deepcopy(IMITATION), "tiny"), out, progress=False)
    return out


def study_dir(out: Path) -> Path:
    """A study folder: cells summarised across seeds and the claims checked, by the study's own
    functions, from per-seed numbers (the runs themselves are not needed by the page)."""
    from behaviorlab.study.aggregate import interval
    from behaviorlab.study.claims import check_claims

    cells = []
    for family, task, option in (
        ("binary", "binary-successor/natural", "natural"),
        ("binary", "binary-successor/reverse", "reverse"),
        ("tree", "tree-inorder/steps=1", "1"),
        ("tree", "tree-inorder/steps=all", "all"),
    ):
        for lr in (3e-3, 1e-3):
            key = f"{task.replace('/', '-')}@lr{lr:g}-learned"
            field = "length" if family == "binary" else "size"
            curves = {
                f"{split}:{field}": {
                    str(v): interval([max(0.0, 1 - v / (12 if split == "test_ood" else 30))] * 3)
                    for v in range(1, 11)
                }
                for split in ("test_id", "test_ood")
            }
            cell: dict[str, Any] = {
                "cell": key,
                "family": family,
                "task": task,
                "option": option,
                "lr": lr,
                "pos": "learned",
                "seeds": 3,
                "failed": [],
                "accuracy_id": interval([0.99, 1.0, 0.97]),
                "accuracy_ood": interval([0.0, 0.02, 0.01]),
                "curves": curves,
                "metamodels": {
                    "failure_prediction": {f"{key}-s{s}": 0.9 + s / 100 for s in range(3)},
                    "median": 0.91,
                    "worst": 0.9,
                    "programs": {f"{key}-s{s}": f"{option}/output-cap10@10+0+patch-{s}" for s in range(3)},
                    "same_shortcut": {},
                },
            }
            if family == "binary":
                cell["heads"] = {
                    "seeds_with_recursion_head": 2,
                    "n": 3,
                    "ablation_found": interval([0.9, 0.95, 0.98]),
                    "ablation_random": interval([0.3, 0.4, 0.35]),
                    "ablation_random_range": [0.05, 0.97],
                    "seeds_beating_random": 2,
                    "n_ablated": 3,
                }
            else:
                cell["tree_heads"] = {
                    "n": 3,
                    "seeds_confirmed": 2,
                    "top": [["cross.1.2 copy source of the next token"]] * 3,
                }
            cells.append(cell)
    out.mkdir(parents=True, exist_ok=True)
    study = {
        "quick": True,
        "seeds": [0, 1, 2],
        "seconds": 12.5,
        "cells": cells,
        "claims": check_claims(cells),
    }
    (out / "study.json").write_text(json.dumps(study))
    return out


def demo_dir(out: Path, run: Path, probes: Path, probe_results: dict[str, Any]) -> Path:
    """A demo folder: two runs (copies of `run`) with the demo's shortcut, head and fresh-check
    numbers, the learning-rate comparison and the probes across architectures."""
    out.mkdir(parents=True, exist_ok=True)
    models: dict[str, Any] = {}
    for label, program in (
        ("binary-successor/natural", "natural/output-cap10@10+0 + 6 exceptions"),
        ("binary-successor/reverse", "reverse/reference@9+1 + 5 exceptions"),
    ):
        folder = label.replace("/", "-")
        shutil.copytree(run, out / folder)
        meta = json.loads((out / folder / "analysis" / "metamodel.json").read_text())
        models[label] = {
            "run_dir": folder,
            "steps": 30,
            "accuracy_id": 0.855,
            "accuracy_ood": 0.0,
            **{
                k: meta.get(k)
                for k in (
                    "failure_prediction_rate",
                    "failure_prediction_ci",
                    "failure_precision",
                    "metamodel_agreement",
                    "metamodel_size",
                    "explains",
                )
            },
            "metamodel_program": program,
            "fresh_check": meta.get("fresh_check"),
            "recursion_heads": [
                {
                    "kind": "cross",
                    "layer": 0,
                    "head": 0,
                    "hypothesis": "last 0 before the carry run",
                    "score": 0.42,
                    "baseline": 0.1,
                    "flagged": False,
                },
            ],
            "ablation_drop": {
                "found_heads": 0.86,
                "random_median": 0.45,
                "random_low": 0.02,
                "random_high": 0.97,
                "at_least": 1,
                "p_value": 0.5,
                "n_random": 3,
            },
        }
    shutil.copytree(probes, out / "probes")
    names = [m["name"] for m in probe_results["models"]]
    rows = {
        probe: {n: {k: per[n].get(k) for k in ("label", "headline", "verdict")} for n in names}
        for probe, per in probe_results["probes"].items()
    }
    summary = {
        "quick": True,
        "optimizer": "adamw",
        "seconds": 42.0,
        "models": models,
        "lr_comparison": {
            "metamodels": [
                {
                    "run": "binary-successor/natural@lr=0.001",
                    "program": "natural/output-cap10@10+0+patch",
                    "metamodel_agreement": 0.5,
                    "failure_prediction_rate": None,
                    "failure_precision": None,
                    "metamodel_size": 288.1,
                    "same_shortcut_as": ["binary-successor/natural"],
                },
            ]
        },
        "probes": {
            "models": names,
            "rows": rows,
            "report": "probes/report.html",
            "seconds": 3.0,
            "mapping": {},
        },
    }
    (out / "summary.json").write_text(json.dumps(summary))
    return out
