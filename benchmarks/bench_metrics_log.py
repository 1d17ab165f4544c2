"""Metrics bookkeeping of a training run at the demo's shape: the journal (append each evaluation's
rows, fsync at a checkpoint, metrics.parquet once at the end) against the old way (metrics.parquet
rewritten, and every row put in trainer.json, at each checkpoint). Prints both per step and as a
share of a demo training step (steps, eval_every, checkpoint_every as configs/binary-reverse.toml).

    python benchmarks/bench_metrics_log.py
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from behaviorlab.track import MetricsJournal, write_metrics

STEPS, EVAL_EVERY, CHECKPOINT_EVERY, REPEATS = 1500, 100, 250, 20
STEP_MS = 20.0  # a demo training step (BENCHMARKS.md: ~38k tokens/s at 64x12 tokens a step)


def _row(step: int, split: str) -> dict[str, object]:
    return {"step": step, "split": split, "loss": 0.1 + step * 1e-6, "accuracy": 0.5, "lr": 3e-3}


def old(folder: Path) -> None:
    rows: list[dict[str, object]] = []
    for step in range(1, STEPS + 1):
        if step % EVAL_EVERY == 0:
            rows.append(_row(step, "train"))
        if step % CHECKPOINT_EVERY == 0:
            write_metrics(folder / "metrics.parquet", rows)
            (folder / "trainer.json").write_text(json.dumps({"metrics": rows}))


def new(folder: Path) -> None:
    journal = MetricsJournal(folder)
    for step in range(1, STEPS + 1):
        if step % EVAL_EVERY == 0:
            journal.append([_row(step, s) for s in ("train", "test_id", "test_ood")])
        if step % CHECKPOINT_EVERY == 0:
            journal.flush()
            (folder / "trainer.json").write_text(json.dumps({"metrics_rows": step // EVAL_EVERY * 3}))
    journal.write_parquet()


def best(fn: object) -> float:
    times = []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            fn(Path(tmp))  # type: ignore[operator]
            times.append(time.perf_counter() - t0)
    return min(times)


if __name__ == "__main__":
    t_old, t_new = best(old), best(new)
    for name, t in (("rewrite at each checkpoint (old)", t_old), ("journal + parquet at the end", t_new)):
        per_step = 1000 * t / STEPS
        share = 100 * per_step / STEP_MS
        print(f"{name:36s} {1000 * t:7.1f} ms a run, {per_step:.4f} ms a step = {share:.3f}% of a step")
    print(f"ratio new/old: {t_new / t_old:.2f}x (the journal also holds 3x the rows: ID and OOD curves)")
