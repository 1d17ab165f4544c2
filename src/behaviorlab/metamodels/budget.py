"""The pre-flight estimate of an explanation (limits.py's rules): each fresh input put to the model
is held with its answer, its features and its rows in the rule tables while programs are searched.
Measured on a tiny run: ~26 KB and ~4 ms per query; the floors below are well under both."""

from __future__ import annotations

from behaviorlab.limits import Need, require
from behaviorlab.validate import check_float, check_seed

QUERY_BYTES = 8 * 1024
QUERY_SECONDS = 1e-3


def check_explain(what: str, *, inputs: int, alpha: float, seed: int) -> None:
    """Refuse numbers no explanation can use, and more inputs than fit this machine."""
    check_float("alpha", alpha, 0.0)
    check_seed(seed)
    need = Need(memory=inputs * QUERY_BYTES, seconds=inputs * QUERY_SECONDS, parts=(f"{inputs:,} inputs",))
    require(what, need, hint="lower --queries, --check or --n")
