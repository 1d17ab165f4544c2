"""The study's claims are checked from cell summaries: reproduced, not reproduced, mixed, no data."""

from __future__ import annotations

from typing import Any

from behaviorlab.study.aggregate import interval
from behaviorlab.study.claims import check_claims
from behaviorlab.study.grid import cells, jobs


def _tree(task: str, option: str, accs: list[float], lr: float = 3e-3) -> dict[str, Any]:
    return {
        "cell": f"{task}-{option}",
        "family": "tree",
        "task": f"{task}/steps={option}",
        "option": option,
        "lr": lr,
        "pos": "learned",
        "accuracy_id": interval(accs),
    }


def _binary(
    order: str,
    acc_id: list[float],
    acc_ood: list[float],
    programs: list[str],
    lr: float,
    rates: list[float],
    heads: tuple[int, float, float],
) -> dict[str, Any]:
    flagged, found, rand = heads
    return {
        "cell": f"{order}@{lr}",
        "family": "binary",
        "task": f"binary-successor/{order}",
        "option": order,
        "lr": lr,
        "pos": "learned",
        "accuracy_id": interval(acc_id),
        "accuracy_ood": interval(acc_ood),
        "metamodels": {
            "programs": {f"s{i}": p for i, p in enumerate(programs)},
            "median": sorted(rates)[1],
            "worst": min(rates),
        },
        "heads": {
            "seeds_with_recursion_head": flagged,
            "n": 3,
            "ablation_found": interval([found] * 3),
            "ablation_random": interval([rand] * 3),
            "seeds_beating_random": 3 if found > rand else 0,
            "n_ablated": 3,
        },
    }


def test_verdicts_follow_the_numbers() -> None:
    summaries = [
        _tree("tree-inorder", "1", [1.0, 0.99, 1.0]),
        _tree("tree-inorder", "all", [0.4, 0.5, 0.45]),  # end to end clearly worse: holds
        _tree("tree-preorder", "1", [0.99, 1.0, 0.98]),
        _tree("tree-preorder", "all", [0.97, 0.99, 1.0]),  # learned too: does not hold
        _tree("tree-inorder", "3", [0.9, 0.92, 0.91]),
        _binary(
            "natural",
            [1.0, 1.0, 0.99],
            [0.0, 0.01, 0.0],
            ["A", "A", "B"],
            3e-3,
            [0.95, 0.97, 0.99],
            (3, 0.6, 0.1),
        ),
        _binary(
            "natural", [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], ["C", "C", "C"], 1e-3, [0.5, 0.8, 0.9], (1, 0.2, 0.3)
        ),
    ]
    verdicts = {c["claim"]: c["verdict"] for c in check_claims(summaries)}
    assert verdicts["atomic-vs-end-to-end"] == "mixed"
    assert verdicts["more-steps-harder"] == "reproduced"
    assert verdicts["no-length-generalisation"] == "reproduced"
    assert verdicts["failures-predicted"] == "mixed"  # 97% at lr 3e-3, 80% at 1e-3
    assert verdicts["lr-changes-algorithm"] == "reproduced"  # {A, B} vs {C}
    assert verdicts["recursion-head"] == "mixed"
    assert {c["verdict"] for c in check_claims([])} == {"no data"}


def test_recursion_head_needs_found_heads_beating_every_random_draw() -> None:
    """A mean of random draws hid draws as harmful as the found heads: the verdict now counts the
    seeds whose found heads beat every draw, and the numbers give the draws' median and range."""
    from behaviorlab.study.aggregate import _heads

    def seed(found: float, draws: list[float]) -> dict[str, Any]:
        from behaviorlab.stats import versus_random

        vs = versus_random(found, draws).to_json()
        head = {"kind": "decoder", "layer": 1, "head": 0, "hypothesis": "carry", "flagged": True}
        drop = {"found_heads": found, **vs}
        return {"name": f"s{found}", "heads": {"recursion_heads": [head], "ablation_drop": drop}}

    # Found heads drop 100%; the random mean is 45%, but 3 of 8 draws drop it by >= 94%.
    draws = [0.94, 0.97, 1.0, 0.1, 0.05, 0.2, 0.1, 0.2]
    h = _heads([seed(1.0, draws), seed(1.0, draws), seed(0.9, [0.1, 0.2, 0.3])])
    assert h["seeds_beating_random"] == 1 and h["n_ablated"] == 3
    assert h["ablation_random_range"] == [0.05, 1.0]
    cell = {"cell": "c", "family": "binary", "task": "binary-successor/natural", "lr": 3e-3, "heads": h}
    row = next(r for r in check_claims([cell]) if r["claim"] == "recursion-head")
    assert row["verdict"] == "not reproduced"
    assert "1/3 seeds' found heads beat every random draw" in row["numbers"]
    assert "range 5%–100%" in row["numbers"]


def test_the_grid_has_what_the_study_needs() -> None:
    full = cells(False)
    assert len(full) == 40 and len(jobs(False)) == 120  # ≥ 3 seeds per cell
    tasks = {c.task for c in full}
    assert {"binary-successor/natural", "binary-successor/reverse"} <= tasks
    assert {f"tree-{t}/steps={s}" for t in ("preorder", "inorder") for s in ("1", "2", "3", "all")} <= tasks
    assert {c.lr for c in full} == {3e-3, 1e-3} and {c.pos for c in full} == {"learned", "sinusoidal"}
    quick = cells(True)
    assert {c.lr for c in quick if c.family == "binary"} == {3e-3, 1e-3}
    assert len({cfg.digest() for _, _, cfg in jobs(False)}) == 120
