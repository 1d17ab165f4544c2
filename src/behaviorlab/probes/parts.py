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
from behaviorlab.lm import ModelFacts, TextModel
from behaviorlab.probes.base import ProbeConfig, Recorder, model_facts
from behaviorlab.probes.compare import power, power_note
from behaviorlab.probes.registry import probe_class
from behaviorlab.probes.zoo import ZooModel, open_entry
from behaviorlab.results import Finding
from behaviorlab.rundir import part_files, read_json_object

OUTPUT_SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("model_name", pa.string()),
        ("probe", pa.string()),
        ("item", pa.string()),
        ("call", pa.int64()),
        ("prompt", pa.string()),
        ("prefix", pa.string()),  # text read before the prompt, shared by the call (KV-cached)
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
    facts: ModelFacts,
    probe: str,
    cfg: ProbeConfig,
    bar: Progress | None = None,
    label: str = "",
) -> tuple[Finding, list[dict[str, Any]]]:
    """One probe on one model: its finding (with whether its headline is powered) and its
    generation rows."""
    rec = Recorder(model, probe, facts.chat)
    if bar is not None:
        task = bar.add_task(label, total=0)
        rec.on_total = lambda n: bar.update(task, total=(bar.tasks[task].total or 0) + n)
        rec.on_advance = lambda n: bar.advance(task, n)
    found = probe_class(probe)(cfg).run(model, facts, rec)
    found.info["power"] = power(found.headline)
    found.verdict += power_note(found.info["power"])
    found.info.update(
        model=model.spec,
        mode="closed" if facts.closed else "open",
        chat=facts.chat,
        config=cfg.model_dump(mode="json"),
        generations=len(rec.rows),
    )
    return found, rec.rows


def write_part(
    out: Path, index: int, probe: str, found: Finding, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """A finished part's rows and result (returned as written); the result is written last, so its
    presence marks the part finished."""
    rows_path, res_path = part_files(out, index, probe)
    write_table(rows_path, pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA))
    res = found.to_json()
    atomic_write_json(res_path, res)
    return res


def finished_part(out: Path, index: int, probe: str) -> dict[str, Any] | None:
    """A finished part's result, or None."""
    rows_path, res_path = part_files(out, index, probe)
    return read_json_object(res_path) if res_path.is_file() and rows_path.is_file() else None


def write_table(path: Path, table: pa.Table) -> None:
    """A Parquet file written whole or not at all."""
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
    cfg = probe_class(probe).Config.model_validate_json(cfg_json)
    found, rows = run_part(model, model_facts(model, entry.chat), probe, cfg)
    write_part(Path(out), index, probe, found, rows)
    seconds = round(time.perf_counter() - started, 2)
    if updates is not None:
        updates.put((index, probe, seconds))
    return {"index": index, "probe": probe, "seconds": seconds}
