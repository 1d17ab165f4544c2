"""The main job: train encoder-decoders on binary successor (both orders) and a tree reduction,
evaluate in and out of distribution, and write one run directory per model plus a summary."""

from __future__ import annotations

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
from rich.table import Table

from behaviorlab.errors import BadInput
from behaviorlab.io import atomic_write_json, atomic_write_text
from behaviorlab.store import record
from behaviorlab.train import ExperimentConfig, evaluate_run, train
from behaviorlab.train.config import validate
from behaviorlab.train.rundir import SUMMARY


def _binary(order: str, quick: bool) -> dict[str, Any]:
    # Train on 1..10 bits, hold out unseen numbers of the same lengths (ID) and 11..12 bits (OOD).
    return {
        "name": f"binary-successor-{order}",
        "data": {
            "task": "binary-successor",
            "options": {"order": order},
            "seed": 0,
            "splits": [
                {"name": "train", "n": 700, "min_size": 1, "max_size": 10, "edge_fraction": 0.05},
                {"name": "test_id", "n": 200, "min_size": 1, "max_size": 10},
                {"name": "test_ood", "n": 300, "min_size": 11, "max_size": 12},
            ],
        },
        "model": {"d_model": 64, "n_heads": 4, "enc_layers": 2, "dec_layers": 2, "d_ff": 128},
        "optim": {"name": "adamw", "lr": 3e-3, "weight_decay": 0.01},
        "train": {
            "steps": 400 if quick else 1500,
            "batch_size": 64,
            "warmup": 50,
            "eval_every": 100,
            "checkpoint_every": 250,
            "target_accuracy": 1.0,
        },
    }


def _tree(quick: bool) -> dict[str, Any]:
    # One-step inorder reductions: trees of 1..4 nodes in training, 5..6 out of distribution.
    return {
        "name": "tree-inorder-steps1",
        "data": {
            "task": "tree-inorder",
            "options": {"steps": "1"},
            "seed": 0,
            "splits": [
                {"name": "train", "n": 1500, "min_size": 1, "max_size": 4},
                {"name": "test_id", "n": 200, "min_size": 1, "max_size": 4},
                {"name": "test_ood", "n": 200, "min_size": 5, "max_size": 6},
            ],
        },
        "model": {"d_model": 64, "n_heads": 4, "enc_layers": 2, "dec_layers": 2, "d_ff": 128},
        "optim": {"name": "adamw", "lr": 3e-3, "weight_decay": 0.01},
        "train": {
            "steps": 300 if quick else 1200,
            "batch_size": 64,
            "warmup": 50,
            "eval_every": 100,
            "checkpoint_every": 250,
            "target_accuracy": 1.0,
        },
    }


def demo_configs(quick: bool, optimizer: str = "adamw") -> dict[str, ExperimentConfig]:
    """The demo's models keyed TASK/OPTION, as validated configs."""
    raws = {
        "binary-successor/natural": _binary("natural", quick),
        "binary-successor/reverse": _binary("reverse", quick),
        "tree-inorder/steps=1": _tree(quick),
    }
    out = {}
    for key, raw in raws.items():
        if optimizer != "adamw":
            # Sophia's lr sits near AdamW's and its weight decay about twice (reference/sophia.md).
            raw["optim"] = {"name": optimizer, "lr": 2e-3, "weight_decay": 0.02}
        out[key] = validate(raw, f"demo:{key}")
    return out


def _run_one(cfg_json: str, run_dir: str, resume: bool, updates: Any) -> dict[str, Any]:
    """Worker: train then evaluate one model; progress goes back through a queue."""
    cfg = ExperimentConfig.model_validate_json(cfg_json)
    path = Path(run_dir)
    can_resume = resume and (path / "config.toml").exists()
    if not (can_resume and _is_complete(path)):
        train(
            cfg,
            path,
            resume=can_resume,
            force=not can_resume,
            progress=False,
            on_step=lambda s: updates.put((cfg.name, s)),
        )
    result = evaluate_run(path)
    record(path)
    updates.put((cfg.name, cfg.train.steps))
    return {"accuracy_id": result["accuracy_id"], "accuracy_ood": result["accuracy_ood"]}


def _is_complete(path: Path) -> bool:
    import json

    s = path / SUMMARY
    return s.exists() and json.loads(s.read_text()).get("status") == "complete"


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
    """Train and evaluate every demo model (in parallel processes) and write DIR/summary.json."""
    console = console or Console()
    if out.exists() and any(out.iterdir()) and not (force or resume):
        raise BadInput(f"{out}: output directory exists and is not empty (use --force or --resume)")
    if force and not resume and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    configs = demo_configs(quick, optimizer)
    workers = workers or max(1, min(len(configs), os.cpu_count() or 1))
    t0 = time.perf_counter()
    ctx = mp.get_context("spawn")  # fork after torch initialised its thread pool is unsafe
    with ctx.Manager() as manager, ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        updates = manager.Queue()
        futures: dict[str, Future[dict[str, Any]]] = {
            key: pool.submit(_run_one, cfg.model_dump_json(), str(out / cfg.name), resume, updates)
            for key, cfg in configs.items()
        }
        bars = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        with bars:
            ids = {c.name: bars.add_task(c.name, total=c.train.steps) for c in configs.values()}
            while not all(f.done() for f in futures.values()):
                try:
                    name, step = updates.get(timeout=0.2)
                    bars.update(ids[name], completed=step)
                except queue.Empty:
                    pass
        results = {key: f.result() for key, f in futures.items()}
    elapsed = time.perf_counter() - t0
    models = {
        key: {**res, "run_dir": configs[key].name, "steps": _steps(out / configs[key].name)}
        for key, res in results.items()
    }
    summary = {
        "quick": quick,
        "optimizer": optimizer,
        "seconds": round(elapsed, 1),
        "models": models,
    }
    atomic_write_json(out / "summary.json", summary)
    atomic_write_text(out / "SUMMARY.md", render_markdown(summary))
    console.print(render_table(summary))
    return summary


def _steps(run: Path) -> int | None:
    import json

    s = run / SUMMARY
    return json.loads(s.read_text()).get("steps") if s.exists() else None


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def render_table(summary: dict[str, Any]) -> Table:
    """The headline numbers as a Rich table."""
    t = Table(title=f"behaviorlab demo ({summary['seconds']} s, optimizer {summary['optimizer']})")
    for col in ("model", "steps", "in-distribution", "out-of-distribution", "run dir"):
        t.add_column(col)
    for key, m in summary["models"].items():
        t.add_row(
            key, str(m["steps"]), _pct(m["accuracy_id"]), _pct(m["accuracy_ood"]), m["run_dir"]
        )
    return t


def render_markdown(summary: dict[str, Any]) -> str:
    """A readable top-level summary beside summary.json."""
    lines = [
        "# behaviorlab demo",
        "",
        f"Optimizer {summary['optimizer']}, {'quick' if summary['quick'] else 'full'} run, "
        f"{summary['seconds']} s.",
        "",
        "| model | steps | exact match ID | exact match OOD | run dir |",
        "|---|---|---|---|---|",
    ]
    for key, m in summary["models"].items():
        acc = f"{_pct(m['accuracy_id'])} | {_pct(m['accuracy_ood'])}"
        lines.append(f"| {key} | {m['steps']} | {acc} | {m['run_dir']} |")
    return "\n".join(lines) + "\n"
