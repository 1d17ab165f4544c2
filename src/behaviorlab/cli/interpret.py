"""`behaviorlab interpret …`: thin verbs over behaviorlab.interpret, on a trained run (RUN_DIR;
results go to RUN_DIR/analysis/) or on any model (`--model SPEC` with `--prompt`/`--prompts`;
results go to `--out DIR`, a white-box run `behaviorlab report DIR` draws)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from behaviorlab.cli._common import fail, handles_bad_input
from behaviorlab.rundir import ABLATION, ANALYSIS, ATTENTION, PATCHING, PERTURBATION

app = typer.Typer(
    help="Attention maps, head scores, perturbation, ablation and patching of a trained run or of "
    "any model (--model SPEC: hf:DIR, gguf:FILE, smollm2, run:DIR) on text prompts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RunArg = Annotated[Path | None, typer.Argument(help="A run directory written by `train` (or use --model).")]
SplitOpt = Annotated[str, typer.Option(help="Data split to analyse (a run).")]
NOpt = Annotated[int, typer.Option("-n", help="How many examples of the split (a run).")]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="Any model: hf:DIR, gguf:FILE, smollm2, run:DIR (instead of RUN_DIR)."),
]
PromptOpt = Annotated[list[str] | None, typer.Option("--prompt", help="A prompt (repeatable; with --model).")]
PromptsOpt = Annotated[
    Path | None,
    typer.Option("--prompts", help='JSONL: {"prompt": ..., "reference"?: ..., "corrupted"?: ...} per line.'),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="With --model: a white-box run directory to write.")
]
NewOpt = Annotated[int, typer.Option("--new-tokens", help="With --model: greedy answer tokens per prompt.")]
ChatOpt = Annotated[
    bool, typer.Option("--chat/--no-chat", help="With --model: wrap prompts in the chat template.")
]


def _open(run_dir: Path | None) -> Any:
    import torch

    from behaviorlab.interpret.notebook import open_run

    if run_dir is None:
        raise fail("give a run directory, or --model SPEC with --prompt/--prompts")
    torch.set_num_threads(1)  # tiny models: one thread is faster on shared CPUs
    return open_run(run_dir)


def _job(
    model: str, prompt: list[str] | None, prompts: Path | None, out: Path | None, new: int, chat: bool
) -> Any:
    from behaviorlab.interpret.model_verbs import ModelJob

    return ModelJob(model, prompt or [], prompts, out, new, chat, progress=True)


def _emit(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))


@app.command("cache", help="Cache activations (globs) to analysis/cache.safetensors + summary.")
@handles_bad_input
def cache_cmd(
    run_dir: RunArg = None,
    names: Annotated[list[str] | None, typer.Option("--name", help="Hook glob(s).")] = None,
    split: SplitOpt = "test_id",
    n: NOpt = 8,
    generate: Annotated[bool, typer.Option(help="Cache during generation.")] = False,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
) -> None:
    """Cache activations."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        _emit(
            model_verbs.cache(_job(model, prompt, prompts, out, new_tokens, chat), names or ["*"], generate)
        )
        return
    c = _open(run_dir).cache(names or ["*"], split, n, generate=generate, save=True)
    _emit(c.summary())


