"""A probe run: chosen probes on one or more models, into a run directory of kind `probe`.

Files: `config.toml` (kind, models, probes, limit, seed, chat, every probe's settings),
`outputs.parquet` (every generation), `results.json` (every probe's result per model, and the
data-vs-output mapping of our own runs), `summary.json` (status, one verdict per model × probe).
Each model × probe is written to `parts/` as it finishes, so `resume=True` skips finished parts.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write, atomic_write_json
from behaviorlab.lm import ModelFacts, TextModel, load
from behaviorlab.probes.base import ProbeConfig, Recorder, model_facts
from behaviorlab.probes.mapping import run_mapping
from behaviorlab.probes.registry import make, parse_names, probe_class
from behaviorlab.probes.registry import names as probe_names
from behaviorlab.results import Finding, headline_json
from behaviorlab.rundir import (
    CONFIG,
    OUTPUTS,
    PARTS,
    RESULTS,
    RunDir,
    is_run,
    part_files,
    read_json_object,
    read_toml,
    replace_output_dir,
    write_summary,
)
from behaviorlab.track import check_sinks, send_run

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


def is_probe_run(path: Path) -> bool:
    """True for a directory holding a probe run (what --force may replace)."""
    try:
        return is_run(path) and RunDir.open(path).kind == "probe"
    except BadInput:
        return False


def probe_configs(
    probes: Sequence[str], limit: int | None, seed: int, settings: dict[str, Any] | None
) -> dict[str, ProbeConfig]:
    """Each chosen probe's config: settings overrides, then --limit and --seed."""
    if limit is not None and limit < 1:
        raise BadInput(f"--limit must be at least 1; got {limit}")
    unknown = sorted(set(settings or {}) - set(probe_names()))
    if unknown:
        raise BadInput(f"settings for unknown probe(s) {', '.join(unknown)}")
    return {p: make(p, (settings or {}).get(p)).config.limited(limit, seed) for p in probes}


def run_config(
    models: Sequence[TextModel],
    probes: Sequence[str],
    limit: int | None,
    seed: int,
    chat: bool | None,
    configs: dict[str, ProbeConfig],
) -> dict[str, Any]:
    """config.toml of a probe run, normalised through TOML (so a resume compares like with like)."""
    raw: dict[str, Any] = {
        "kind": "probe",
        "models": [m.spec for m in models],
        "probes": list(probes),
        "seed": seed,
        "chat": "auto" if chat is None else chat,
        "settings": {p: c.model_dump(mode="json") for p, c in configs.items()},
    }
    if limit is not None:
        raw["limit"] = limit
    return tomllib.loads(tomli_w.dumps(raw))


def _prepare(out: Path, config: dict[str, Any], *, force: bool, resume: bool) -> None:
    """Create the run directory (or check the one a resume continues); nothing written on refusal."""
    if resume:
        if not (out / CONFIG).is_file() or not is_probe_run(out):
            raise BadInput(f"{out}: --resume needs an existing probe run directory")
        if read_toml(out / CONFIG) != config:
            raise BadInput(
                f"{out}: --resume with models, probes or settings that differ from the recorded run"
            )
        return
    replace_output_dir(out, force, is_probe_run, "a behaviorlab probe run", {CONFIG: tomli_w.dumps(config)})


def unique_names(models: Sequence[TextModel]) -> list[str]:
    """Model names for tables; repeats get " (2)", " (3)", … so every column is its own."""
    seen: dict[str, int] = {}
    out = []
    for m in models:
        seen[m.name] = seen.get(m.name, 0) + 1
        out.append(m.name if seen[m.name] == 1 else f"{m.name} ({seen[m.name]})")
    return out


def _bar(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not enabled,
    )


def _run_part(
    model: TextModel, facts: ModelFacts, probe: str, cfg: ProbeConfig, bar: Progress, label: str
) -> tuple[Finding, list[dict[str, Any]]]:
    """One probe on one model: its finding and its generation rows."""
    task = bar.add_task(label, total=0)
    rec = Recorder(
        model,
        probe,
        facts.chat,
        on_total=lambda n: bar.update(task, total=(bar.tasks[task].total or 0) + n),
        on_advance=lambda n: bar.advance(task, n),
    )
    found = probe_class(probe)(cfg).run(model, facts, rec)
    found.info.update(
        model=model.spec,
        mode="closed" if facts.closed else "open",
        chat=facts.chat,
        config=cfg.model_dump(mode="json"),
        generations=len(rec.rows),
    )
    return found, rec.rows


