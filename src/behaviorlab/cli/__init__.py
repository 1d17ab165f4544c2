"""The `behaviorlab` command line. Thin: every command calls a library function."""

from __future__ import annotations

import sys

import typer

try:  # typer vendors click from 0.2x on; older releases use click itself
    from typer._click import exceptions as cx
except ImportError:  # pragma: no cover
    from click import exceptions as cx  # type: ignore[no-redef]

from behaviorlab.cli.experiment import demo_cmd, eval_cmd, samples_cmd, train_cmd
from behaviorlab.cli.explain import explain_cmd
from behaviorlab.cli.export import export_cmd
from behaviorlab.cli.imitate import imitate_cmd
from behaviorlab.cli.interpret import app as interpret_app
from behaviorlab.cli.probe import probe_cmd
from behaviorlab.cli.report import report_cmd
from behaviorlab.cli.runs import replay_cmd, runs_app
from behaviorlab.cli.study import app as study_app
from behaviorlab.cli.sweep import sweep_cmd
from behaviorlab.cli.tasks import app as tasks_app

app = typer.Typer(
    name="behaviorlab",
    help="behaviorlab: what has a generative model learned, and where will it fail?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEMO_HELP = "The main job: train, evaluate, explain and open up the demo models; probe them and SmolLM2."
app.command("demo", help=DEMO_HELP)(demo_cmd)
app.add_typer(tasks_app, name="tasks", help="Exact recursive tasks: list, sample, solve, build.")
app.command("train", help="Train a model from a TOML config into a run directory.")(train_cmd)
app.command("eval", help="Evaluate a run: exact match by length/size/depth, ID vs OOD, failures.")(eval_cmd)
app.command("lm-samples", help="Continue held-out text with a language-model run (RUN/analysis/).")(
    samples_cmd
)
app.command(
    "explain",
    help="Find the shortcut program behind a model (or compare several); failure prediction, MI, MDL.",
)(explain_cmd)
app.command(
    "imitate", help="Imitation: a teacher's outputs fine-tune weaker students; content, style, algorithm."
)(imitate_cmd)
app.add_typer(
    interpret_app, name="interpret", help="Attention, head scores, perturbation, ablation, patching of a run."
)
app.command(
    "probe", help="Black-box probes (copying, repetition, noise, icl, consistency) on one or more models."
)(probe_cmd)
REPORT_HELP = "Self-contained HTML report (PNG figures too) of a run of any kind, demo, sweep or study."
app.command("report", help=REPORT_HELP)(report_cmd)
app.add_typer(runs_app, name="runs", help="The run catalog: list, show, query (SQL), record, export.")
app.command("export", help="Runs of any kind into TensorBoard, MLflow, CSV or Parquet, after the fact.")(
    export_cmd
)
app.command("replay", help="Re-execute a run and verify it bit for bit (exit 1 if anything differs).")(
    replay_cmd
)
app.command("sweep", help="Run a grid/list of configs on a local process pool or Ray.")(sweep_cmd)
app.add_typer(
    study_app,
    name="study",
    help="Whole studies in one command: recursion, tree-boundary, architectures (grids and claims).",
)


def main(argv: list[str] | None = None) -> None:
    """The console entry point: usage errors and Ctrl-C are one line, like every other error."""
    try:
        code = app(args=argv, prog_name="behaviorlab", standalone_mode=False)
    except cx.NoArgsIsHelpError as e:
        sys.stdout.write(e.ctx.get_help() + "\n" if e.ctx else str(e))
        code = 0
    except cx.UsageError as e:
        where = f"{e.ctx.command_path}: " if e.ctx else ""
        sys.stderr.write("error: " + " ".join(f"{where}{e.format_message()}".split()) + "\n")
        code = 2
    except cx.ClickException as e:
        sys.stderr.write("error: " + " ".join(e.format_message().split()) + "\n")
        code = e.exit_code
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("error: interrupted\n")
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
