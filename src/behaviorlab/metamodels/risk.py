"""Metamodels that say "maybe": a calibrated failure probability per input beside the program.

Where a model's slips are not a function of the input the program can state, the program predicts
some failures exactly and misses the rest. A logistic model over per-input features — the
program's own verdict (does it predict a failure?) plus what its guards read: length, token
counts, tokens at absolute places, and for trees size, height and pending calls — gives each
input a failure probability; Platt scaling on held-out inputs calibrates it. It is reported with
its AUC (also on the inputs the program calls safe: the residue) and a reliability curve whose
bins carry Wilson intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from behaviorlab.behaviors.estimators import proportion_ci
from behaviorlab.metamodels.batch import Batch
from behaviorlab.metamodels.logistic import fit_logistic
from behaviorlab.metamodels.program import Program
from behaviorlab.metamodels.tree_batch import LETTER
from behaviorlab.metamodels.tree_program import TreeProgram, tree_batch
from behaviorlab.metamodels.vote import voters

TREE_STATS = ("term size", "height", "pending calls", "steps taken")


def feature_names(program: Program | TreeProgram, batch: Batch, tokens: Sequence[str]) -> list[str]:
    """The program's verdict, then what guards read: length, token counts and runs, tokens at
    absolute places seen in this batch, and for tree programs the term's shape."""
    names = ["program predicts failure", "n"]
    names += [f"{feat}({t})" for t in tokens for feat in ("count", "run", "lead")]
    names += [f"is({term.arg})" for term in voters(batch, tokens)]
    return names + list(TREE_STATS) * isinstance(program, TreeProgram)


def _tree_stats(program: TreeProgram, batch: Batch) -> dict[str, np.ndarray]:
    tb = tree_batch(batch, program.fn)
    roots = tb.depth == 0
    size, height, calls = np.zeros(len(batch)), np.zeros(len(batch)), np.zeros(len(batch))
    np.add.at(size, tb.b, np.where(roots, tb.size, 0))
    np.maximum.at(height, tb.b, tb.height)
    np.add.at(calls, tb.b, (roots & (tb.kind != LETTER)).astype(float))
    return dict(zip(TREE_STATS, (size, height, calls, tb.t.astype(float)), strict=True))


def feature_values(
    program: Program | TreeProgram,
    batch: Batch,
    names: Sequence[str],
    prog_out: Sequence[str],
    refs: Sequence[str | None],
) -> np.ndarray:
    """[B, len(names)] the named features of each input."""
    trees = _tree_stats(program, batch) if isinstance(program, TreeProgram) else {}
    cols = []
    for name in names:
        if name == "program predicts failure":
            v = np.array([r is not None and p != r for p, r in zip(prog_out, refs, strict=True)], dtype=float)
        elif name == "n":
            v = batch.n.astype(float)
        elif name in trees:
            v = trees[name]
        else:
            feat, arg = name[:-1].split("(", 1)
            v = batch.static(feat, arg).astype(float)
        cols.append(v)
    return np.stack(cols, axis=1) if cols else np.zeros((len(batch), 0))


@dataclass
class RiskModel:
    """Standardised features → logit; Platt scaling (a·logit + c) calibrates it."""

    names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    w: np.ndarray
    bias: float
    platt: tuple[float, float] = (1.0, 0.0)
    report: dict[str, Any] = field(default_factory=dict)

    def logit(self, F: np.ndarray) -> np.ndarray:
        return ((F - self.mean) / self.scale) @ self.w + self.bias

    def prob(self, F: np.ndarray) -> np.ndarray:
        """Calibrated failure probability per input."""
        a, c = self.platt
        return 1.0 / (1.0 + np.exp(-(a * self.logit(F) + c)))

    def top_features(self, k: int = 5) -> list[tuple[str, float]]:
        """The features with the largest standardised weights."""
        order = np.argsort(-np.abs(self.w))[:k]
        return [(self.names[i], round(float(self.w[i]), 3)) for i in order]


def fit_risk(names: list[str], F: np.ndarray, failed: np.ndarray, l2: float = 1e-2) -> RiskModel:
    """Fit the logistic model on the fitting inputs (uncalibrated)."""
    mean, scale = F.mean(0), F.std(0)
    scale = np.where(scale > 0, scale, 1.0)
    w, b = fit_logistic((F - mean) / scale, failed, l2, max_iter=300)
    return RiskModel(names, mean, scale, w, b)


