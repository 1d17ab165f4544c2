"""Exports after the fact: a run directory's record sent into a results sink (TensorBoard, MLflow,
CSV or Parquet tables, or a plugin's), the same way a live run sends it. Runs of every kind:
training metrics by step, a probe run's findings, an imitation run's tables and claims."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.outdir import claim_folder
from behaviorlab.results import Finding, headline_json
from behaviorlab.rundir import CONFIG, RESULTS, SUMMARY, RunDir, read_json_object
from behaviorlab.track.base import Tracker, open_tracker
from behaviorlab.track.record import read_metrics


def _numbers(d: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in d.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def _train(tracker: Tracker, run: RunDir) -> None:
    rows = read_metrics(run.path)
    for r in rows:
        tracker.log_scalars(
            {k: v for k, v in r.items() if k not in ("step", "split")}, int(r["step"]), str(r["split"])
        )
    tracker.log_table("metrics", rows)
    tracker.log_scalars(_numbers(run.summary), int(run.summary.get("steps") or 0), "summary")


def _probe(tracker: Tracker, run: RunDir) -> None:
    results = read_json_object(run.file(RESULTS))
    heads = []
    for probe, per in results.get("probes", {}).items():
        for model, data in per.items():
            f = Finding.from_json(data)
            tracker.log_scalars(f.scalars(), 0, f"{probe}/{model}")
            tracker.log_table(f"{probe}/{model}", f.table())
            heads.append({"probe": probe, "model": model, **headline_json(f), "verdict": f.verdict})
    tracker.log_table("headlines", heads)


def _flat(prefix: str, table: dict[str, Any]) -> dict[str, Any]:
    """An imitation row's table of estimates as flat columns (`content.all`, `content.all_lo`, …)."""
    out: dict[str, Any] = {}
    for key, cell in table.items():
        if isinstance(cell, dict) and "estimate" in cell:
            out |= {
                f"{prefix}.{key}": cell["estimate"],
                f"{prefix}.{key}_lo": cell["ci_low"],
                f"{prefix}.{key}_hi": cell["ci_high"],
            }
    return out


def _imitation(tracker: Tracker, run: RunDir) -> None:
    results = read_json_object(run.file(RESULTS))
    rows = [
        {k: r.get(k) for k in ("name", "role", "setting", "amount", "base")}
        | _flat("content", r["content"])
        | _flat("style", r["style"])
        for r in results.get("rows", [])
    ]
    tracker.log_table("rows", rows)
    findings = [Finding.from_json(f) for f in results.get("findings", [])]
    tracker.log_table(
        "findings",
        [{"claim": f.name, "held": f.held, **headline_json(f), "evidence": f.verdict} for f in findings],
    )
    for i, f in enumerate(findings):
        tracker.log_scalars(f.scalars(), 0, f"finding-{i}")


def record_into(tracker: Tracker, run: RunDir) -> None:
    """A run directory's record into the tracker's sinks, with its key files as artifacts."""
    {"train": _train, "probe": _probe, "imitation": _imitation}[run.kind](tracker, run)
    for name in (CONFIG, SUMMARY, RESULTS):
        if run.file(name).is_file():
            tracker.log_artifact(run.file(name))


def send_run(run_dir: Path, sinks: Sequence[str]) -> None:
    """A finished run's record into the named sinks, as it ends (a failing sink: one warning)."""
    if not sinks:
        return
    run = RunDir.open(run_dir)
    tracker = open_tracker(sinks, run.path, run.name, {})
    record_into(tracker, run)
    tracker.close()


def check_sinks(sinks: Sequence[str]) -> None:
    """BadInput for a sink name the registry does not know (before any work starts)."""
    from behaviorlab import registry

    unknown = [s for s in sinks if s not in registry.names("sink")]
    if unknown:
        known = ", ".join(registry.names("sink"))
        raise BadInput(f"unknown results sink(s) {', '.join(unknown)}; expected some of {known}")


def export_runs(paths: Sequence[Path], to: str, out: Path) -> list[Path]:
    """Every run into sink `to` under `out` (OUT/RUN_FOLDER for files; MLflow's store OUT/mlflow.db
    unless $MLFLOW_TRACKING_URI says otherwise); the folders written. A sink that fails is BadInput,
    and the folders this export made are removed again."""
    given: dict[Path, Path] = {}
    for p in paths:  # a run named twice is exported once
        given.setdefault(Path(p).resolve(), Path(p))
    runs = [RunDir.open(p) for p in given.values()]  # every run read before anything is written
    if not runs:
        raise BadInput("export needs at least one run directory")
    check_sinks([to])
    names = [run.path.name for run in runs]
    if twice := sorted({n for n in names if names.count(n) > 1}):  # OUT/NAME would hold one of them
        raise BadInput(f"two runs are named {', '.join(twice)}; export them to separate --out folders")
    made = [p for p in (out, *(out / n for n in names)) if not p.exists()]
    try:  # every folder claimed (never someone else's of that name) before any is written
        folders = [claim_folder(out / run.path.name, "exported records") for run in runs]
        for run, folder in zip(runs, folders, strict=True):
            _export_one(run, to, folder)
        return folders
    except BaseException:
        for p in reversed(made):  # only what this export created; earlier exports stay
            shutil.rmtree(p, ignore_errors=True)
        raise


def _export_one(run: RunDir, to: str, folder: Path) -> None:
    """One run's record into sink `to`, writing under `folder`."""
    failed: list[str] = []
    tracker = open_tracker([to], folder, run.name, {}, say=failed.append)
    record_into(tracker, run)
    tracker.close()
    if failed:
        raise BadInput(f"export of {run.path} to {to}: {failed[0]}")
