"""One model × probe part of a probe run: run it, write it to `parts/`, and the job that does both
in a worker process (a local pool or a Ray task) for a model zoo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import Progress

from behaviorlab.io import atomic_write, atomic_write_json
from behaviorlab.lm import TextModel
from behaviorlab.probes.base import ProbeConfig, Recorder, model_facts
from behaviorlab.probes.compare import power, power_note
from behaviorlab.probes.registry import PROBES
from behaviorlab.probes.zoo import ZooModel, open_entry
from behaviorlab.rundir import PARTS

OUTPUT_SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("model_name", pa.string()),
        ("probe", pa.string()),
        ("item", pa.string()),
        ("call", pa.int64()),
        ("prompt", pa.string()),
        ("decoding", pa.string()),
        ("greedy", pa.bool_()),
        ("temperature", pa.float64()),
        ("seed", pa.int64()),
        ("max_new_tokens", pa.int64()),
        ("stop", pa.list_(pa.string())),
        ("chat", pa.bool_()),
        ("output", pa.string()),
        ("tokens", pa.list_(pa.string())),
        ("logprobs", pa.list_(pa.float64())),
        ("finish", pa.string()),
        ("prompt_cut", pa.int64()),
    ]
)


def run_part(
    model: TextModel,
    probe: str,
    cfg: ProbeConfig,
    chat: bool | None,
    bar: Progress | None = None,
    label: str = "",
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One probe on one model: its result and its generation rows."""
    facts = model_facts(model, chat)
    rec = Recorder(model, probe, facts.chat)
    if bar is not None:
        task = bar.add_task(label, total=0)
        rec.on_total = lambda n: bar.update(task, total=(bar.tasks[task].total or 0) + n)
        rec.on_advance = lambda n: bar.advance(task, n)
    res = PROBES[probe](cfg).run(model, facts, rec)
    res["power"] = power(res["headline"])
    res["verdict"] += power_note(res["power"])
    res.update(
        model=model.spec,
        mode="closed" if facts.closed else "open",
        chat=facts.chat,
        config=cfg.model_dump(mode="json"),
        generations=len(rec.rows),
    )
    return res, rec.rows


def write_part(out: Path, index: int, probe: str, res: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """A finished part's rows and result; the result is written last, so its presence marks the
    part finished."""
    rows_path, res_path = part_paths(out, index, probe)
    write_table(rows_path, pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA))
    atomic_write_json(res_path, res)


def part_paths(out: Path, index: int, probe: str) -> tuple[Path, Path]:
    stem = out / PARTS / f"{index:02d}-{probe}"
    return stem.with_suffix(".parquet"), stem.with_suffix(".json")


def write_table(path: Path, table: pa.Table) -> None:
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def run_part_job(
    out: str, index: int, entry_json: str, probe: str, cfg_json: str, updates: Any = None
) -> dict[str, Any]:
    """Run one model × probe part in this worker (one torch thread) and write its part files;
    returns {index, probe, seconds}. Errors propagate: the part stays unwritten for a resume."""
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    entry = ZooModel.model_validate_json(entry_json)
    model = open_entry(entry)
    cfg = PROBES[probe].Config.model_validate_json(cfg_json)
    res, rows = run_part(model, probe, cfg, entry.chat)
    write_part(Path(out), index, probe, res, rows)
    seconds = round(time.perf_counter() - started, 2)
    if updates is not None:
        updates.put((index, probe, seconds))
    return {"index": index, "probe": probe, "seconds": seconds}