@app.command("attention", help="Attention maps per head (grouped, or per prompt) to analysis/attention.json.")
@handles_bad_input
def attention_cmd(
    run_dir: RunArg = None,
    group_by: Annotated[str | None, typer.Option(help="Metadata field to group by.")] = None,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    layer: Annotated[
        list[int] | None, typer.Option("--layer", help="With --model: only these layers.")
    ] = None,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
) -> None:
    """Attention maps."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        _emit(model_verbs.attention(_job(model, prompt, prompts, out, new_tokens, chat), layer))
        return
    r = _open(run_dir)
    maps = r.attention(group_by=group_by, split=split, n=n, save=True)
    _emit({"maps": len(maps), "file": str(Path(r.path) / ANALYSIS / ATTENTION)})


@app.command(
    "heads",
    help="Score heads against hypotheses; flag recursion heads, or (--model) confirm the top LM heads "
    "by ablation against random heads.",
)
@handles_bad_input
def heads_cmd(
    run_dir: RunArg = None,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    top: Annotated[int, typer.Option(help="Heads shown (with --model: ablated) per hypothesis.")] = 3,
    random_draws: Annotated[
        int, typer.Option("--random", help="With --model: random head sets per check.")
    ] = 3,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
) -> None:
    """Head scores."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        job = _job(model, prompt, prompts, out, new_tokens, chat)
        _emit(model_verbs.heads(job, top, random_draws))
        return
    from behaviorlab.interpret.scores import recursion_heads, top_heads

    r = _open(run_dir)
    rows = r.head_scores(split=split, n=n, save=True)
    hyps = list(dict.fromkeys(x["hypothesis"] for x in rows))
    _emit(
        {"recursion_heads": recursion_heads(rows, r.model), "top": {h: top_heads(rows, h, top) for h in hyps}}
    )


@app.command("perturb", help="Random insert/remove/flip edits during generation (perturbation.json).")
@handles_bad_input
def perturb_cmd(
    run_dir: RunArg = None,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    per_input: Annotated[int, typer.Option(help="Edits per input.")] = 4,
    seed: int = 0,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
) -> None:
    """Perturbation summary."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        job = _job(model, prompt, prompts, out, new_tokens, chat)
        job.seed = seed
        _emit(model_verbs.perturb(job, per_input))
        return
    from behaviorlab.interpret.perturb import summarize

    r = _open(run_dir)
    summary = summarize(r.perturb(n_random=per_input, split=split, n=n, seed=seed))
    r.save(PERTURBATION, summary)
    _emit(summary)


@app.command(
    "ablate",
    help="Ablate every head and MLP: accuracy drops of a run, or (--model) the change in the log-prob "
    "of the model's own greedy answer (ablation.json).",
)
@handles_bad_input
def ablate_cmd(
    run_dir: RunArg = None,
    method: Annotated[str, typer.Option(help="zero|mean|resample (a model: zero|resample)")] = "zero",
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    heads: Annotated[
        str | None,
        typer.Option("--heads", help="With --model: only these heads, together (dec.3.h5,dec.4.h2)."),
    ] = None,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
) -> None:
    """Ablation table."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        _emit(model_verbs.ablate(_job(model, prompt, prompts, out, new_tokens, chat), heads))
        return
    r = _open(run_dir)
    rows = r.ablate(method=method, split=split, n=n)
    r.save(ABLATION, rows)
    _emit(rows)


@app.command("patch", help="Clean→corrupted patching of every head (per step for a run; patching.json).")
@handles_bad_input
def patch_cmd(
    run_dir: RunArg = None,
    mode: Annotated[str, typer.Option(help="teacher|generate")] = "teacher",
    split: SplitOpt = "test_id",
    n: NOpt = 100,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
) -> None:
    """Patching table."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        _emit(model_verbs.patch(_job(model, prompt, prompts, out, new_tokens, chat)))
        return
    r = _open(run_dir)
    rows = r.patch(mode=mode, split=split, n=n)
    r.save(PATCHING, rows)
    _emit([x for x in rows if x["step"] == -1] or rows[:20])


@app.command(
    "analyze",
    help="Everything the demo shows: maps, head scores, ablation check, perturbation (a run); with "
    "--model: LM heads, their ablation check and attention maps.",
)
@handles_bad_input
def analyze_cmd(
    run_dir: RunArg = None,
    quick: Annotated[bool, typer.Option(help="Fewer inputs and draws.")] = False,
    top: Annotated[int, typer.Option(help="With --model: heads ablated per hypothesis.")] = 4,
    random_draws: Annotated[
        int, typer.Option("--random", help="With --model: random head sets per check.")
    ] = 3,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
) -> None:
    """Demo analysis."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        _emit(model_verbs.analyze(_job(model, prompt, prompts, out, new_tokens, chat), top, random_draws))
        return
    from behaviorlab.interpret.findings import head_findings

    if run_dir is None:
        raise fail("give a run directory, or --model SPEC")
    _emit(head_findings(run_dir, quick=quick))
