"""A probe run: chosen probes on one or more models, into a run directory of kind `probe`.

Files: `config.toml` (kind, models, probes, limit, seed, chat, every probe's settings),
`outputs.parquet` (every generation), `results.json` (every probe's result per model, and the
data-vs-output mapping of our own runs), `summary.json` (status, one verdict per model × probe).
Each model × probe is written to `parts/` as it finishes, so `resume=True` skips finished parts;
with a runner (a local process pool or Ray, handed over by the sweep stage) each part is a job.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import tomli_w
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json, read_parquet
from behaviorlab.jobs import Runner
from behaviorlab.limits import RUN_FILES_BYTES, Need, require
from behaviorlab.lm import ModelFacts, TextModel
from behaviorlab.outdir import mark, resuming
from behaviorlab.probes.base import ProbeConfig, model_facts
from behaviorlab.probes.budget import budget_configs, budget_outcome, check_budget, recorded_sizes, resized
from behaviorlab.probes.compare import compare_models
from behaviorlab.probes.mapping import run_mapping
from behaviorlab.probes.parts import (
    OUTPUT_SCHEMA,
    finished_part,
    run_part,
    run_part_job,
    write_part,
    write_table,
)
from behaviorlab.probes.registry import make, parse_names
from behaviorlab.probes.registry import names as probe_names
from behaviorlab.probes.zoo import ZooModel, open_entry
from behaviorlab.results import Finding, headline_json
from behaviorlab.rundir import (
    CONFIG,
    OUTPUTS,
    PARTS,
    RESULTS,
    RunDir,
    discard,
    is_run,
    part_files,
    read_json_object,
    read_toml,
    replace_output_dir,
    unlock,
    write_summary,
)
from behaviorlab.track import check_sinks, send_run
from behaviorlab.validate import check_int, check_seed

# A generation's row in outputs.parquet, compressed (a floor for the disk pre-flight).
OUTPUT_ROW_BYTES = 64


def is_probe_run(path: Path) -> bool:
    """True for a directory holding a probe run (what --force may replace)."""
    try:
        return is_run(path) and RunDir.open(path).kind == "probe"
    except BadInput:
        return False


def probe_configs(
    probes: Sequence[str], limit: int | None, seed: int, settings: dict[str, Any] | None
) -> dict[str, ProbeConfig]:
    """Each chosen probe's config: settings overrides, then the item cap (-n) and --seed."""
    if limit is not None:
        check_int("-n (items per condition)", limit, 1)
    check_seed(seed, "--seed")  # every probe's seed, and so every catalog row, fits int64
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
    zoo: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """config.toml of a probe run, normalised through TOML (so a resume compares like with like);
    `zoo`: per-model settings (name, chat, context, backend), recorded when any model has some."""
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
    if any(zoo):
        raw["zoo"] = list(zoo)
    return tomllib.loads(tomli_w.dumps(raw))


def _prepare(out: Path, config: dict[str, Any], *, force: bool, resume: bool) -> None:
    """Create the run directory (or check the one a resume continues), locked for this process;
    nothing written on refusal."""
    if resume:
        if not (out / CONFIG).is_file() or not is_probe_run(out):
            raise BadInput(f"{out}: --resume needs an existing probe run directory")
        with resuming(out):
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


