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
from behaviorlab.lm import TextModel, load
from behaviorlab.probes.base import ProbeConfig, Recorder, model_facts, run_dir_of
from behaviorlab.probes.mapping import run_mapping
from behaviorlab.probes.registry import PROBES, make, parse_names
from behaviorlab.rundir import (
    CONFIG,
    OUTPUTS,
    PARTS,
    RESULTS,
    RunDir,
    is_run,
    read_json_object,
    read_toml,
    replace_output_dir,
    write_summary,
)

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
    unknown = sorted(set(settings or {}) - set(PROBES))
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
    model: TextModel, probe: str, cfg: ProbeConfig, chat: bool | None, bar: Progress, label: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One probe on one model: its result and its generation rows."""
    facts = model_facts(model, chat)
    task = bar.add_task(label, total=0)
    rec = Recorder(
        model,
        probe,
        facts.chat,
        on_total=lambda n: bar.update(task, total=(bar.tasks[task].total or 0) + n),
        on_advance=lambda n: bar.advance(task, n),
    )
    res = PROBES[probe](cfg).run(model, facts, rec)
    res.update(
        model=model.spec,
        mode="closed" if facts.closed else "open",
        chat=facts.chat,
        config=cfg.model_dump(mode="json"),
        generations=len(rec.rows),
    )
    return res, rec.rows


def run_probes(
    models: Sequence[str | TextModel],
    out: Path,
    *,
    probes: Sequence[str] | str = tuple(PROBES),
    limit: int | None = None,
    seed: int = 0,
    chat: bool | None = None,
    settings: dict[str, Any] | None = None,
    force: bool = False,
    resume: bool = False,
    progress: bool = False,
    ablate: str | None = None,
) -> dict[str, Any]:
    """Run `probes` on every model into `out`; returns results.json's content.

    `ablate` zero-ablates attention heads of every model (`dec.3.h5,dec.4.h2` or `top:induction:4`,
    scored on each model); the specs recorded name the heads, so a replay ablates the same ones.
    Every model is opened before anything is written, so a bad spec leaves no directory."""
    names = parse_names(probes) if isinstance(probes, str) else parse_names(",".join(probes))
    configs = probe_configs(names, limit, seed, settings)
    if not models:
        raise BadInput("no model given (use --model SPEC)")
    if ablate:
        from behaviorlab.interpret.lm_heads import resolve_ablation

        models = [resolve_ablation(m if isinstance(m, str) else m.spec, ablate, seed=seed) for m in models]
    opened = [load(m) if isinstance(m, str) else m for m in models]
    config = run_config(opened, names, limit, seed, chat, configs)
    if ablate:
        config["ablate"] = ablate
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
        parts = _run_all(out, opened, labels, names, configs, chat, progress, resume)
        results = _assemble(out, opened, labels, names, parts)
    except KeyboardInterrupt:
        write_summary(out, {**base, "status": "interrupted", "error": "interrupted; continue with --resume"})
        raise
    except Exception as e:
        write_summary(out, {**base, "status": "failed", "error": f"{type(e).__name__}: {e}"})
        raise
    verdicts = {lab: {p: results["probes"][p][lab]["verdict"] for p in names} for lab in labels}
    headlines = {lab: {p: results["probes"][p][lab]["headline"] for p in names} for lab in labels}
    write_summary(
        out,
        {
            **base,
            "status": "complete",
            "verdicts": verdicts,
            "headlines": headlines,
            "generations": sum(r["generations"] for p in names for r in results["probes"][p].values()),
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    return results


def _part_paths(out: Path, index: int, probe: str) -> tuple[Path, Path]:
    stem = out / PARTS / f"{index:02d}-{probe}"
    return stem.with_suffix(".parquet"), stem.with_suffix(".json")


def _run_all(
    out: Path,
    models: list[TextModel],
    labels: list[str],
    names: list[str],
    configs: dict[str, ProbeConfig],
    chat: bool | None,
    progress: bool,
    resume: bool,
) -> dict[tuple[int, str], dict[str, Any]]:
    """Every model × probe part: read back when a resume finds it finished, else run and written."""
    parts: dict[tuple[int, str], dict[str, Any]] = {}
    with _bar(progress) as bar:
        for i, (model, label) in enumerate(zip(models, labels, strict=True)):
            for probe in names:
                rows_path, res_path = _part_paths(out, i, probe)
                if resume and res_path.is_file() and rows_path.is_file():
                    parts[(i, probe)] = read_json_object(res_path)
                    continue
                res, rows = _run_part(model, probe, configs[probe], chat, bar, f"{label} · {probe}")
                table = pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA)
                _write_table(rows_path, table)
                atomic_write_json(res_path, res)  # written last: its presence marks the part finished
                parts[(i, probe)] = res
    return parts


def _assemble(
    out: Path,
    models: list[TextModel],
    labels: list[str],
    names: list[str],
    parts: dict[tuple[int, str], dict[str, Any]],
) -> dict[str, Any]:
    """outputs.parquet and results.json from the parts, in model then probe order."""
    tables = [pq.read_table(_part_paths(out, i, p)[0]) for i in range(len(models)) for p in names]
    merged = pa.concat_tables(tables) if tables else OUTPUT_SCHEMA.empty_table()
    _write_table(out / OUTPUTS, merged)
    results: dict[str, Any] = {
        "models": [
            {
                "name": lab,
                "spec": m.spec,
                "mode": parts[(i, names[0])]["mode"],
                "chat": parts[(i, names[0])]["chat"],
            }
            for i, (m, lab) in enumerate(zip(models, labels, strict=True))
        ],
        "probes": {p: {lab: parts[(i, p)] for i, lab in enumerate(labels)} for p in names},
        "mapping": {},
    }
    for m, lab in zip(models, labels, strict=True):
        where = run_dir_of(m)
        if where is not None:
            results["mapping"][lab] = run_mapping(where, m.tokenize)
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
