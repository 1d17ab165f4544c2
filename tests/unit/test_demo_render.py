"""The demo's SUMMARY.md: a rate over zero failures reads "n/a (no failures)", and found heads are
compared with every random draw (median, range, rank p), never with the draws' mean."""

from __future__ import annotations

from typing import Any

from behaviorlab.demo.render import render_markdown


def _summary() -> dict[str, Any]:
    model = {
        "steps": 400,
        "accuracy_id": 1.0,
        "accuracy_ood": 0.0,
        "failure_prediction_rate": None,
        "failure_prediction_ci": None,
        "metamodel_program": "natural/reference",
        "ablation_drop": {
            "found_heads": 1.0,
            "random_median": 0.215,
            "random_low": 0.05,
            "random_high": 1.0,
            "at_least": 1,
            "p_value": 2 / 9,
            "n_random": 8,
        },
        "fresh_check": {
            "all": {
                "n": 300,
                "n_failures": 0,
                "failure_prediction_rate": None,
                "failure_prediction_ci": None,
                "failure_precision": 0.0,
                "n_predicted_failures": 12,
                "metamodel_agreement": 0.96,
            }
        },
    }
    return {"seconds": 1, "optimizer": "adamw", "quick": True, "models": {"m": model}}


def test_summary_says_na_for_no_failures_and_spreads_random_heads() -> None:
    md = render_markdown(_summary())
    assert "100.0% (0.0-100.0)" not in md
    assert "| m | all | 300 | 96.0% | 0 | n/a (no failures) | 0.0% of 12 |" in md
    line = next(ln for ln in md.splitlines() if ln.startswith("m: ablating"))
    assert "median 21.5%, range 5.0%–100.0% over 8 draws, 1 of 8 as harmful or more" in line
    assert "rank p = 0.22" in line and "mean" not in line
