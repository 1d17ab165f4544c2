"""explain runs on the peano and tree tasks and reports finite, well-formed numbers."""

from __future__ import annotations

import json
import math

import pytest

from behaviorlab import tasks
from behaviorlab.errors import BadInput
from behaviorlab.metamodels import explain

HEADLINE = (
    "failure_prediction_rate",
    "failure_precision",
    "metamodel_agreement",
    "metamodel_size",
    "mutual_information_bits",
)


def _finite(data: dict[str, object]) -> None:
    for key in HEADLINE:
        value = data[key]
        assert isinstance(value, float) and math.isfinite(value), (key, value)
    json.dumps(data)  # serialisable as is


def test_peano_off_by_one_model() -> None:
    task = tasks.get("peano-add")

    def model(x: str) -> str:  # forgets the final S when both operands are large
        out = task.solve(x)
        return out[2:] if len(x.split()) > 8 else out

    fit = [e.input for e in task.sample(60, 0)]
    held = [e.input for e in task.sample(80, 1)]
    r = explain(task, [(x, model(x)) for x in fit], [(x, model(x)) for x in held], seed=0)
    _finite(r.to_json())
    assert r.n_failures > 0
    assert r.metamodel_agreement == 1.0 and r.failure_prediction_rate == 1.0


@pytest.mark.parametrize(("name", "steps"), [("tree-inorder", 1), ("tree-preorder", "all")])
def test_tree_tasks(name: str, steps: object) -> None:
    task = tasks.get(name, steps=steps)
    examples = task.sample(50, 0, max_size=3)
    # A model that is right on small trees and echoes its input on bigger ones.
    fit = [(e.input, e.output if task.size_of(e.input) <= 2 else e.input) for e in examples[:30]]
    held = [(e.input, e.output if task.size_of(e.input) <= 2 else e.input) for e in examples[30:]]
    r = explain(task, fit, held, seed=0, max_induce_examples=15)
    data = r.to_json()
    _finite(data)
    assert 0.0 <= r.metamodel_agreement <= 1.0
    assert r.candidates and "tree/reference" in {c["name"] for c in r.candidates}


def test_explain_rejects_empty_sets() -> None:
    task = tasks.get("peano-add")
    with pytest.raises(BadInput, match="at least one"):
        explain(task, [], [("I + I", "S I")])
