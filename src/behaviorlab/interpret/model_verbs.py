"""What each `interpret VERB --model SPEC` does: open the model, read the prompts, run the analysis,
record it in OUT when given (a run of kind `interpret`), return what the command prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.interpret.ablate import head_components
from behaviorlab.interpret.lm_effects import Tick
from behaviorlab.interpret.lm_heads import copy_prompts, repeated_tokens
from behaviorlab.interpret.on_model import InterpretModel, open_model, save, start_run
from behaviorlab.interpret.perturb import summarize
from behaviorlab.interpret.prompts import PromptRow, read_prompts
from behaviorlab.lm.white_box import parse_heads
from behaviorlab.rundir import (
    ABLATION,
    ANALYSIS,
    ATTENTION,
    CACHE,
    CACHE_SUMMARY,
    HEAD_SCORES,
    LM_HEADS,
    PATCHING,
    PERTURBATION,
)

MAX_MAPS_LAYERS = 4  # attention maps of an analysis: the layers of the best heads only


def progress_bars(label: str) -> Tick:
    """A Rich bar on stderr for one loop over model passes: counts and an estimate of the rest."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (BarColumn(), MofNCompleteColumn(), TextColumn("passes, eta"), TimeRemainingColumn())
    bar = Progress(TextColumn(label), *columns, console=Console(stderr=True))
    task = bar.add_task(label, total=None)

    def tick(done: int, total: int) -> None:
        if done == 0:
            bar.start()
        bar.update(task, completed=done, total=total)
        if done >= total:
            bar.stop()

    return tick


@dataclass
class ModelJob:
    """The shared options of every verb on a model."""

    spec: str
    prompts: Sequence[str] = ()
    prompts_file: Path | None = None
    out: Path | None = None
    new_tokens: int = 8
    chat: bool = False
    seed: int = 0
    rows: list[PromptRow] = field(default_factory=list)
    im: InterpretModel | None = None
    verb: str = ""
    started: bool = False
    progress: bool = False  # a progress bar on stderr per loop over model passes

    def open(self, verb: str, need_prompts: bool = True) -> InterpretModel:
        """Read the prompts (before loading anything), then open the model; OUT is written only
        once there is a result (a failure before that leaves nothing behind)."""
        if self.new_tokens < 0:
            raise BadInput(f"--new-tokens must be >= 0; got {self.new_tokens}")
        if need_prompts or self.prompts or self.prompts_file:
            self.rows = read_prompts(self.prompts, self.prompts_file)
        self.im = open_model(self.spec, new_tokens=self.new_tokens, chat=self.chat, seed=self.seed)
        if self.progress:
            self.im.progress = progress_bars
        self.verb = verb
        return self.im

    def start(self) -> Path:
        """Create (or join) the white-box run in OUT."""
        assert self.out is not None and self.im is not None
        if not self.started:
            start_run(self.out, self.im, self.rows, self.verb)
            self.started = True
        return self.out

    def save(self, name: str, obj: Any, **headline: Any) -> str | None:
        """Write OUT/analysis/NAME when there is an OUT; the path written."""
        return None if self.out is None else str(save(self.start(), name, obj, **headline))


def cache(job: ModelJob, names: Sequence[str], generate: bool) -> dict[str, Any]:
    """Activations of the prompts to OUT/analysis/cache.safetensors (OUT is required)."""
    if job.out is None:
        raise BadInput("interpret cache --model needs --out DIR (the cache goes to DIR/analysis/)")
    im = job.open("cache")
    c = im.cache(job.rows, names or ["*"], generate=generate)
    out = job.start()
    c.save(out / ANALYSIS / CACHE)
    c.save_summary(out / ANALYSIS / CACHE_SUMMARY)
    return {"file": str(Path(job.out) / ANALYSIS / CACHE), "tensors": c.summary()}


def attention(job: ModelJob, layers: Sequence[int] | None) -> dict[str, Any]:
    """One map per prompt and head."""
    maps = job.open("attention").attention(job.rows, layers)
    return {"maps": len(maps), "file": job.save(ATTENTION, [m.to_dict() for m in maps])}


