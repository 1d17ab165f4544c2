"""`behaviorlab interpret …`: thin verbs over behaviorlab.interpret, on a trained run (RUN_DIR;
results go to RUN_DIR/analysis/ as JSON) or on any model (`--model SPEC` with `--prompt`/`--prompts`;
results go to `--out DIR`, a white-box run `behaviorlab report DIR` draws). The terminal gets a
short table of the main rows and the file's path (--format json prints the full JSON instead)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from behaviorlab.cli._common import (
    FormatOpt,
    console,
    count,
    fail,
    handles_bad_input,
    output_format,
    seed_option,
)
from behaviorlab.cli.runs import table
from behaviorlab.rundir import (
    ABLATION,
    ANALYSIS,
    ATTENTION,
    CACHE_SUMMARY,
    HEAD_SCORES,
    PATCHING,
    PERTURBATION,
)

app = typer.Typer(
    help="Attention maps, head scores, perturbation, ablation and patching of a trained run or of "
    "any model (--model SPEC: hf:DIR, gguf:FILE, smollm2, run:DIR) on text prompts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RunArg = Annotated[Path | None, typer.Argument(help="A run directory written by `train` (or use --model).")]
SplitOpt = Annotated[str, typer.Option(help="Data split to analyse (a run).")]
NOpt = Annotated[int, count("-n", "--n", help="How many examples of the split (a run).")]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="Any model: hf:DIR, gguf:FILE, smollm2, run:DIR (instead of RUN_DIR)."),
]
PromptOpt = Annotated[
    list[str] | None, typer.Option("--prompt", help="A prompt (repeatable; with --model; default: none).")
]
PromptsOpt = Annotated[
    Path | None,
    typer.Option(
        "--prompts",
        help='JSONL: {"prompt": ..., "reference"?: ..., "corrupted"?: ...} per line (default: none).',
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="With --model: a white-box run directory to write (default: none)."),
]
NewOpt = Annotated[int, count("--new-tokens", lo=0, help="With --model: greedy answer tokens per prompt.")]
ChatOpt = Annotated[
    bool, typer.Option("--chat/--no-chat", help="With --model: wrap prompts in the chat template.")
]
RandomOpt = Annotated[int, count("--random", help="With --model: random head sets per check.")]
SHOWN = 12  # rows of a table printed to the terminal; the file has them all
NOT_WRITTEN = "(nothing written: no --out)"


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


def _emit(
    obj: Any, fmt: str, title: str, rows: list[dict[str, Any]], cols: list[str], path: Path | str | None
) -> None:
    """--format json: `obj` as JSON; text: the first SHOWN `rows` as a table and where the file is."""
    if output_format(fmt) == "json":
        typer.echo(json.dumps(obj, indent=2, default=str))
        return
    more = f" (first {SHOWN} of {len(rows)})" if len(rows) > SHOWN else ""
    console.print(table(title + more, cols, [[r.get(c) for c in cols] for r in rows[:SHOWN]]))
    console.print(f"-> {path if path is not None else NOT_WRITTEN}")


def _out_file(out: Path | None, name: str) -> Path | None:
    return None if out is None else out / ANALYSIS / name


def _lm_head_rows(found: dict[str, Any]) -> list[dict[str, Any]]:
    """Per hypothesis: its best head, and the top heads' ablation against the random draws'."""
    rows = []
    for key, v in found.items():
        a = v["ablation"]
        best = v["top"][0] if v["top"] else {}
        spread = a.get("random_delta_range")
        rows.append(
            {
                "hypothesis": key,
                "best head": best.get("head"),
                "score": best.get("score"),
                "Δ log-prob, top": a["found"]["delta_logprob"],
                "random Δ": None
                if spread is None
                else f"{a['random_delta_median']:.3g} [{spread[0]:.3g}, {spread[1]:.3g}]",
                "rank p": a.get("p_value"),
            }
        )
    return rows


LM_HEAD_COLS = ["hypothesis", "best head", "score", "Δ log-prob, top", "random Δ", "rank p"]
LM_HEAD_TITLE = "best head per hypothesis; the top {} ablated vs {} random sets (random Δ: median [min, max])"


@app.command("cache", help="Cache activations (globs) to analysis/cache.safetensors + summary.")
@handles_bad_input
def cache_cmd(
    run_dir: RunArg = None,
    names: Annotated[
        list[str] | None, typer.Option("--name", help="Hook glob(s) (repeatable; default: every hook).")
    ] = None,
    split: SplitOpt = "test_id",
    n: NOpt = 8,
    generate: Annotated[bool, typer.Option(help="Cache during generation.")] = False,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
    fmt: FormatOpt = "text",
) -> None:
    """Cache activations."""
    cols = ["name", "shape", "mean", "std", "mean_abs"]
    if model is not None:
        from behaviorlab.interpret import model_verbs

        job = _job(model, prompt, prompts, out, new_tokens, chat)
        got = model_verbs.cache(job, names or ["*"], generate)
        rows = got["tensors"]
        _emit(got, fmt, f"{len(rows)} cached tensors", rows, cols, got["file"])
        return
    c = _open(run_dir).cache(names or ["*"], split, n, generate=generate, save=True)
    rows = c.summary()
    assert run_dir is not None
    _emit(rows, fmt, f"{len(rows)} cached tensors", rows, cols, run_dir / ANALYSIS / CACHE_SUMMARY)


@app.command("attention", help="Attention maps per head (grouped, or per prompt) to analysis/attention.json.")
@handles_bad_input
def attention_cmd(
    run_dir: RunArg = None,
    group_by: Annotated[
        str | None, typer.Option(help="Metadata field to group by (default: none, one map per head).")
    ] = None,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    layer: Annotated[
        list[int] | None, count("--layer", lo=0, help="With --model: only these layers (default: all).")
    ] = None,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
    fmt: FormatOpt = "text",
) -> None:
    """Attention maps."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        got = model_verbs.attention(_job(model, prompt, prompts, out, new_tokens, chat), layer)
        rows = [{"maps": got["maps"]}]
        title = f"{got['maps']} attention maps (one per prompt and head)"
        _emit(got, fmt, title, rows, ["maps"], got["file"])
        return
    maps = _open(run_dir).attention(group_by=group_by, split=split, n=n, save=True)
    assert run_dir is not None
    path = run_dir / ANALYSIS / ATTENTION
    counts: dict[tuple[str, str], int] = {}
    for m in maps:
        counts[(m.kind, m.group)] = counts.get((m.kind, m.group), 0) + 1
    rows = [{"kind": k, "group": g, "maps": c} for (k, g), c in counts.items()]
    _emit(
        {"maps": len(maps), "file": str(path)},
        fmt,
        f"{len(maps)} attention maps",
        rows,
        ["kind", "group", "maps"],
        path,
    )