def run_probes(
    models: Sequence[str | TextModel | ZooModel],
    out: Path,
    *,
    probes: Sequence[str] | str | None = None,
    limit: int | None = None,
    budget: float | None = None,
    seed: int = 0,
    chat: bool | None = None,
    settings: dict[str, Any] | None = None,
    force: bool = False,
    resume: bool = False,
    progress: bool = False,
    ablate: str | None = None,
    sinks: Sequence[str] = (),
    runner: Runner | None = None,
) -> dict[str, Any]:
    """Run `probes` (default: every registered probe) on every model into `out`; returns
    results.json's content.

    Models are specs, opened models or zoo entries (per-model name, chat, context, backend; `chat`
    is the default for the others). With a `runner` (a local process pool or Ray, from the sweep
    stage) every unfinished model × probe part runs as a job in a worker; else here, in order.
    `ablate` zero-ablates attention heads of every model (`dec.3.h5,dec.4.h2` or `top:induction:4`,
    scored on each model); the specs recorded name the heads, so a replay ablates the same ones.
    `budget` (seconds) sizes each probe to fit after a pilot (`probes.budget`; never above `limit`);
    the choice and the resulting half-widths are in config.toml and results.json (`budget`).
    Every model is opened before anything is written, so a bad spec leaves no directory; a run
    that fails before any part is finished leaves none either."""
    chosen = probe_names() if probes is None else probes
    names = parse_names(chosen) if isinstance(chosen, str) else parse_names(",".join(chosen))
    configs = probe_configs(names, limit, seed, settings)
    check_budget(budget)
    check_sinks(sinks)
    if not models:
        raise BadInput("no model given (use --model SPEC or --models ZOO.toml)")
    out = Path(out)
    sizes = sum(max(c.n, c.closed_n) * OUTPUT_ROW_BYTES for c in configs.values())
    require(
        "probe",
        Need(disk=RUN_FILES_BYTES + sizes * len(models)),
        out=out,
        hint="free some space or write elsewhere",
    )
    entries = [
        m if isinstance(m, ZooModel) else ZooModel(spec=m if isinstance(m, str) else m.spec) for m in models
    ]
    if ablate:
        from behaviorlab.interpret.lm_heads import resolve_ablation

        entries = [
            e.model_copy(update={"spec": resolve_ablation(e.spec, ablate, seed=seed)}) for e in entries
        ]
        # An opened model given as an object is opened anew from its ablated spec.
        models = list(entries)
    opened = [
        open_entry(e) if isinstance(m, (str, ZooModel)) else m for e, m in zip(entries, models, strict=True)
    ]
    # What a worker opens: the spec the model resolved to (alias, backend), with the same settings.
    jobs = [
        e.model_copy(update={"spec": m.spec, "backend": "auto", "chat": chat if e.chat is None else e.chat})
        for e, m in zip(entries, opened, strict=True)
    ]
    facts = [model_facts(m, j.chat) for m, j in zip(opened, jobs, strict=True)]
    started = time.perf_counter()
    chosen_sizes: dict[str, Any] | None = None
    if budget is not None:
        configs, chosen_sizes = _budgeted(out, budget, limit, opened, facts, configs, resume)
    config = run_config(opened, names, limit, seed, chat, configs, [e.settings() for e in entries])
    if ablate:
        config["ablate"] = ablate
    if chosen_sizes is not None:
        config["budget"] = chosen_sizes
    _prepare(out, config, force=force, resume=resume)
    try:
        results = _run(out, opened, facts, jobs, names, configs, limit, seed, progress, resume, sinks, runner)
        if chosen_sizes is not None:
            seconds = time.perf_counter() - started
            results["budget"] = budget_outcome(chosen_sizes, results["probes"], seconds)
            atomic_write_json(out / RESULTS, results)
        return results
    finally:
        unlock(out)


def _budgeted(
    out: Path,
    budget: float,
    limit: int | None,
    models: list[TextModel],
    facts: list[ModelFacts],
    configs: dict[str, ProbeConfig],
    resume: bool,
) -> tuple[dict[str, ProbeConfig], dict[str, Any]]:
    """The configs sized to the budget: by a new pilot, or on a resume as the run recorded them (so
    the parts already written still match)."""
    if resume and (out / CONFIG).is_file():
        sizes, record = recorded_sizes(read_toml(out / CONFIG))
        if set(sizes) != set(configs):
            raise BadInput(f"{out}: --resume with probes that differ from the recorded run")
        sized = resized(configs, sizes)
        return sized, record
    return budget_configs(budget, limit, models, facts, configs)


