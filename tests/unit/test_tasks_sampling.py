"""Registry, options and samplers: determinism, ranges, edge cases, shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from behaviorlab import tasks
from behaviorlab.errors import BadInput
from behaviorlab.tasks import terms
from behaviorlab.tasks.trees import depth, min_depth_for

ALL: list[tuple[str, dict[str, object]]] = [
    ("peano-add", {}),
    ("binary-successor", {"order": "reverse"}),
    ("binary-successor", {"order": "natural"}),
    ("tree-preorder", {"steps": "all"}),
    ("tree-preorder", {"steps": 2}),
    ("tree-inorder", {"steps": 1}),
    ("tree-inorder", {"steps": 3, "start": 0}),
]


def test_names_and_keys() -> None:
    assert tasks.names() == ["peano-add", "binary-successor", "tree-preorder", "tree-inorder"]
    assert tasks.get("peano-add").key == "peano-add"
    assert tasks.get("binary-successor").key == "binary-successor/reverse"
    assert tasks.get("binary-successor", order="natural").key == "binary-successor/natural"
    assert tasks.get("tree-inorder").key == "tree-inorder/steps=all"
    assert tasks.get("tree-inorder", steps="2").key == "tree-inorder/steps=2"
    assert tasks.get("tree-inorder", steps=2, start="0").key == "tree-inorder/steps=2/start=0"
    assert tasks.get("tree-preorder", steps="1").options == {"steps": 1, "start": None}
    assert tasks.get("tree-preorder", start=0).options == {"steps": "all", "start": 0}
    assert all(tasks.get(n).describe() for n in tasks.names())


@pytest.mark.parametrize(
    ("name", "options", "pattern"),
    [
        ("nope", {}, "unknown task 'nope'; expected one of peano-add, binary-successor"),
        ("peano-add", {"order": "natural"}, "unknown option order; valid options: none"),
        ("binary-successor", {"steps": 2}, "unknown option steps; valid options: order"),
        ("binary-successor", {"order": "sideways"}, "order must be one of natural, reverse"),
        ("tree-inorder", {"steps": 4}, "steps must be one of 1, 2, 3, all"),
        ("tree-inorder", {"start": 1}, "start must be one of None, 0"),
        ("tree-inorder", {"steps": True}, "steps must be one of"),
    ],
)
def test_get_rejects_bad_names_and_options(name: str, options: dict[str, object], pattern: str) -> None:
    with pytest.raises(BadInput, match=pattern):
        tasks.get(name, **options)


@pytest.mark.parametrize(("name", "options"), ALL)
def test_samples_are_consistent(name: str, options: dict[str, object]) -> None:
    task = tasks.get(name, **options)
    examples = task.sample(150, seed=1)
    assert examples == task.sample(150, seed=1)
    assert examples != task.sample(150, seed=2)
    lo, hi = task.default_sizes
    for ex in examples:
        assert task.solve(ex.input) == ex.output
        assert task.print(task.parse(ex.input)) == ex.input
        assert task.meta(ex.input) == ex.meta
        assert set(ex.meta) == set(task.meta_keys)
        assert lo <= ex.meta["size"] == task.size_of(ex.input) <= hi
        assert ex.meta["length"] == len(task.vocab.tokenize(ex.input))
        assert ex.meta["output_length"] == len(task.vocab.tokenize(ex.output))


@pytest.mark.parametrize("steps", [1, 2, 3])
@pytest.mark.parametrize("name", ["tree-inorder", "tree-preorder"])
def test_steps_inputs_are_unfinished(name: str, steps: int) -> None:
    task = tasks.get(name, steps=steps)
    seen_t = set()
    for ex in task.sample(200, seed=4, min_size=3, max_size=7):
        term = task.parse(ex.input)
        assert isinstance(term, terms.Term) and not terms.is_normal(term)
        assert ex.output == terms.print_term(terms.run(term, steps))
        seen_t.add(ex.meta["t"])
    assert len(seen_t) >= 3  # t really varies
    fixed = tasks.get(name, steps=steps, start=0)
    assert {ex.meta["t"] for ex in fixed.sample(50, seed=4)} == {0}


def test_determinism_across_processes() -> None:
    code = (
        "import json; from behaviorlab import tasks;"
        "print(json.dumps([[e.to_dict() for e in tasks.get(n, **o).sample(30, 123, max_size=9)]"
        f" for n, o in {ALL!r}]))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    local = [[e.to_dict() for e in tasks.get(n, **o).sample(30, 123, max_size=9)] for n, o in ALL]
    assert json.loads(runs[0]) == local


def test_size_ranges_and_edges() -> None:
    binary = tasks.get("binary-successor", order="natural")
    exs = binary.sample(100, 0, min_size=5, max_size=7, edge_fraction=1.0)
    assert all(set(e.input.split()) == {"1"} and 5 <= e.meta["size"] <= 7 for e in exs)
    assert sum(e.meta["all_ones"] for e in binary.sample(200, 0, edge_fraction=0.5)) > 60
    peano = tasks.get("peano-add")
    exs = peano.sample(100, 0, min_size=6, max_size=9, edge_fraction=1.0)
    assert all(min(e.meta["a"], e.meta["b"]) == 1 and 6 <= e.meta["size"] <= 9 for e in exs)
    assert {e.meta["size"] for e in peano.sample(100, 0, min_size=12)} == {12}


def test_tree_shapes_depths_and_letters() -> None:
    task = tasks.get("tree-inorder")
    for shape in ("left-spine", "right-spine"):
        for ex in task.sample(30, 0, min_size=2, max_size=6, shape=shape):
            assert ex.meta["depth"] == ex.meta["size"]
    for ex in task.sample(30, 0, min_size=1, max_size=20, shape="balanced"):
        assert ex.meta["depth"] == min_depth_for(ex.meta["size"])
    edge = task.sample(60, 0, min_size=3, max_size=6, edge_fraction=1.0)
    assert all(e.meta["depth"] == e.meta["size"] for e in edge)
    for ex in task.sample(100, 0, min_size=5, max_size=9, min_depth=4, max_depth=5):
        assert 4 <= ex.meta["depth"] <= 5 and 5 <= ex.meta["size"] <= 9
    for ex in task.sample(50, 0, min_size=20, max_size=26, repeat_letters=False):
        letters = [t for t in task.vocab.tokenize(ex.output) if t.startswith("'")]
        assert len(letters) == len(set(letters)) == ex.meta["size"]
    steps = tasks.get("tree-preorder", steps=1, start=0)  # t = 0: the input shows the whole tree
    for ex in steps.sample(50, 0, min_size=4, max_size=8, min_depth=4):
        term = steps.parse(ex.input)
        assert isinstance(term, terms.Term) and isinstance(term.items[0], terms.Call)
        tree = term.items[0].tree
        assert ex.meta["depth"] == depth(tree) >= 4
        assert ex.meta["remaining_steps"] == depth(tree) + 1


@pytest.mark.parametrize(
    ("name", "kwargs", "pattern"),
    [
        ("peano-add", {"min_depth": 2}, "min_depth applies only to tree tasks"),
        ("binary-successor", {"shape": "balanced"}, "shape applies only to tree tasks"),
        ("binary-successor", {"repeat_letters": False}, "repeat_letters applies only"),
        ("binary-successor", {"min_size": 0}, "size range"),
        ("binary-successor", {"min_size": 5, "max_size": 3}, "size range"),
        ("peano-add", {"edge_fraction": 1.5}, "edge_fraction"),
        ("tree-inorder", {"shape": "zigzag"}, "shape must be one of"),
        ("tree-inorder", {"min_size": 5, "max_size": 6, "max_depth": 2}, "no random tree"),
        ("tree-inorder", {"min_depth": 3, "max_depth": 2}, "min_depth 3 > max_depth 2"),
        ("tree-inorder", {"min_size": 27, "repeat_letters": False}, "at most 26"),
    ],
)
def test_bad_sampler_settings(name: str, kwargs: dict[str, object], pattern: str) -> None:
    with pytest.raises(BadInput, match=pattern):
        tasks.get(name).sample(5, 0, **kwargs)  # type: ignore[arg-type]
