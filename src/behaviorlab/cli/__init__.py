"""The `behaviorlab` command line. Thin: every command calls a library function."""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.models import DefaultPlaceholder

try:  # typer vendors click from 0.2x on; older releases use click itself
    from typer._click import exceptions as cx
except ImportError:  # pragma: no cover
    from click import exceptions as cx  # type: ignore[no-redef]

from behaviorlab.cli._common import one_line, use_safe_console
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

EPILOG = """\b
From Python (a notebook), the same things, typed (help(behaviorlab.open)):
  behaviorlab.open(RUN_DIR)         a trained run: head_scores(), ablate(), patch(), attention() as DataFrames
  behaviorlab.runs()                the run catalog as a DataFrame
  behaviorlab.task(NAME, order=)    a task: solve(), sample(), parse()
  behaviorlab.load(SPEC)            any model (run:DIR, hf:DIR, gguf:FILE, smollm2) as a TextModel
  behaviorlab.explain(RUN_DIR)      the shortcut program and the failures it predicts
  behaviorlab.probe(SPECS, OUT)     black-box probes; behaviorlab.report(PATH) the HTML report

\b
Options read the same in every command: -n/--n how many items, --format text|json, --out where
output goes, --seed, --force, --resume (CONTRIBUTING.md, "The command-line vocabulary")."""

app = typer.Typer(
    name="behaviorlab",
    help="behaviorlab: what has a generative model learned, and where will it fail? Train small models "
    "on exact recursive tasks or open anyone's (Hugging Face, GGUF), then find the shortcut program "
    "a model follows, predict its failures, open up its heads, and probe it as a black box.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
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


def _unset(value: Any) -> bool:
    """None, or typer's placeholder for a value nobody gave (add_typer's defaults)."""
    return value is None or isinstance(value, DefaultPlaceholder)


def _plain_help(t: typer.Typer) -> None:
    """Help text printed as written: no console markup, so `[grid]` or `x[:H]` in a help string
    stays on the screen (Rich markup would eat it); each command's one line whole in the command
    list (click cuts a line it shortens itself at about 45 characters), in every group."""
    t.rich_markup_mode = None
    infos: list[Any] = [*t.registered_commands, *t.registered_groups]
    for info in infos:
        if _unset(info.short_help):
            doc = None if _unset(info.help) else info.help
            doc = doc or (info.callback.__doc__ if info.callback else None) or ""
            info.short_help = " ".join(doc.strip().split("\n\n")[0].split()) or None
    for group in t.registered_groups:
        if group.typer_instance is not None:
            _plain_help(group.typer_instance)


_plain_help(app)


def main(argv: list[str] | None = None) -> None:
    """The console entry point: usage errors and Ctrl-C are one line, like every other error."""
    use_safe_console()
    try:
        code = app(args=argv, prog_name="behaviorlab", standalone_mode=False)
    except cx.NoArgsIsHelpError as e:
        sys.stdout.write(e.ctx.get_help() + "\n" if e.ctx else str(e))
        code = 0
    except cx.UsageError as e:
        where = f"{e.ctx.command_path}: " if e.ctx else ""
        sys.stderr.write("error: " + one_line(f"{where}{e.format_message()}") + "\n")
        code = 2
    except cx.ClickException as e:
        sys.stderr.write("error: " + one_line(e.format_message()) + "\n")
        code = e.exit_code
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("error: interrupted\n")
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