def calibrate(model: RiskModel, F: np.ndarray, failed: np.ndarray) -> RiskModel:
    """Platt scaling of the model's logits on held-out inputs (a little L2 keeps it finite)."""
    z = model.logit(F)[:, None]
    a, c = fit_logistic(z, failed, 1e-4, max_iter=300)
    if a[0] < 0:  # a handful of one class can flip the slope: then trust only the base rate
        a, c = np.zeros(1), float(fit_logistic(np.zeros((len(z), 1)), failed, 1e-4, max_iter=300)[1])
    model.platt = (float(a[0]), c)
    return model


def auc(p: np.ndarray, y: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann–Whitney, ties half); None without both classes."""
    pos, neg = p[y], p[~y]
    if not len(pos) or not len(neg):
        return None
    ranks = np.empty(len(p))
    order = np.argsort(p, kind="stable")
    ranks[order] = np.arange(1, len(p) + 1)
    for v in np.unique(p):  # average ranks of ties
        at = p == v
        ranks[at] = ranks[at].mean()
    return float((ranks[y].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 5) -> list[dict[str, Any]]:
    """Inputs in equal-count bins of predicted risk: mean prediction, observed failure rate, its
    Wilson 95% interval, and whether the prediction lies inside it."""
    out = []
    order = np.argsort(p, kind="stable")
    for part in np.array_split(order, bins):
        if not len(part):
            continue
        k, n = int(y[part].sum()), len(part)
        lo, hi = proportion_ci(k, n)
        pred = float(p[part].mean())
        out.append({"n": n, "predicted": pred, "observed": k / n, "ci": [lo, hi], "within": lo <= pred <= hi})
    return out


def evaluate(model: RiskModel, F: np.ndarray, failed: np.ndarray, shortcut: np.ndarray) -> dict[str, Any]:
    """The calibrated model's AUC and reliability on inputs it was neither fit nor calibrated on."""
    return evaluate_probs(model.prob(F), failed, shortcut)


def _known(
    xs: Sequence[str], ms: Sequence[str], refs: Sequence[str | None]
) -> tuple[list[str], np.ndarray, list[str]]:
    keep = [k for k, r in enumerate(refs) if r is not None]
    failed = np.array([ms[k] != refs[k] for k in keep], dtype=bool)
    return [xs[k] for k in keep], failed, [str(refs[k]) for k in keep]


def score_inputs(
    model: RiskModel,
    program: Program | TreeProgram,
    xs: Sequence[str],
    ms: Sequence[str],
    refs: Sequence[str | None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, failed, program predicts failure) on inputs with a reference answer."""
    xs, failed, known = _known(xs, ms, refs)
    batch = Batch.of_texts(xs)
    outs = program.run_many(xs)
    F = feature_values(program, batch, model.names, outs, known)
    return F, failed, np.array([o != r for o, r in zip(outs, known, strict=True)], dtype=bool)


def explain_risk(
    program: Program | TreeProgram,
    fit: tuple[Sequence[str], Sequence[str], Sequence[str | None]],
    held: tuple[Sequence[str], Sequence[str], Sequence[str | None]],
    tokens: int = 8,
) -> RiskModel | None:
    """Fit on the fitting inputs; calibrate and evaluate on the held-out ones, two-fold (each half
    calibrated on the other), then calibrate on all of them for use on fresh inputs."""
    xs, failed, known = _known(*fit)
    if len(xs) < 8 or failed.all() or not failed.any():
        return None  # nothing to learn a probability from
    batch = Batch.of_texts(xs)
    names = feature_names(program, batch, [t for t, _ in batch.token_counts()[:tokens]])
    F = feature_values(program, batch, names, program.run_many(xs), known)
    model = fit_risk(names, F, failed)
    HF, hy, hs = score_inputs(model, program, *held)
    folds = np.arange(len(hy)) % 2 == 0
    p = np.zeros(len(hy))
    for fold in (folds, ~folds):
        calibrate(model, HF[~fold], hy[~fold])
        p[fold] = model.prob(HF[fold])
    model.platt = (1.0, 0.0)
    report = evaluate_probs(p, hy, hs)
    calibrate(model, HF, hy)
    model.report = {"heldout": report, "top_features": model.top_features()}
    return model


def evaluate_probs(p: np.ndarray, failed: np.ndarray, shortcut: np.ndarray) -> dict[str, Any]:
    """AUC overall and on the residue (inputs the program calls safe), and the reliability curve."""
    safe = ~shortcut
    return {
        "n": len(p),
        "n_failures": int(failed.sum()),
        "auc": auc(p, failed),
        "auc_residue": auc(p[safe], failed[safe]),
        "n_residue_failures": int((failed & safe).sum()),
        "reliability": reliability(p, failed),
    }
