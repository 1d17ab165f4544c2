"""Any model opened up on text prompts: `behaviorlab.open(SPEC)` and `interpret VERB --model SPEC`.

`InterpretModel` holds a white-box model (lm/white_box.py) and runs each analysis on prompts:
activations, attention maps (the prompt's tokens on both axes), head scores against the LM
hypotheses, ablation and patching measured on the model's own greedy answer, perturbations of
that answer. With an output directory it records a run of kind `interpret`: `config.toml` (model,
prompts, settings), `summary.json` (what was measured, headline numbers) and `analysis/*`
(attention.json, head_scores.json, lm_heads.json, ablation.json, patching.json, perturbation.json,
cache.safetensors), which `behaviorlab report DIR` draws. Several verbs may write one directory
(same model); each replaces only its own files.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import tomli_w
import torch

from behaviorlab.batching import pad
from behaviorlab.errors import BadInput
from behaviorlab.interpret._layout import Prepared
from behaviorlab.interpret.ablate import Component, head_components, mlp_components
from behaviorlab.interpret.attention import AttentionMap, attention_maps
from behaviorlab.interpret.cache import ActivationCache, run_with_cache
from behaviorlab.interpret.edits import TOKEN_OPS, Perturbation, Plan, decode_plan, edit, originals_of
from behaviorlab.interpret.lm_effects import Tick, ablate_answers, patch_answers
from behaviorlab.interpret.lm_heads import (
    components_of,
    confirm,
    copy_prompts,
    repeated_tokens,
    score_heads,
    top_heads,
)
from behaviorlab.interpret.lm_hypotheses import KEYS, LM
from behaviorlab.interpret.perturb import summarize
from behaviorlab.interpret.prompts import PromptRow, prepare_prompts, prompt_labels
from behaviorlab.interpret.scores import head_scores
from behaviorlab.io import atomic_write_json, atomic_write_text
from behaviorlab.lm.white_box import WhiteBox, white_box
from behaviorlab.rundir import ANALYSIS, CONFIG, RunDir, check_output_dir, is_run, update_summary

KIND = "interpret"
Prompts = Sequence[str] | Sequence[PromptRow]


def _rows(prompts: Prompts) -> list[PromptRow]:
    return [p if isinstance(p, PromptRow) else PromptRow(p) for p in prompts]


class InterpretModel:
    """A text model (any spec) with every analysis as a method; rows are lists of dicts."""

    def __init__(self, box: WhiteBox, *, new_tokens: int = 8, chat: bool = False, seed: int = 0) -> None:
        self.box, self.new_tokens, self.chat, self.seed = box, new_tokens, chat, seed
        # label -> (done, total) callback: a progress bar per loop over model passes (CLI), or none
        self.progress: Callable[[str], Tick] | None = None
        box.model.eval()

    def _tick(self, label: str) -> Tick | None:
        return None if self.progress is None else self.progress(label)

    model = property(lambda self: self.box.model)
    spec = property(lambda self: self.box.spec)

    def __repr__(self) -> str:
        return f"<InterpretModel {self.spec} {len(self.model.attention_sites())} attention sites>"

    def prepared(self, prompts: Prompts, new_tokens: int | None = None) -> Prepared:
        """Prompts with the model's greedy answers (references kept for accuracy)."""
        rows = _rows(prompts)
        return prepare_prompts(
            self.box,
            [r.prompt for r in rows],
            new_tokens=self.new_tokens if new_tokens is None else new_tokens,
            chat=self.chat,
            references=[r.reference for r in rows] if any(r.reference for r in rows) else None,
        )

    def cache(
        self, prompts: Prompts, names: Sequence[str] = ("*",), generate: bool = False
    ) -> ActivationCache:
        """Activations keyed by hook name, teacher-forced on prompt + answer (or while generating)."""
        p = self.prepared(prompts, 0 if generate else None)
        _, c = run_with_cache(
            self.model, p.src, None if generate else p.tgt_in, generate=generate, names=names,
            max_new_tokens=self.new_tokens,
        )  # fmt: skip
        return c

    def attention(self, prompts: Prompts, layers: Sequence[int] | None = None) -> list[AttentionMap]:
        """One map per (prompt, head): the prompt and answer tokens on both axes."""
        rows = _rows(prompts)
        maps = attention_maps(self.model, self.prepared(rows), group_by="prompt", layers=layers)
        labels = prompt_labels([r.prompt for r in rows])
        for m in maps:
            m.group = labels[int(m.group)] if m.group.isdigit() else m.group
        return maps

    def head_scores(self, prompts: Prompts | None = None) -> list[dict[str, Any]]:
        """Every head on the LM hypotheses: on the standard probe sets, or on given prompts."""
        if prompts is None:
            return score_heads(self.box, seed=self.seed)
        return head_scores(self.model, self.prepared(prompts), LM, batch_size=8)

    def heads(
        self, k: int = 4, n_random: int = 3, rows: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The top k heads per hypothesis, each set ablated against `n_random` random sets."""
        rows = rows if rows is not None else self.head_scores()
        repeated = repeated_tokens(self.box, seed=self.seed)
        copy = copy_prompts(self.box, seed=self.seed) if self.box.text.alphabet is None else None
        out: dict[str, Any] = {}
        for key, hyp in KEYS.items():
            found = top_heads(rows, key, k)
            prep = copy if key == "copy" else repeated
            if not found or prep is None:
                continue
            scored = {(r["kind"], r["layer"], r["head"]): r for r in rows if r["hypothesis"] == hyp.name}
            out[key] = {
                "hypothesis": hyp.name,
                "top": [
                    {
                        "head": h.label,
                        **{f: scored[(h.kind, h.layer, h.head)][f] for f in ("score", "baseline")},
                    }
                    for h in found
                ],
                "measured_on": "few-shot copy prompts" if key == "copy" else "repeated random tokens",
                "ablation": confirm(
                    self.box, found, prep, n_random=n_random, seed=self.seed, tick=self._tick(f"{key} heads")
                ),
            }
        return out

    def ablate(
        self, prompts: Prompts, components: Sequence[Component | Sequence[Component]] | None = None
    ) -> list[dict[str, Any]]:
        """Change in the answer's log-prob per zero-ablated component (default: every head and MLP)."""
        comps = components or [*head_components(self.model), *mlp_components(self.model)]
        return ablate_answers(
            self.box, self.prepared(prompts), comps, new_tokens=self.new_tokens, tick=self._tick("ablating")
        )

    def patch(self, prompts: Prompts, components: Sequence[Component] | None = None) -> list[dict[str, Any]]:
        """Clean -> corrupted patching per component (pairs: `corrupted` fields, or prompts of equal
        token length whose answers differ)."""
        rows = _rows(prompts)
        clean_rows, bad_rows = self._pairs(rows)
        clean = self.prepared(clean_rows)
        ids = [self.box.prompt_ids(r.prompt, self.chat) for r in bad_rows]
        outs = [row[1:][row[1:] != self.model.pad_id].tolist() for row in clean.tgt_in]
        corrupted = prepare_prompts(self.box, [r.prompt for r in bad_rows], prompt_ids=ids, answers=outs)
        comps = components or head_components(self.model)
        return patch_answers(self.model, clean, corrupted, comps, tick=self._tick("patching"))

    def _pairs(self, rows: list[PromptRow]) -> tuple[list[PromptRow], list[PromptRow]]:
        if any(r.corrupted for r in rows):
            pairs = [(r, PromptRow(r.corrupted)) for r in rows if r.corrupted]
        else:
            by_len: dict[int, list[PromptRow]] = {}
            for r in rows:
                by_len.setdefault(len(self.box.prompt_ids(r.prompt, self.chat)), []).append(r)
            pairs = [(r, g[(i + 1) % len(g)]) for g in by_len.values() if len(g) > 1 for i, r in enumerate(g)]
        if not pairs:
            raise BadInput(
                'patching needs pairs: give prompts a "corrupted" twin in --prompts FILE, or several '
                "prompts of the same token length"
            )
        return [c for c, _ in pairs], [x for _, x in pairs]

    def perturb(self, prompts: Prompts, n_random: int = 4) -> list[dict[str, Any]]:
        """Random insert/remove/flip edits of the greedy answer (tokens from the prompt), then greedy."""
        rows = _rows(prompts)
        model, rng = self.model, random.Random(self.seed)
        ids = [self.box.prompt_ids(r.prompt, self.chat) for r in rows]
        src = pad(ids, model.pad_id)
        originals = originals_of(model, src, self.new_tokens, 32)
        pl = Plan([], [], [], [])
        for i, g in enumerate(originals):
            for _ in range(n_random):
                op, at = rng.choice(TOKEN_OPS), rng.randrange(max(1, len(g) - 1))
                pool = [t for t in ids[i] if at >= len(g) or t != g[at]] or ids[i]
                tok = None if op == "remove" else rng.choice(pool)
                p = Perturbation(op, at, None if tok is None else self.box.pieces([tok])[0])
                e, f = edit(g, p, tok)
                pl.example.append(i)
                pl.perts.append(p)
                pl.edited.append(e)
                pl.forced.append(f)
        outs = decode_plan(model, src, pl, self.new_tokens + 2, 32)
        labels = prompt_labels([r.prompt for r in rows])
        return [
            {
                "input": labels[pl.example[k]],
                "perturbation": pl.perts[k].label,
                "op": pl.perts[k].op,
                "position": pl.perts[k].position,
                "original": self.box.text_of(originals[pl.example[k]]),
                "output": self.box.text_of(out),
                "changed": out != originals[pl.example[k]],
                "follows_edit": out == pl.edited[k],
                "correct": False,
            }
            for k, out in enumerate(outs)
        ]


def open_model(spec: str, **kw: Any) -> InterpretModel:
    """Open any model spec for analysis on prompts."""
    from behaviorlab.lm import load

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    return InterpretModel(white_box(load(spec)), **kw)


# --- a run directory of kind `interpret` ---------------------------------------------------------


def is_interpret_run(path: Path) -> bool:
    """A directory holding a white-box run."""
    try:
        return is_run(path) and RunDir.open(path).kind == KIND
    except BadInput:
        return False


def start_run(out: Path, im: InterpretModel, prompts: Sequence[PromptRow], verb: str) -> Path:
    """Create OUT (or reuse a white-box run of the same model) and record this verb's settings."""
    out = Path(out)
    if is_interpret_run(out):
        recorded = RunDir.open(out).config.get("model")
        if recorded != im.spec:
            raise BadInput(f"{out}: a white-box run of {recorded}, not of {im.spec}; use another --out")
        config = RunDir.open(out).config
    else:
        check_output_dir(out, False, is_interpret_run, "a white-box run")
        config = {"kind": KIND, "model": im.spec}
    config.update({"chat": im.chat, "new_tokens": im.new_tokens, "seed": im.seed})
    config.setdefault("verbs", {})[verb] = {"prompts": [r.__dict__ for r in prompts]}
    clean = {k: _tomlable(v) for k, v in config.items()}
    try:
        (out / ANALYSIS).mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / CONFIG, tomli_w.dumps(clean))
    except OSError as e:
        raise BadInput(f"{e.filename or out}: cannot write the run directory: {e.strerror or e}") from None
    update_summary(out, kind=KIND, name=out.name, model=im.spec, model_name=im.box.name, status="complete")
    return out


def _tomlable(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _tomlable(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_tomlable(x) for x in v]
    return v


def save(out: Path, name: str, obj: Any, **headline: Any) -> Path:
    """OUT/analysis/NAME as JSON; summary.json gets the headline fields."""
    path = Path(out) / ANALYSIS / name
    atomic_write_json(path, obj)
    if headline:
        update_summary(Path(out), **headline)
    return path


__all__ = [
    "KIND",
    "InterpretModel",
    "components_of",
    "is_interpret_run",
    "open_model",
    "save",
    "start_run",
    "summarize",
]
