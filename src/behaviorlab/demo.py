"""The main job: train encoder-decoders on binary successor (both orders) and a tree reduction,
evaluate in and out of distribution, open them up (attention, recursion heads, ablation,
perturbation), reconstruct their shortcut programs, and write one run directory per model plus
a summary. Models train in parallel processes, one torch thread each."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import shutil
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from behaviorlab.demo_configs import demo_configs, lr_configs
from behaviorlab.demo_render import render_markdown, render_table
from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json, atomic_write_text
from behaviorlab.store import record
from behaviorlab.train import ExperimentConfig, evaluate_run, train
from behaviorlab.train.rundir import SUMMARY


def _is_complete(path: Path) -> bool:
    s = path / SUMMARY
    return s.exists() and json.loads(s.read_text()).get("status") == "complete"


def _run_one(
    cfg_json: str, run_dir: str, resume: bool, quick: bool, analyze: bool, updates: Any
) -> dict[str, Any]:
    """Worker: train, evaluate, explain (metamodel) and open up (interpret) one model."""
    from behaviorlab.interpret.demo import analyze_for_demo
    from behaviorlab.metamodels.on_run import SUMMARY_KEYS, explain_run, portable

    cfg = ExperimentConfig.model_validate_json(cfg_json)
    path = Path(run_dir)
    can_resume = resume and (path / "config.toml").exists()

    def say(step: int, phase: str) -> None:
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
    steps = json.loads((path / SUMMARY).read_text()).get("steps", cfg.train.steps)
    say(steps, "evaluate")
    result = evaluate_run(path)
    entry: dict[str, Any] = {"accuracy_id": result["accuracy_id"], "accuracy_ood": result["accuracy_ood"]}
    entry["steps"], entry["run_dir"], entry["lr"] = steps, path.name, cfg.optim.lr
    say(steps, "explain")
    # --quick is a smoke run: a smaller search and check, so less precise metamodel figures.
    explained = explain_run(path, queries=300 if quick else None, check=300 if quick else None)
    entry.update({k: explained.to_json()[k] for k in SUMMARY_KEYS})
    entry["metamodel_program"] = explained.family_match or explained.program.label
    entry["fresh_check"] = explained.fresh_check
    entry["_portable"] = portable(explained, cfg.data.task, dict(cfg.data.options))
    if analyze:
        say(steps, "interpret")
        entry.update(analyze_for_demo(path, quick=quick))
    record(path)
    say(steps, "done")
    return entry


def _prepare_out(out: Path, force: bool, resume: bool) -> None:
    if out.exists() and any(out.iterdir()) and not (force or resume):
        raise BadInput(f"{out}: output directory exists and is not empty (use --force or --resume)")
    if force and not resume and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _run_all(
    jobs: dict[str, tuple[ExperimentConfig, bool]],
    out: Path,
    resume: bool,
    quick: bool,
    workers: int,
    console: Console,
) -> dict[str, dict[str, Any]]:
    """Run every job on a spawn pool with one progress bar per model."""
    ctx = mp.get_context("spawn")  # fork after torch has started its thread pool is unsafe
    with ctx.Manager() as manager, ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        updates = manager.Queue()
        futures: dict[str, Future[dict[str, Any]]] = {
            key: pool.submit(
                _run_one, cfg.model_dump_json(), str(out / cfg.name), resume, quick, analyze, updates
            )
            for key, (cfg, analyze) in jobs.items()
        }
        bars = Progress(
            TextColumn("[bold]{task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[phase]}"),
            TimeElapsedColumn(),
            console=console,
        )
        with bars:
            ids = {
                c.name: bars.add_task(c.name, total=c.train.steps, phase="queued") for c, _ in jobs.values()
            }
            while not all(f.done() for f in futures.values()):
                try:
                    name, step, phase = updates.get(timeout=0.2)
                    total = step if phase != "train" else None  # early stop ends the bar where it stopped
                    bars.update(ids[name], completed=step, phase=phase, total=total)
                except queue.Empty:
                    pass
        return {key: f.result() for key, f in futures.items()}


def run_demo(
    out: Path,
    *,
    quick: bool = False,
    force: bool = False,
    resume: bool = False,
    optimizer: str = "adamw",
    workers: int | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Train, evaluate, explain and interpret every demo model; write DIR/summary.json and SUMMARY.md."""
    console = console or Console()
    configs = demo_configs(quick, optimizer)  # validated before anything is written
    extra = {} if quick else lr_configs(optimizer)
    _prepare_out(out, force, resume)
    jobs = {k: (c, True) for k, c in configs.items()} | {k: (c, False) for k, c in extra.items()}
    workers = workers or max(1, min(len(jobs), os.cpu_count() or 1))
    t0 = time.perf_counter()
    results = _run_all(jobs, out, resume, quick, workers, console)
    portable = {k: r.pop("_portable") for k, r in results.items()}
    summary: dict[str, Any] = {
        "quick": quick,
        "optimizer": optimizer,
        "seconds": round(time.perf_counter() - t0, 1),
        "models": {k: results[k] for k in configs},
    }
    if extra:
        from behaviorlab.metamodels.on_run import compare_portable

        # Same task, different learning rates: did they learn the same shortcut?
        summary["lr_comparison"] = {
            "runs": {k: results[k] for k in [*configs, *extra] if k.startswith("binary-successor")},
            "metamodels": compare_portable({k: v for k, v in portable.items() if k.startswith("binary")}),
        }
    atomic_write_json(out / "summary.json", summary)
    atomic_write_text(out / "SUMMARY.md", render_markdown(summary))
    from behaviorlab.report import render_report

    report = render_report(out)
    console.print(render_table(summary))
    console.print(f"summary: {out / 'SUMMARY.md'}  report: {report}")
    return summary