@app.command(
    "heads",
    help="Score heads against hypotheses; flag recursion heads, or (--model) confirm the top LM heads "
    "by ablation against random heads (head_scores.json).",
)
@handles_bad_input
def heads_cmd(
    run_dir: RunArg = None,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    top: Annotated[int, count("--top", help="Heads shown (with --model: ablated) per hypothesis.")] = 3,
    random_draws: RandomOpt = 3,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
    fmt: FormatOpt = "text",
) -> None:
    """Head scores."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        got = model_verbs.heads(_job(model, prompt, prompts, out, new_tokens, chat), top, random_draws)
        title = LM_HEAD_TITLE.format(top, random_draws)
        _emit(got, fmt, title, _lm_head_rows(got["top"]), LM_HEAD_COLS, _out_file(out, HEAD_SCORES))
        return
    from behaviorlab.interpret.scores import recursion_heads, top_heads

    r = _open(run_dir)
    assert run_dir is not None
    rows = r.head_scores(split=split, n=n, save=True)
    hyps = list(dict.fromkeys(x["hypothesis"] for x in rows))
    found = recursion_heads(rows, r.model)
    best = {h: top_heads(rows, h, top) for h in hyps}
    flagged = {(x["kind"], x["layer"], x["head"], x["hypothesis"]) for x in found}
    shown = [
        {**x, "recursion head": "yes" if (x["kind"], x["layer"], x["head"], h) in flagged else ""}
        for h in hyps
        for x in best[h][:1]  # the best head per hypothesis; --format json for the top `top`
    ]
    cols = ["hypothesis", "kind", "layer", "head", "score", "baseline", "recursion head"]
    title = f"best head per hypothesis ({len(found)} recursion heads)"
    _emit({"recursion_heads": found, "top": best}, fmt, title, shown, cols, run_dir / ANALYSIS / HEAD_SCORES)


PERTURB_COLS = ["op", "n", "changed_rate", "follows_edit_rate", "correct_rate"]


@app.command("perturb", help="Random insert/remove/flip edits during generation (perturbation.json).")
@handles_bad_input
def perturb_cmd(
    run_dir: RunArg = None,
    split: SplitOpt = "test_id",
    n: NOpt = 200,
    per_input: Annotated[int, count("--per-input", help="Edits per input.")] = 4,
    seed: Annotated[int, seed_option("Seed of the random edits.")] = 0,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
    fmt: FormatOpt = "text",
) -> None:
    """Perturbation summary."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        job = _job(model, prompt, prompts, out, new_tokens, chat)
        job.seed = seed
        got = model_verbs.perturb(job, per_input)
        summary = got["summary"]
        _emit(got, fmt, "perturbation by edit", summary, PERTURB_COLS, _out_file(out, PERTURBATION))
        return
    from behaviorlab.interpret.perturb import summarize

    r = _open(run_dir)
    summary = summarize(r.perturb(n_random=per_input, split=split, n=n, seed=seed))
    path = r.save(PERTURBATION, summary)
    _emit(summary, fmt, "perturbation by edit", summary, PERTURB_COLS, path)


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
        typer.Option(
            "--heads", help="With --model: only these heads, together (dec.3.h5,dec.4.h2; default: each)."
        ),
    ] = None,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
    fmt: FormatOpt = "text",
) -> None:
    """Ablation table."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        got = model_verbs.ablate(_job(model, prompt, prompts, out, new_tokens, chat), heads)
        worst = sorted(got["rows"], key=lambda x: x["delta_logprob"] if x["delta_logprob"] is not None else 0)
        cols = ["component", "method", "delta_logprob", "top1", "base_top1", "accuracy", "base_accuracy"]
        title = "components by change in the answer's log-prob"
        _emit(got, fmt, title, worst, cols, _out_file(out, ABLATION))
        return
    r = _open(run_dir)
    rows = r.ablate(method=method, split=split, n=n)
    path = r.save(ABLATION, rows)
    worst = sorted(rows, key=lambda x: -x["drop"])
    cols = ["component", "method", "accuracy", "base_accuracy", "drop"]
    _emit(rows, fmt, "components by accuracy drop", worst, cols, path)


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
    fmt: FormatOpt = "text",
) -> None:
    """Patching table."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        got = model_verbs.patch(_job(model, prompt, prompts, out, new_tokens, chat))
        cols = ["component", "recovered", "clean_logprob", "corrupted_logprob", "patched_logprob", "n"]
        title = "heads by clean answer log-prob recovered"
        _emit(got, fmt, title, got["rows"], cols, _out_file(out, PATCHING))
        return
    r = _open(run_dir)
    rows = r.patch(mode=mode, split=split, n=n)
    path = r.save(PATCHING, rows)
    overall = [x for x in rows if x["step"] == -1] or rows  # -1: every step together
    best = sorted(overall, key=lambda x: -(x["recovered"] if x["recovered"] == x["recovered"] else -1e9))
    cols = ["component", "step", "recovered", "clean_diff", "corrupted_diff", "n"]
    _emit(rows, fmt, "components by logit difference recovered", best, cols, path)


