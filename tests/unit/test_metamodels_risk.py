"""Metamodels that say maybe: a planted stochastic slip gets a calibrated failure probability."""

from __future__ import annotations

import hashlib

import numpy as np

from behaviorlab import tasks
from behaviorlab.errors import BadInput
from behaviorlab.lm.function import FunctionModel
from behaviorlab.metamodels import explain
from behaviorlab.metamodels.across import distribution, shortcut_groups
from behaviorlab.metamodels.risk import auc, evaluate, reliability, score_inputs

NAT = tasks.get("binary-successor", order="natural")


def _coin(x: str) -> float:
    """A fixed pseudo-random number per input: no short program can state it."""
    return int(hashlib.sha256(x.encode()).hexdigest()[:8], 16) / 2**32


def risky(x: str) -> str:
    """Right, except that it echoes the input with a probability that grows with its length
    (inputs of 5+ bits, so that nearly every input is new: each one's coin is fixed)."""
    n = len(x.split())
    p = 0.1 if n <= 7 else 0.4 if n <= 10 else 0.8
    try:
        return x if _coin(x) < p else NAT.solve(x)
    except BadInput:  # gibberish (explain's mechanistic inputs): echoed
        return x


def test_auc_and_reliability_by_hand() -> None:
    assert auc(np.array([0.1, 0.2, 0.8, 0.9]), np.array([False, False, True, True])) == 1.0
    assert auc(np.array([0.5, 0.5]), np.array([False, True])) == 0.5
    bins = reliability(np.full(100, 0.3), np.arange(100) % 10 < 3, bins=2)
    assert [b["n"] for b in bins] == [50, 50] and all(b["within"] for b in bins)


def test_a_planted_stochastic_slip_gets_a_calibrated_probability() -> None:
    data = [e.input for e in NAT.sample(600, 3, min_size=5, max_size=14)]
    pairs = [(x, risky(x)) for x in data]
    r = explain(NAT, pairs[:300], pairs[300:], model=FunctionModel(risky, "risky"), extra_fit=300)
    assert r.risk_model is not None
    held = r.to_json()["risk"]["heldout"]
    assert held["auc"] > 0.75
    # Fresh inputs: the calibrated probabilities match the observed failure rates bin by bin.
    fresh = [e.input for e in NAT.sample(1500, 11, min_size=5, max_size=14)]
    F, failed, shortcut = score_inputs(r.risk_model, r.program, fresh, [risky(x) for x in fresh],
                                       [NAT.solve(x) for x in fresh])  # fmt: skip
    got = evaluate(r.risk_model, F, failed, shortcut)
    assert got["auc"] > 0.75
    assert sum(b["within"] for b in got["reliability"]) >= 4, got["reliability"]
    assert abs(got["reliability"][-1]["observed"] - got["reliability"][-1]["predicted"]) < 0.15


def test_distribution_over_runs_and_shortcut_groups() -> None:
    rows = [
        {"run": "a", "task": "t", "program": "p", "failure_prediction_rate": 0.5,
         "fresh_failure_prediction_rate": 0.9, "same_shortcut_as": ["b"]},
        {"run": "b", "task": "t", "program": "p", "failure_prediction_rate": 0.7,
         "fresh_failure_prediction_rate": 0.6, "same_shortcut_as": ["a"]},
        {"run": "c", "task": "t", "program": "q", "failure_prediction_rate": 1.0,
         "fresh_failure_prediction_rate": None, "same_shortcut_as": []},
    ]  # fmt: skip
    d = distribution(rows)["t"]
    assert d["median"] == 0.9 and d["worst"] == {"run": "b", "rate": 0.6} and d["best"] == 1.0
    assert d["measured_on"] == ["fresh check", "held-out"]
    assert shortcut_groups(rows) == [["a", "b"], ["c"]]
