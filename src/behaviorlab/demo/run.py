"""The main job: train encoder-decoders on binary successor (both orders) and a tree reduction,
evaluate in and out of distribution, open them up (attention, recursion heads, ablation,
perturbation), reconstruct their shortcut programs, probe them beside SmolLM2 and ablate
SmolLM2's induction heads, and write one run directory per model plus a summary. Models run as
jobs on the sweep backends (a local process pool, or Ray), one torch thread each."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from behaviorlab.demo.configs import demo_configs, lr_configs, lstm_configs
from behaviorlab.demo.render import print_table, render_markdown
from behaviorlab.io import atomic_write_json, atomic_write_text
from behaviorlab.outdir import resuming
from behaviorlab.rundir import (
    CONFIG,
    SUMMARY,
    SUMMARY_MD,
    RunDir,
    is_run,
    read_json_object,
    replace_output_dir,
    unlock,
)
from behaviorlab.store import record
from behaviorlab.sweep.backends import check_backend, run_jobs
from behaviorlab.tasks.dataset import DatasetSpec
from behaviorlab.train import ExperimentConfig, evaluate_run, train
from behaviorlab.train.data import task_name


def _is_complete(path: Path) -> bool:
    return is_run(path) and RunDir.open(path).status == "complete"


def run_one(
    cfg_json: str, run_dir: str, resume: bool, quick: bool, analyze: bool, updates: Any = None
) -> dict[str, Any]:
    """Job: train, evaluate, explain (metamodel) and open up (interpret) one model."""
    from behaviorlab.interpret.findings import head_findings
    from behaviorlab.metamodels.on_run import explain_run
    from behaviorlab.metamodels.portable import SUMMARY_KEYS, portable

    cfg = ExperimentConfig.model_validate_json(cfg_json)
    path = Path(run_dir)
    can_resume = resume and (path / CONFIG).exists()

    def say(step: int, phase: str) -> None:
        if updates is not None:
            updates.put((cfg.name, step, phase))

    if not (can_resume and _is_complete(path)):
        train(
            cfg,
            path,
            resume=can_resume,
            force=not can_resume,
            progress=False,
            on_step=lambda s: say(s, "train"),
        )
    steps = RunDir.open(path).summary.get("steps", cfg.train.steps)
    say(steps, "evaluate")
    result = evaluate_run(path)
    entry: dict[str, Any] = {"accuracy_id": result["accuracy_id"], "accuracy_ood": result["accuracy_ood"]}
    entry["steps"], entry["run_dir"], entry["lr"] = steps, path.name, cfg.optim.lr
    say(steps, "explain")
    # --quick is a smoke run: a smaller search and check, so less precise metamodel figures.
    explained = explain_run(path, queries=300 if quick else None, check=300 if quick else None)
    entry.update({k: explained.to_json()[k] for k in SUMMARY_KEYS})
    entry["metamodel_program"] = explained.program_name
    entry["fresh_check"] = explained.fresh_check
    options = dict(cfg.data.options) if isinstance(cfg.data, DatasetSpec) else {}
    entry["_portable"] = portable(explained, task_name(cfg.data), options)
    if analyze:
        say(steps, "interpret")
        entry.update(head_findings(path, quick=quick))
    record(path)
    say(steps, "done")
    return entry


def _is_demo(out: Path) -> bool:
    return (out / SUMMARY).is_file() and "models" in read_json_object(out / SUMMARY)


def _prepare_out(out: Path, force: bool, resume: bool) -> None:
    """Create (or, resuming, reopen) the demo folder, locked for this process."""
    if resume and out.is_dir():
        with resuming(out):
            return  # finished runs are kept; each job resumes its own
    replace_output_dir(out, force, _is_demo, "an earlier demo's output", {})


def _run_all(
    jobs: dict[str, tuple[ExperimentConfig, bool]],
    out: Path,
    resume: bool,
    quick: bool,
    backend: str,
    workers: int,
    console: Console,
) -> dict[str, dict[str, Any]]:
    """Run every job on a sweep backend with one progress bar per model."""
    keys = list(jobs)
    args = [
        (cfg.model_dump_json(), str(out / cfg.name), resume, quick, analyze) for cfg, analyze in jobs.values()
    ]
    bars = Progress(
        TextColumn("{task.description:<34}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[phase]}", markup=False),
        TimeElapsedColumn(),
        console=console,
    )
    results: dict[str, dict[str, Any]] = {}
    with bars:
        ids = {c.name: bars.add_task(c.name, total=c.train.steps, phase="queued") for c, _ in jobs.values()}

        def on_update(msg: tuple[str, int, str]) -> None:
            name, step, phase = msg
            total = step if phase != "train" else None  # early stop ends the bar where it stopped
            bars.update(ids[name], completed=step, phase=phase, total=total)

        for i, result in run_jobs(run_one, args, backend, workers=workers, on_update=on_update):
            results[keys[i]] = result
    return {k: results[k] for k in keys}


def run_demo(
    out: Path,
    *,
    quick: bool = False,
    force: bool = False,
    resume: bool = False,
    optimizer: str = "adamw",
    backend: str = "local",
    workers: int | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Train, evaluate, explain and interpret every demo model; write DIR/summary.json and SUMMARY.md."""
    console = console or Console()
    check_backend(backend, None, workers)
    configs = demo_configs(quick, optimizer)  # validated before anything is written
    lstm = lstm_configs(quick, optimizer)
    extra = {} if quick else lr_configs(optimizer)
    _prepare_out(out, force, resume)
    try:
        return _demo(out, configs, lstm, extra, quick, optimizer, resume, backend, workers, console)
    finally:
        unlock(out)


