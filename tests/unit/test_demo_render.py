"""The demo's SUMMARY.md: a rate over zero failures reads "n/a (no failures)", and found heads are
compared with every random draw (median, range, rank p), never with the draws' mean."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from behaviorlab.demo.render import print_table, render_markdown


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


def test_a_log_file_gets_whole_names() -> None:
    """Printed to a file (Rich assumes 80 columns there), the table keeps every name whole; on an
    80-column terminal it fits the terminal."""
    summary = _summary()
    summary["models"] = {"binary-successor-natural-lstm": summary["models"]["m"]}
    summary["models"]["binary-successor-natural-lstm"]["metamodel_program"] = "natural/rightmost-zero-flip"
    log = io.StringIO()
    print_table(Console(file=log, force_terminal=False, width=80), summary)
    assert (
        "binary-successor-natural-lstm" in log.getvalue() and "natural/rightmost-zero-flip" in log.getvalue()
    )
    assert "…" not in log.getvalue()
    term = io.StringIO()
    print_table(Console(file=term, force_terminal=True, width=80, color_system=None), summary)
    assert max(len(line) for line in term.getvalue().splitlines()) <= 80