def heads(job: ModelJob, k: int, n_random: int) -> dict[str, Any]:
    """Every head scored; the top k per hypothesis confirmed by ablation against random heads."""
    im = job.open("heads", need_prompts=False)
    rows = im.head_scores(job.rows or None)
    job.save(HEAD_SCORES, rows)
    found = im.heads(k, n_random, rows)
    job.save(LM_HEADS, found, headline=_headline(found))
    job.save(ABLATION, ablation_rows(found))
    return {"top": found}


def ablate(job: ModelJob, heads_text: str | None) -> dict[str, Any]:
    """Every head and MLP (or the given heads, together) zero-ablated on the prompts."""
    im = job.open("ablate")
    comps = None
    if heads_text:
        from behaviorlab.interpret.lm_heads import components_of

        comps = [components_of(parse_heads(heads_text))]
    rows = im.ablate(job.rows, comps)
    job.save(ABLATION, rows)
    return {"rows": rows}


def patch(job: ModelJob) -> dict[str, Any]:
    """Clean -> corrupted patching of every head."""
    rows = job.open("patch").patch(job.rows)
    job.save(PATCHING, rows)
    return {
        "rows": sorted(rows, key=lambda r: -abs(r["recovered"]) if r["recovered"] == r["recovered"] else 0)
    }


def perturb(job: ModelJob, per_input: int) -> dict[str, Any]:
    """Random edits of the greedy answers, summarised per op."""
    rows = job.open("perturb").perturb(job.rows, per_input)
    summary = summarize(rows)
    job.save(PERTURBATION, summary)
    return {"summary": summary}


def analyze(job: ModelJob, k: int, n_random: int) -> dict[str, Any]:
    """Head scores, the top heads confirmed by ablation, and attention maps of the prompts (or of
    one repeated random sequence and one few-shot copy prompt) at the best heads' layers."""
    im = job.open("analyze", need_prompts=False)
    rows = im.head_scores()
    job.save(HEAD_SCORES, rows)
    found = im.heads(k, n_random, rows)
    job.save(LM_HEADS, found, headline=_headline(found))
    job.save(ABLATION, ablation_rows(found))
    best = {_layer_head(v["top"][0]["head"]) for v in found.values() if v["top"]}  # each hypothesis's best
    layers = sorted({layer for layer, _ in best})[:MAX_MAPS_LAYERS]
    maps = [m for m in _example_maps(im, job.rows, layers) if (m.layer, m.head) in best]
    job.save(ATTENTION, [m.to_dict() for m in maps])
    return {"top": found, "maps": len(maps), "heads": len(head_components(im.model))}


def _layer_head(label: str) -> tuple[int, int]:
    """`dec.3.h5` -> (3, 5)."""
    parts = label.split(".")
    return int(parts[1]), int(parts[-1][1:])


def _example_maps(im: InterpretModel, rows: list[PromptRow], layers: list[int]) -> list[Any]:
    if rows:
        return im.attention(rows, layers)
    from behaviorlab.interpret.attention import attention_maps

    maps = []
    for name, prep in (
        ("repeated random tokens", repeated_tokens(im.box, n=1, half=12, seed=im.seed)),
        ("few-shot copy", copy_prompts(im.box, n=1, seed=im.seed) if im.box.text.alphabet is None else None),
    ):
        if prep is None:
            continue
        for m in attention_maps(im.model, prep, layers=layers):
            m.group = name
            maps.append(m)
    return maps


def ablation_rows(found: dict[str, Any]) -> list[dict[str, Any]]:
    """Found vs random heads per hypothesis, one row each (the report's ablation bars)."""
    out = []
    for key, v in found.items():
        a = v["ablation"]
        out.append({"hypothesis": key, "heads": "top " + ",".join(a["heads"]), **_numbers(a["found"])})
        for i, r in enumerate(a["random"], start=1):
            out.append({"hypothesis": key, "heads": f"random {i}: " + ",".join(r["heads"]), **_numbers(r)})
    return out


def _numbers(r: dict[str, Any]) -> dict[str, Any]:
    keep = ("delta_logprob", "top1", "base_top1", "accuracy", "base_accuracy", "tokens")
    return {k: r[k] for k in keep if k in r}


def _headline(found: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {
            "heads": v["ablation"]["heads"],
            "delta_logprob": v["ablation"]["found"]["delta_logprob"],
            "random_delta_median": v["ablation"].get("random_delta_median"),
            "random_delta_range": v["ablation"].get("random_delta_range"),
        }
        for key, v in found.items()
    }