def _demo(
    out: Path,
    configs: dict[str, ExperimentConfig],
    lstm: dict[str, ExperimentConfig],
    extra: dict[str, ExperimentConfig],
    quick: bool,
    optimizer: str,
    resume: bool,
    backend: str,
    workers: int | None,
    console: Console,
) -> dict[str, Any]:
    # Heads are opened up on the transformers; the LSTM and the lr variants are explained only.
    jobs = {k: (c, True) for k, c in configs.items()} | {k: (c, False) for k, c in {**lstm, **extra}.items()}
    workers = workers or max(1, min(len(jobs), os.cpu_count() or 1))
    t0 = time.perf_counter()
    results = _run_all(jobs, out, resume, quick, backend, workers, console)
    portable = {k: r.pop("_portable") for k, r in results.items()}
    summary: dict[str, Any] = {
        "quick": quick,
        "optimizer": optimizer,
        "seconds": round(time.perf_counter() - t0, 1),
        "models": {k: results[k] for k in [*configs, *lstm]},
    }
    if extra:
        from behaviorlab.metamodels.portable import compare_portable

        # Same task, different learning rates: did they learn the same shortcut?
        summary["lr_comparison"] = {
            "runs": {k: results[k] for k in [*configs, *extra] if k.startswith("binary-successor")},
            "metamodels": compare_portable({k: v for k, v in portable.items() if k.startswith("binary")}),
        }
    from behaviorlab.demo.probes import probe_section

    # The same black-box probes on our transformer, our LSTM and a pretrained chat model.
    runs = [out / configs["binary-successor/natural"].name, out / lstm["binary-successor/natural@lstm"].name]
    t_probes = time.perf_counter()
    summary["probes"] = probe_section(out, runs, quick=quick, console=console)
    summary["probes"]["seconds"] = round(time.perf_counter() - t_probes, 1)
    from behaviorlab.demo.whitebox import whitebox_section

    # From outside to inside: SmolLM2's induction heads ablated, its copying measured again.
    summary["whitebox"] = whitebox_section(out, quick=quick, console=console)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    atomic_write_json(out / SUMMARY, summary)
    atomic_write_text(out / SUMMARY_MD, render_markdown(summary))
    from behaviorlab.report import render_report

    report = render_report(out)
    print_table(console, summary)
    console.print(f"summary: {out / SUMMARY_MD}  report: {report}")
    return summary