def _random(abl: dict[str, Any]) -> str | None:
    """The random draws' drops as their median, range and the rank p-value (never their mean)."""
    if abl.get("random_median") is None:
        return None
    return (
        f"{abl['random_median']:.3g} [{abl['random_low']:.3g}, {abl['random_high']:.3g}] "
        f"over {abl['n_random']} draws; rank p = {abl['p_value']:.2g}"
    )


@app.command(
    "analyze",
    help="Everything the demo shows: maps, head scores, ablation check, perturbation (a run); with "
    "--model: LM heads, their ablation check and attention maps.",
)
@handles_bad_input
def analyze_cmd(
    run_dir: RunArg = None,
    quick: Annotated[bool, typer.Option(help="Fewer inputs and draws.")] = False,
    top: Annotated[int, count("--top", help="With --model: heads ablated per hypothesis.")] = 4,
    random_draws: RandomOpt = 3,
    model: ModelOpt = None,
    prompt: PromptOpt = None,
    prompts: PromptsOpt = None,
    out: OutOpt = None,
    new_tokens: NewOpt = 8,
    chat: ChatOpt = False,
    fmt: FormatOpt = "text",
) -> None:
    """Demo analysis."""
    if model is not None:
        from behaviorlab.interpret import model_verbs

        got = model_verbs.analyze(_job(model, prompt, prompts, out, new_tokens, chat), top, random_draws)
        title = LM_HEAD_TITLE.format(top, random_draws)
        _emit(got, fmt, title, _lm_head_rows(got["top"]), LM_HEAD_COLS, _out_file(out, ""))
        return
    from behaviorlab.interpret.findings import head_findings

    if run_dir is None:
        raise fail("give a run directory, or --model SPEC")
    found = head_findings(run_dir, quick=quick)
    abl = found.get("ablation_drop") or {}
    rows: list[dict[str, Any]] = [
        {"finding": "recursion heads (top)", "value": ", ".join(
            f"{h['kind']}.{h['layer']}.{h['head']}{' ✓' if h.get('flagged') else ''}"
            for h in found["recursion_heads"][:3]) or "—"},
        {"finding": "ablation drop: found heads", "value": abl.get("found_heads")},
        {"finding": "ablation drop: random heads (median, range)", "value": _random(abl)},
        *({"finding": f"perturbation {op}: changed", "value": p["changed_rate"]}
          for op, p in found["perturbation"].items()),
        {"finding": "attention maps", "value": found["attention_maps"]},
    ]  # fmt: skip
    _emit(found, fmt, f"analysis of {run_dir}", rows, ["finding", "value"], run_dir / ANALYSIS)
