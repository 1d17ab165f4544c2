"""Scoring a candidate program against a model's outputs: fit, MDL, failure prediction.

H(M(X) | B(X)) estimated by plug-in on string outputs is degenerate — any injective program (e.g.
"copy the input") scores 0 because every output string is seen once. So the MDL data term is the
length of an explicit code for the model's output given the program's output: one flag per
example (adaptive, Laplace-smoothed match rate) plus, on a mismatch, the model's output spelled
out token by token. That code length upper-bounds the conditional entropy and cannot be gamed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.metamodels.batch import Inputs, as_batch
from behaviorlab.metamodels.features import TOKEN_BITS
from behaviorlab.metamodels.machine import matches
from behaviorlab.metamodels.program import Program
from behaviorlab.metamodels.tree_program import TreeProgram
from behaviorlab.stats import Estimate, share


@dataclass(frozen=True)
class Candidate:
    """One program's score on the fitting set."""

    program: Program | TreeProgram
    size_bits: float
    code_bits: float  # what selection charges for naming the program (see `score`)
    fit_agreement: float
    residual_bits: float  # total code length of the model's outputs given the program's
    mdl: float
    n: int

    @property
    def cond_entropy_bits(self) -> float:
        """Residual bits per example: the estimate of H(M(X) | B(X))."""
        return self.residual_bits / max(1, self.n)


def _code_length(hit: np.ndarray, lengths: np.ndarray) -> float:
    """Bits for the outputs: a flag per example, and a miss spelled out (its length in tokens)."""
    n, hits = len(hit), int(hit.sum())
    q = (hits + 1) / (n + 2)
    bits = -hits * math.log2(q)
    for length in lengths[~hit].tolist():  # one by one, in order: the same float sum every time
        bits += -math.log2(1 - q) + (length + 1) * TOKEN_BITS
    return bits


def residual_bits(model_outs: Sequence[str], prog_outs: Sequence[str]) -> float:
    """Total bits to transmit the model's outputs to a receiver who has the program's outputs."""
    hit = np.array([m == p for m, p in zip(model_outs, prog_outs, strict=True)], dtype=bool)
    return _code_length(hit, np.array([len(tokenize(m)) for m in model_outs], dtype=np.int64))


def score(
    program: Program | TreeProgram,
    contexts: Inputs,
    model_outs: Sequence[str],
    alpha: float,
    code_bits: float | None = None,
) -> Candidate:
    """Run `program` on prepared contexts and score it by |C| + α · residual bits.

    `code_bits` overrides |C| when the program is named from a fixed hypothesis class (a family
    member costs only its index); by default |C| is the program's own size. Pass the same batch
    and output list for many programs: their preparation is cached.
    """
    batch = as_batch(contexts)
    targets = batch.targets(model_outs)
    if isinstance(program, TreeProgram):
        hit = program.matches(batch, model_outs)
    else:
        hit = matches(program, batch, targets)
    res = _code_length(hit, targets.lengths)
    agree = int(hit.sum()) / max(1, len(batch))
    size = program.size_bits
    code = size if code_bits is None else code_bits
    return Candidate(program, size, code, agree, res, code + alpha * res, len(batch))


@dataclass(frozen=True)
class FailureStats:
    """How well a program's predictions line up with a model's real failures. A rate over zero
    cases is None (undefined), never 100% or 0%: with no failures nothing was predicted or missed."""

    n: int
    n_failures: int
    n_predicted: int
    n_predicted_correctly: int
    agreement: float | None
    failure_prediction_rate: float | None
    failure_precision: float | None
    n_true_alarms: int = 0

    @property
    def predicted(self) -> Estimate:
        """The share of the model's failures the program reproduces, with its Wilson interval."""
        return share(self.n_predicted_correctly, self.n_failures)

    @property
    def precision(self) -> Estimate:
        """The share of the program's predicted failures that are real ones."""
        return share(self.n_true_alarms, self.n_predicted)


def failure_stats(
    model_outs: Sequence[str], prog_outs: Sequence[str], refs: Sequence[str | None]
) -> FailureStats:
    """Failure prediction on held-out inputs.

    rate = share of model failures (model ≠ ref) where the program reproduces the failure;
    precision = share of predicted failures (program ≠ ref) that are real model failures.
    With no failures the rate is undefined (None), with no predicted failures the precision is:
    neither is a finding. Inputs without a reference (`None`) count for agreement only.
    """
    n = len(model_outs)
    agree = sum(m == p for m, p in zip(model_outs, prog_outs, strict=True))
    fails = predicted = hit = true_alarm = 0
    for m, p, r in zip(model_outs, prog_outs, refs, strict=True):
        if r is None:
            continue
        if m != r:
            fails += 1
            hit += p == m
        if p != r:
            predicted += 1
            true_alarm += m != r
    return FailureStats(
        n=n,
        n_failures=fails,
        n_predicted=predicted,
        n_predicted_correctly=hit,
        agreement=agree / n if n else None,
        failure_prediction_rate=hit / fails if fails else None,
        failure_precision=true_alarm / predicted if predicted else None,
        n_true_alarms=true_alarm,
    )
