"""confirm_tree_heads on a tiny tree model trained in the test: scores, top heads, causal checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behaviorlab.interpret.ablate import ablate, head_component
from behaviorlab.interpret.hypotheses import TREE
from behaviorlab.interpret.tree_heads import confirm_tree_heads, top_candidates
from behaviorlab.train import train
from behaviorlab.train.config import validate
from behaviorlab.train.run import open_run


def test_top_candidates_rank_by_margin_and_need_twice_the_baseline() -> None:
    rows = [
        {"hypothesis": "h1", "kind": "cross", "layer": 0, "head": 0, "score": 0.5, "baseline": 0.1},
        {"hypothesis": "h1", "kind": "cross", "layer": 0, "head": 1, "score": 0.9, "baseline": 0.1},
        {"hypothesis": "h2", "kind": "decoder", "layer": 0, "head": 0, "score": 0.3, "baseline": 0.2},
        {"hypothesis": "h2", "kind": "decoder", "layer": 0, "head": 1, "score": 0.6, "baseline": 0.2},
        {"hypothesis": "h3", "kind": "cross", "layer": 0, "head": 1, "score": 0.7, "baseline": 0.0},
    ]
    got = [(r["hypothesis"], r["head"]) for r in top_candidates(rows, k=3)]
    assert got == [("h1", 1), ("h2", 1)]  # h3's best head is h1's: one row per head


def test_confirm_tree_heads_on_a_tiny_tree_model(tiny_raw: dict[str, Any], tmp_path: Path) -> None:
    raw = tiny_raw
    raw["data"] = {
        "task": "tree-inorder",
        "options": {"steps": "1"},
        "seed": 0,
        "splits": [
            {"name": "train", "n": 200, "min_size": 1, "max_size": 3},
            {"name": "test_id", "n": 40, "min_size": 1, "max_size": 3},
        ],
    }
    raw["model"]["max_len"] = 64
    raw["model"].update(d_model=32, n_heads=4)
    raw["train"].update(steps=250, batch_size=32)
    train(validate(raw, "tiny-tree"), tmp_path / "run", force=True, progress=False)
    run = open_run(tmp_path / "run")
    got = confirm_tree_heads(run, n=40, k=2, n_random=2)
    names = {h.name for h in TREE}
    assert all(s["hypothesis"] in names and s["score"] >= 2 * s["baseline"] for s in got["scores"])
    assert len(got["heads"]) == len(got["scores"]) <= 2
    assert got["heads"], got  # a copy head forms within 250 steps
    if got["heads"]:
        heads = [tuple(h) for h in got["heads"]]
        abl = got["ablation"]
        assert abl["n_heads"] == len(heads) and len(abl["random_drops"]) == 2
        # The reported drop is what ablating those heads does.
        comps = [head_component(k, layer, h, run.model) for k, layer, h in heads]
        again = ablate(run.model, run.task, list(run.splits["test_id"][:40]), [comps], method="mean")
        assert again[0]["drop"] == abl["found_heads"]
        assert [p["head"] for p in got["patching"]] == got["heads"]
