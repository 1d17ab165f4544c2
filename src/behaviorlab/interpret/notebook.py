"""Notebook use: `behaviorlab.open(RUN_DIR)` → a run with one method per analysis.

r = behaviorlab.open("runs/binary-successor-natural")
r.head_scores()[:5]; r.attention(group_by="carry")[0].figure().show()
r.perturb(); r.ablate(); r.patch(); r.cache(names=["dec.*.pattern"])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.interpret import figures
from behaviorlab.interpret._layout import Prepared, prepare
from behaviorlab.interpret.ablate import (
    Component,
    ablate,
    ablation_confirmation,
    head_components,
    mlp_components,
)
from behaviorlab.interpret.attention import AttentionMap, attention_maps
from behaviorlab.interpret.cache import ActivationCache, run_with_cache
from behaviorlab.interpret.edits import Perturbation, originals_of, random_perturbations
from behaviorlab.interpret.hypotheses import BUILTIN, Hypothesis
from behaviorlab.interpret.patching import make_pairs, patch, patch_generation
from behaviorlab.interpret.perturb import Head, perturb
from behaviorlab.interpret.scores import head_scores, recursion_heads
from behaviorlab.io import atomic_write_json
from behaviorlab.limits import Need, require
from behaviorlab.models import Seq2SeqModel
from behaviorlab.outdir import check_links
from behaviorlab.rundir import ANALYSIS, ATTENTION, CACHE, CACHE_SUMMARY, HEAD_SCORES
from behaviorlab.tasks import Example, Task
from behaviorlab.train.run import Run
from behaviorlab.train.run import open_run as _open
from behaviorlab.validate import check_int, check_name

# An edited input and its generation, held until the table is built (a floor).
EDIT_BYTES = 1024


class InterpretRun:
    """A trained run plus every analysis as a method; figures are plotly Figures."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self._prepared: dict[tuple[str, int], Prepared] = {}

    path = property(lambda self: self.run.path)
    config = property(lambda self: self.run.config)
    splits = property(lambda self: self.run.splits)

    @property
    def model(self) -> Seq2SeqModel:
        return self.run.model

    @property
    def task(self) -> Task:
        return self.run.task_for("interpretation")

    def __repr__(self) -> str:
        return f"<InterpretRun {self.path} {self.model.cfg.kind} {self.task.key}>"

    def examples(self, split: str = "test_id", n: int | None = None) -> list[Example]:
        """The first n examples of a split."""
        if split not in self.splits:
            raise BadInput(f"no split {split!r}; splits: {', '.join(self.splits)}")
        if n is not None:
            check_int("-n", n, 0)  # a negative n would silently drop the split's last examples
        return list(self.splits[split][:n])

    def prepared(self, split: str = "test_id", n: int = 200) -> Prepared:
        """Inputs with the model's greedy outputs (memoised per split and size)."""
        key = (split, n)
        if key not in self._prepared:
            self._prepared[key] = prepare(self.model, self.task, self.examples(split, n))
        return self._prepared[key]

    def save(self, name: str, obj: Any) -> Path:
        """Write obj as JSON to RUN_DIR/analysis/name."""
        path = check_links(Path(self.path)) / ANALYSIS / check_name("analysis file", name)
        atomic_write_json(path, obj)
        return path

    def cache(
        self,
        names: Sequence[str] = ("*",),
        split: str = "test_id",
        n: int = 8,
        generate: bool = False,
        save: bool = False,
    ) -> ActivationCache:
        """Activations of the first n inputs (teacher-forced on the model's outputs)."""
        p = self.prepared(split, n)
        _, c = run_with_cache(
            self.model, p.src, None if generate else p.tgt_in, generate=generate, names=names
        )
        if save:
            analysis = check_links(Path(self.path)) / ANALYSIS
            c.save(analysis / CACHE)
            c.save_summary(analysis / CACHE_SUMMARY)
        return c

    def attention(
        self,
        group_by: str | None = None,
        kinds: Sequence[str] | None = None,
        layers: Sequence[int] | None = None,
        split: str = "test_id",
        n: int = 200,
        save: bool = False,
    ) -> list[AttentionMap]:
        """Averaged attention maps (each has `.figure()`)."""
        maps = attention_maps(
            self.model, self.prepared(split, n), group_by=group_by, kinds=kinds, layers=layers
        )
        if save:  # the report names the split in each map's title
            self.save(ATTENTION, [m.to_dict() | {"split": split, "labels": "position"} for m in maps])
        return maps

    def head_scores(
        self,
        hypotheses: Sequence[Hypothesis] = BUILTIN,
        split: str = "test_id",
        n: int = 200,
        save: bool = False,
    ) -> list[dict[str, Any]]:
        """Every head scored against every hypothesis, best first per hypothesis."""
        rows = head_scores(self.model, self.prepared(split, n), hypotheses)
        if save:
            self.save(HEAD_SCORES, [r | {"split": split} for r in rows])
        return rows

    def head_scores_figure(self, hypothesis: str, rows: list[dict[str, Any]] | None = None) -> Any:
        """Ranked bars for one hypothesis."""
        return figures.head_scores_figure(rows or self.head_scores(), hypothesis)

    def recursion_heads(self, **kw: Any) -> list[dict[str, Any]]:
        """Final-decoder-layer heads that fit a study hypothesis well above uniform."""
        return recursion_heads(self.head_scores(), self.model, **kw)

    def perturb(
        self,
        perturbations: Sequence[Perturbation] | None = None,
        n_random: int = 4,
        split: str = "test_id",
        n: int = 200,
        seed: int = 0,
        heads: Sequence[Head] = (),
        hypothesis: Hypothesis | None = None,
    ) -> list[dict[str, Any]]:
        """Perturb generation (random token edits unless given); one row per pair."""
        ex = self.examples(split, n)
        perts: Any = perturbations
        check_int("per-input edits", n_random, 1)
        edits = len(ex) * n_random
        require(
            "perturb", Need(memory=edits * EDIT_BYTES, parts=(f"{edits:,} edits",)), hint="lower --per-input"
        )
        if perts is None:
            from behaviorlab.batching import encode_sources

            src = encode_sources(self.task.vocab, [e.input for e in ex])
            g = originals_of(self.model, src, 64, 512)
            perts = random_perturbations(self.task, g, n_random, seed)
        return perturb(self.model, self.task, ex, perts, heads=heads, hypothesis=hypothesis)

    def ablate(
        self,
        components: Sequence[Component | Sequence[Component]] | None = None,
        method: str = "zero",
        split: str = "test_id",
        n: int = 200,
        seed: int = 0,
    ) -> list[dict[str, Any]]:
        """Accuracy drop per component (default: every head and MLP)."""
        comps = components or [*head_components(self.model), *mlp_components(self.model)]
        return ablate(self.model, self.task, self.examples(split, n), comps, method=method, seed=seed)

    def ablation_confirmation(
        self, heads: Sequence[Head], n_random: int = 10, seed: int = 0
    ) -> dict[str, Any]:
        """Found heads' accuracy drop vs random heads of the same count."""
        return ablation_confirmation(self.run, heads, n_random=n_random, seed=seed)

    def patch(
        self,
        components: Sequence[Component] | None = None,
        mode: str = "teacher",
        split: str = "test_id",
        n: int = 200,
        seed: int = 0,
    ) -> list[dict[str, Any]]:
        """Activation patching over (clean, corrupted) pairs drawn from a split."""
        pairs = make_pairs(self.task, self.examples(split, n), seed)
        comps = components or head_components(self.model)
        if mode == "generate":
            return patch_generation(self.model, self.task, pairs, comps)
        return patch(self.model, self.task, pairs, comps)

    def patch_figure(self, rows: Sequence[dict[str, Any]]) -> Any:
        """Components × steps heatmap of patching rows."""
        return figures.patching_figure(rows)


def open_run(path: str | Path) -> InterpretRun:
    """Open a run directory for analysis."""
    return InterpretRun(_open(Path(path)))