def _run(
    out: Path,
    opened: list[TextModel],
    facts: list[ModelFacts],
    jobs: list[ZooModel],
    names: list[str],
    configs: dict[str, ProbeConfig],
    limit: int | None,
    seed: int,
    progress: bool,
    resume: bool,
    sinks: Sequence[str],
    runner: Runner | None,
) -> dict[str, Any]:
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
    started = time.perf_counter()
    try:
        write_summary(out, {**base, "status": "running"})
        if runner is None:
            parts = _run_all(out, opened, facts, labels, names, configs, progress, resume)
        else:
            parts = _run_jobs(out, jobs, labels, names, configs, progress, resume, runner)
        results = _assemble(out, opened, facts, labels, names, parts)
    except BaseException as e:
        _failed(out, e, fresh=not resume)
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


def _failed(out: Path, e: BaseException, *, fresh: bool) -> None:
    """The failure path, which never raises of its own: a fresh run with no finished part is
    removed (nothing left behind); any other is marked failed or interrupted (or, when even that
    cannot be written, reads as interrupted). An I/O error becomes one line naming the path."""
    if fresh and not any((out / PARTS).glob("*.json")):
        discard(out)
        kept = "nothing was kept"
    else:
        interrupted = isinstance(e, KeyboardInterrupt)
        status = "interrupted" if interrupted else "failed"
        reason = "interrupted; continue with --resume" if interrupted else f"{type(e).__name__}: {e}"
        kept = f"probe run {out} {status}, finished parts kept for --resume"
        kept += mark(out, status, reason) if (out / CONFIG).is_file() else ""
    if isinstance(e, OSError):
        raise BadInput(f"{e.filename or out}: {e.strerror or e}; {kept}") from None


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
    """Every model × probe part, here and in order: read back when a resume finds it finished,
    else run and written."""
    parts: dict[tuple[int, str], dict[str, Any]] = {}
    with _bar(progress) as bar:
        for i, (model, known, label) in enumerate(zip(models, facts, labels, strict=True)):
            for probe in names:
                done = finished_part(out, i, probe) if resume else None
                if done is None:
                    found, rows = run_part(model, known, probe, configs[probe], bar, f"{label} · {probe}")
                    done = write_part(out, i, probe, found, rows)
                parts[(i, probe)] = done
    return parts


def _run_jobs(
    out: Path,
    entries: list[ZooModel],
    labels: list[str],
    names: list[str],
    configs: dict[str, ProbeConfig],
    progress: bool,
    resume: bool,
    runner: Runner,
) -> dict[tuple[int, str], dict[str, Any]]:
    """Every unfinished model × probe part as a job on `runner`; each worker writes its part, which
    is read back here (so a part's numbers come from one place, whichever backend ran it)."""
    todo = [(i, p) for i in range(len(entries)) for p in names if not (resume and finished_part(out, i, p))]
    jobs = [(str(out), i, entries[i].model_dump_json(), p, configs[p].model_dump_json()) for i, p in todo]
    with _bar(progress) as bar:
        task = bar.add_task(f"{len(entries)} models x {len(names)} probes: parts", total=len(todo))
        for _ in runner(run_part_job, jobs, lambda msg: bar.advance(task, 1)):
            pass
    parts = {}
    for i, label in enumerate(labels):
        for p in names:
            done = finished_part(out, i, p)
            if done is None:
                raise RuntimeError(f"part {label} · {p} did not write its result")
            parts[(i, p)] = done
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
    tables = [read_parquet(part_files(out, i, p)[0]) for i in range(len(models)) for p in names]
    merged = pa.concat_tables(tables) if tables else OUTPUT_SCHEMA.empty_table()
    write_table(out / OUTPUTS, merged)
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
    results["comparison"] = compare_models(results["probes"])
    for m, f, lab in zip(models, facts, labels, strict=True):
        if f.run_dir is not None:
            results["mapping"][lab] = run_mapping(f.run_dir, m.tokenize)
    atomic_write_json(out / RESULTS, results)
    return results


def read_results(out: Path) -> dict[str, Any]:
    """results.json of a probe run."""
    path = out / RESULTS
    if not path.is_file():
        raise BadInput(f"{out}: no {RESULTS} (did the probe run finish?)")
    return read_json_object(path)


__all__ = ["OUTPUTS", "OUTPUT_SCHEMA", "PARTS", "is_probe_run", "read_results", "run_probes"]
