"""The `behaviorlab` command line. Thin: every command calls a library function."""

from __future__ import annotations

import typer

from behaviorlab.cli.experiment import demo_cmd, eval_cmd, train_cmd
from behaviorlab.cli.explain import explain_cmd
from behaviorlab.cli.interpret import app as interpret_app
from behaviorlab.cli.records import replay_cmd, runs_app, sweep_cmd
from behaviorlab.cli.report import report_cmd
from behaviorlab.cli.tasks import app as tasks_app

app = typer.Typer(
    name="behaviorlab",
    help="behaviorlab: what has a generative model learned, and where will it fail?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("demo", help="The main job: train, evaluate, explain and open up the demo models.")(demo_cmd)
app.add_typer(tasks_app, name="tasks", help="Exact recursive tasks: list, sample, solve, build.")
app.command("train", help="Train a model from a TOML config into a run directory.")(train_cmd)
app.command("eval", help="Evaluate a run: exact match by length/size/depth, ID vs OOD, failures.")(eval_cmd)
app.command(
    "explain",
    help="Find the shortcut program behind a model (or compare several); failure prediction, MI, MDL.",
)(explain_cmd)
app.add_typer(
    interpret_app, name="interpret", help="Attention, head scores, perturbation, ablation, patching of a run."
)
app.command("report", help="Self-contained HTML report (figures also as PNG) of a run, demo or sweep.")(
    report_cmd
)
app.add_typer(runs_app, name="runs", help="The run catalog: list, show, query (SQL), record.")
app.command("replay", help="Re-execute a run and verify it bit for bit (exit 1 if anything differs).")(
    replay_cmd
)
app.command("sweep", help="Run a grid/list of configs on a local process pool or Ray.")(sweep_cmd)
