"""The probe comparison tests a difference only between headlines that measure the same thing."""

from __future__ import annotations

from typing import Any

from behaviorlab.probes.compare import compare_models, difference_line


def _finding(label: str, k: int, n: int) -> dict[str, Any]:
    low, high = max(0.0, k / n - 0.1), min(1.0, k / n + 0.1)
    return {
        "label": label,
        "headline": {"estimate": k / n, "ci_low": low, "ci_high": high, "k": k, "n": n, "method": "wilson"},
    }


def test_open_and_closed_headlines_are_shown_but_never_called_significant() -> None:
    per = {
        "ours": _finding("copy rate (closed)", 90, 100),
        "lstm": _finding("copy rate (closed)", 10, 100),
        "smollm2": _finding("copy rate (open)", 50, 100),
    }
    pairs = {(p["a"], p["b"]): p for p in compare_models({"copying": per})["copying"]["pairs"]}
    assert pairs[("ours", "lstm")]["significant"] is True and pairs[("ours", "lstm")]["comparable"]
    assert pairs[("ours", "smollm2")]["significant"] is None
    assert pairs[("smollm2", "lstm")]["significant"] is None
    assert "not comparable" in difference_line("copying", pairs[("ours", "smollm2")])
    assert difference_line("copying", pairs[("ours", "lstm")]).endswith(": significant")


def test_equal_rates_of_the_same_measure_are_not_significant() -> None:
    per = {"a": _finding("rate", 30, 100), "b": _finding("rate", 31, 100)}
    (pair,) = compare_models({"noise": per})["noise"]["pairs"]
    assert pair["comparable"] and pair["significant"] is False
