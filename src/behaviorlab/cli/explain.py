"""`behaviorlab explain`: the shortcut program behind a trained model, and how well it predicts failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from behaviorlab.cli._common import (
    MODEL_SPECS,
    FormatOpt,
    console,
    count,
    err_console,
    fail,
    handles_bad_input,
    output_format,
    pin_threads,
    real,
    seed_option,
)
from behaviorlab.stats import rate_text


def comparison_table(rows: list[dict[str, Any]]) -> Table:
    """One row per run: its shortcut, how well it explains the model, who shares it."""
    table = Table("run", "task", "shortcut", "agreement", "failures predicted", "same shortcut as")
    for r in rows:
        table.add_row(
            Path(r["run"]).name,
            r["task"],
            r["program"],
            f"{r['metamodel_agreement']:.1%}",
            f"{rate_text(r['failure_prediction_rate'], 'n/a')} of {r['n_failures']}",
            ", ".join(r["same_shortcut_as"]) or "-",
        )
    return table


def distribution_lines(dist: dict[str, Any]) -> list[str]:
    """Per task: failure prediction over the runs, and who shares a shortcut."""
    lines = []
    for task, d in dist.items():
        worst, none = d["worst"], d.get("n_without_failures", 0)
        counted = d["n_runs"] - none
        head = f"{task}: failures predicted over {counted} runs ({', '.join(d['measured_on'])}): "
        if d["median"] is None:
            head += "n/a (no failures)"
        else:
            head += (
                f"median {d['median']:.1%}, worst {worst['rate']:.1%} ({Path(worst['run']).name}), "
                f"best {d['best']:.1%}"
            )
        lines.append(head + (f"; {none} runs made no failures (no rate)" if none else ""))
        for g in d["shortcut_groups"]:
            lines.append(f"  same shortcut ({g['program']}): {', '.join(Path(r).name for r in g['runs'])}")
    return lines


@handles_bad_input
def explain_cmd(
    run_dirs: Annotated[
        list[Path] | None,
        typer.Argument(help="Trained and evaluated run directories; two or more are compared."),
    ] = None,
    format: FormatOpt = "text",
    alpha: Annotated[
        float, real("--alpha", lo=0.0, help="Weight of H(model | program) in the MDL score.")
    ] = 1.0,
    seed: Annotated[int, seed_option("Seed of the fit/held-out split and bootstrap.")] = 0,
    queries: Annotated[
        int | None,
        count(
            "--queries",
            lo=0,
            help="Fresh inputs to learn rules from, asked of the model (as many again score the "
            "candidates); default 2000 for a run (400 for tree tasks), 200 with --model.",
        ),
    ] = None,
    check: Annotated[
        int | None,
        count(
            "--check",
            lo=0,
            help="Fresh inputs drawn like the test splits to check the program on, beyond the "
            "held-out half; default 2000 for a run (1000 for tree tasks), 200 with --model; 0 to skip.",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help=f"Any text model, asked few-shot instead of explaining run directories: {MODEL_SPECS}.",
        ),
    ] = None,
    task: Annotated[
        str | None, typer.Option(help="With --model: the task to ask it (required with --model).")
    ] = None,
    order: Annotated[
        str | None,
        typer.Option(help="With --model: binary-successor order (default natural: plain 0/1 digits)."),
    ] = None,
    steps: Annotated[
        str | None, typer.Option(help="With --model: tree reduction steps (default all).")
    ] = None,
    shots: Annotated[int, count("--shots", lo=0, help="With --model: demonstrations per prompt.")] = 8,
    n: Annotated[
        int,
        count(
            "-n",
            "--n",
            lo=4,
            help="With --model: inputs asked (half fit, half held), and as many gibberish strings for "
            "the mechanistic MI. The model is asked n + 2×queries + n + check inputs in all (each "
            "distinct one once); the total and an estimate print before it starts.",
        ),
    ] = 200,
    max_size: Annotated[int, count("--max-size", help="With --model: largest input size asked.")] = 8,
) -> None:
    """Search the shortcut program that reproduces each model and score it (writes analysis/);
    with several runs, also show which learned the same shortcut; with --model, explain any text
    model asked few-shot on a task."""
    format = output_format(format)
    if model is not None or task is not None:
        if run_dirs or model is None or task is None:
            raise fail("explain --model SPEC --task NAME takes no run directories (and needs both)")
        _explain_model(model, task, order, steps, shots, n, max_size, queries, check, alpha, seed, format)
        return
    if not run_dirs:
        raise fail("explain needs run directories, or --model SPEC --task NAME")
    from behaviorlab.metamodels.on_run import across_runs, explain_run

    pin_threads(run_dirs[0])
    if len(run_dirs) > 1:
        with err_console.status(f"explaining {len(run_dirs)} runs (10–40 s each) …"):
            got = across_runs(run_dirs, alpha=alpha, seed=seed, queries=queries, check=check)
        if format == "json":
            typer.echo(json.dumps(got, indent=2))
        else:
            console.print(comparison_table(got["runs"]))
            for line in distribution_lines(got["distribution"]):
                console.print(line, markup=False, highlight=False)
        return
    with err_console.status(f"explaining {run_dirs[0]}: querying the model, searching programs …"):
        result = explain_run(run_dirs[0], alpha=alpha, seed=seed, queries=queries, check=check)
    if format == "json":
        typer.echo(json.dumps({"program_text": result.program_text, **result.to_json()}, indent=2))
    else:
        console.print(result.render_text(), markup=False, highlight=False)


def _explain_model(
    spec: str,
    task_name: str,
    order: str | None,
    steps: str | None,
    shots: int,
    n: int,
    max_size: int,
    queries: int | None,
    check: int | None,
    alpha: float,
    seed: int,
    format: str,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from behaviorlab import lm
    from behaviorlab.metamodels.on_model import (
        PartialAnswers,
        QueryPlan,
        check_model_sizes,
        explain_model,
        model_task,
    )

    # A run keeps the thread count it was trained with (as `explain RUN` does); other models get
    # one: on a shared 2-core box a second torch thread mostly waits for a core and costs several
    # times the CPU (BENCHMARKS.md, explain --model), and one thread also fixes the float sums.
    scheme, path = lm.split_spec(lm.resolve_alias(spec))
    pin_threads(path if scheme == "run" else None)
    task = model_task(task_name, order=order, steps=steps)
    queries, check = 200 if queries is None else queries, 200 if check is None else check
    check_model_sizes(spec, shots=shots, n=n, queries=queries, check=check, alpha=alpha, seed=seed)
    with err_console.status(f"loading {spec} …"):
        model = lm.load(spec)
    bar = Progress(
        TextColumn("asking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("queries, eta"),
        TimeRemainingColumn(),
        console=err_console,
    )
    bar_id = bar.add_task("asking", total=None)

    def planned(plan: QueryPlan) -> None:
        err_console.print(plan.line())
        if plan.seconds_per_query is not None:
            bar.update(bar_id, total=plan.distinct, completed=plan.warmed)
            bar.start()

    try:
        result, facts = explain_model(
            model,
            task,
            shots=shots,
            n=n,
            queries=queries,
            check=check,
            max_size=max_size,
            alpha=alpha,
            seed=seed,
            on_plan=planned,
            on_asked=lambda k: bar.advance(bar_id, k),
        )
    except PartialAnswers as partial:
        bar.stop()
        if format == "json":
            typer.echo(json.dumps(partial.to_json(), indent=2))
        raise fail(partial.one_line(), code=130) from None
    finally:
        if bar.live.is_started:  # (stopping a bar never started still prints an empty line)
            bar.stop()
    if format == "json":
        typer.echo(json.dumps({**facts, "program_text": result.program_text, **result.to_json()}, indent=2))
        return
    console.print(
        f"{facts['model']} on {facts['task']}, {shots}-shot: exact match {facts['accuracy']:.1%} "
        f"of {facts['n']} inputs (sizes {facts['sizes'][0]}..{facts['sizes'][1]})",
        markup=False,
        highlight=False,
    )
    console.print(result.render_text(), markup=False, highlight=False)  # as written: programs use [ ]
