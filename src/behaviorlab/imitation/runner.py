"""Where the experiment's training jobs run (a runner: the CLI hands in `sweep.backends.run_jobs`,
tests run them here), with a progress bar; and the imitation run directory itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w

from behaviorlab.errors import BadInput
from behaviorlab.imitation.config import ImitationConfig
from behaviorlab.imitation.jobs import train_and_answer
from behaviorlab.jobs import Job, Runner
from behaviorlab.outdir import resuming
from behaviorlab.rundir import CONFIG, RunDir, replace_output_dir

Say = Callable[[str], None]


def is_imitation(path: Path) -> bool:
    try:
        return RunDir.open(path).kind == "imitation"
    except BadInput:
        return False


def open_dir(cfg: ImitationConfig, out: Path, resume: bool, force: bool) -> None:
    """Create DIR (or, resuming, check it holds this very config)."""
    text = tomli_w.dumps(cfg.to_json())
    if resume:
        if not (out / CONFIG).is_file() or not is_imitation(out):
            raise BadInput(f"{out}: --resume needs an existing imitation run directory")
        with resuming(out):  # locked: a straggler of a killed run cannot write beside this one
            if (out / CONFIG).read_text(encoding="utf-8") != text:
                raise BadInput(f"{out}: --resume with a config that differs from the recorded one")
        return
    replace_output_dir(out, force, is_imitation, "an imitation run directory", {CONFIG: text})


def run_jobs_with_bar(runner: Runner, jobs: list[Job], what: str, progress: bool) -> list[Any]:
    """Run jobs through the runner with one progress line per update; results in job order."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    results: list[Any] = [None] * len(jobs)
    bar = Progress(
        TextColumn(what, markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}", markup=False),
        TimeElapsedColumn(),
        disable=not progress,
    )
    with bar:
        task = bar.add_task(what, total=len(jobs), last="")

        def update(msg: Any) -> None:
            name, step, total, phase = msg
            bar.update(task, last=f"{name}: {phase} {step}/{total}")

        for i, result in runner(train_and_answer, jobs, update):
            results[i] = result
            bar.update(task, advance=1, last=f"{Path(jobs[i][1]).name} done")
    return results
