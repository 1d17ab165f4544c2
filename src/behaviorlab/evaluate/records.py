"""predictions.parquet: every answer with its per-token log-probs, distances and metadata."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from behaviorlab.evaluate.metrics import edit_distance, first_wrong
from behaviorlab.evaluate.predict import Prediction
from behaviorlab.io import atomic_write, read_parquet


def prediction_rows(
    preds_by_split: Mapping[str, Sequence[Prediction]], tokenize: Any
) -> list[dict[str, Any]]:
    """Flat rows: split, strings, correctness, first wrong token, edit distance, log-probs, meta."""
    rows = []
    for split, preds in preds_by_split.items():
        for p in preds:
            target_toks = tokenize(p.target)
            rows.append(
                {
                    "split": split,
                    "input": p.input,
                    "target": p.target,
                    "prediction": p.prediction,
                    "correct": p.correct,
                    "first_wrong": first_wrong(p.tokens, target_toks),
                    "edit_distance": edit_distance(p.tokens, target_toks),
                    "tokens": p.tokens,
                    "logprobs": p.logprobs,
                    "sum_logprob": float(sum(p.logprobs)),
                    **{f"meta_{k}": int(v) for k, v in p.meta.items()},
                }
            )
    return rows


def write_predictions(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write the rows atomically as Parquet (an empty file keeps the schema readable)."""
    table = pa.Table.from_pylist(rows) if rows else pa.table({"split": pa.array([], pa.string())})
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def read_predictions(path: Path) -> list[dict[str, Any]]:
    """Rows of a predictions.parquet."""
    return list(read_parquet(path).to_pylist())