def run_probes(
    models: Sequence[str | TextModel],
    out: Path,
    *,
    probes: Sequence[str] | str | None = None,
    limit: int | None = None,
    seed: int = 0,
    chat: bool | None = None,
    settings: dict[str, Any] | None = None,
    force: bool = False,
    resume: bool = False,
    progress: bool = False,
    sinks: Sequence[str] = (),
) -> dict[str, Any]:
    """Run `probes` (default: every registered probe) on every model into `out`; returns
    results.json's content.

    Every model is opened before anything is written, so a bad spec leaves no directory."""
    chosen = probe_names() if probes is None else probes
    names = parse_names(chosen) if isinstance(chosen, str) else parse_names(",".join(chosen))
    configs = probe_configs(names, limit, seed, settings)
    check_sinks(sinks)
    if not models:
        raise BadInput("no model given (use --model SPEC)")
    opened = [load(m) if isinstance(m, str) else m for m in models]
    facts = [model_facts(m, chat) for m in opened]
    config = run_config(opened, names, limit, seed, chat, configs)
    out = Path(out)
    _prepare(out, config, force=force, resume=resume)
    labels = unique_names(opened)
    base = {
        "kind": "probe",
        "name": out.name,
        "models": labels,
        "specs": [m.spec for m in opened],
        "probes": names,
        "seed": seed,
        "limit": limit,
    }
    write_summary(out, {**base, "status": "running"})
    started = time.perf_counter()
    try:
        parts = _run_all(out, opened, facts, labels, names, configs, progress, resume)
        results = _assemble(out, opened, facts, labels, names, parts)
    except KeyboardInterrupt:
        write_summary(out, {**base, "status": "interrupted", "error": "interrupted; continue with --resume"})
        raise
    except Exception as e:
        write_summary(out, {**base, "status": "failed", "error": f"{type(e).__name__}: {e}"})
        raise
    found = {(lab, p): Finding.from_json(results["probes"][p][lab]) for lab in labels for p in names}
    verdicts = {lab: {p: found[(lab, p)].verdict for p in names} for lab in labels}
    headlines = {lab: {p: headline_json(found[(lab, p)]) for p in names} for lab in labels}
    write_summary(
        out,
        {
            **base,
            "status": "complete",
            "verdicts": verdicts,
            "headlines": headlines,
            "generations": sum(int(f.info["generations"]) for f in found.values()),
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    send_run(out, sinks)  # the findings into the optional results sinks
    return results


def _run_all(
    out: Path,
    models: list[TextModel],
    facts: list[ModelFacts],
    labels: list[str],
    names: list[str],
    configs: dict[str, ProbeConfig],
    progress: bool,
    resume: bool,
) -> dict[tuple[int, str], dict[str, Any]]:
    """Every model × probe part: read back when a resume finds it finished, else run and written."""
    parts: dict[tuple[int, str], dict[str, Any]] = {}
    with _bar(progress) as bar:
        for i, (model, known, label) in enumerate(zip(models, facts, labels, strict=True)):
            for probe in names:
                rows_path, res_path = part_files(out, i, probe)
                if resume and res_path.is_file() and rows_path.is_file():
                    parts[(i, probe)] = read_json_object(res_path)
                    continue
                res, rows = _run_part(model, known, probe, configs[probe], bar, f"{label} · {probe}")
                table = pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA)
                _write_table(rows_path, table)
                parts[(i, probe)] = res.to_json()
                atomic_write_json(res_path, parts[(i, probe)])  # written last: marks the part finished
    return parts


def _assemble(
    out: Path,
    models: list[TextModel],
    facts: list[ModelFacts],
    labels: list[str],
    names: list[str],
    parts: dict[tuple[int, str], dict[str, Any]],
) -> dict[str, Any]:
    """outputs.parquet and results.json from the parts, in model then probe order."""
    tables = [pq.read_table(part_files(out, i, p)[0]) for i in range(len(models)) for p in names]
    merged = pa.concat_tables(tables) if tables else OUTPUT_SCHEMA.empty_table()
    _write_table(out / OUTPUTS, merged)
    results: dict[str, Any] = {
        "models": [
            {
                "name": lab,
                "spec": m.spec,
                "mode": parts[(i, names[0])]["info"]["mode"],
                "chat": parts[(i, names[0])]["info"]["chat"],
            }
            for i, (m, lab) in enumerate(zip(models, labels, strict=True))
        ],
        "probes": {p: {lab: parts[(i, p)] for i, lab in enumerate(labels)} for p in names},
        "mapping": {},
    }
    for m, f, lab in zip(models, facts, labels, strict=True):
        if f.run_dir is not None:
            results["mapping"][lab] = run_mapping(f.run_dir, m.tokenize)
    atomic_write_json(out / RESULTS, results)
    return results


def _write_table(path: Path, table: pa.Table) -> None:
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def read_results(out: Path) -> dict[str, Any]:
    """results.json of a probe run."""
    path = out / RESULTS
    if not path.is_file():
        raise BadInput(f"{out}: no {RESULTS} (did the probe run finish?)")
    return read_json_object(path)


__all__ = ["OUTPUTS", "OUTPUT_SCHEMA", "PARTS", "is_probe_run", "read_results", "run_probes"]
