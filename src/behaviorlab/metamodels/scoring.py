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

from behaviorlab.behaviors.tokens import detokenize, tokenize
from behaviorlab.metamodels.program import TOKEN_BITS, Context, Program


@dataclass(frozen=True)
class Candidate:
    """One program's score on the fitting set."""

    program: Program
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


def residual_bits(model_outs: Sequence[str], prog_outs: Sequence[str]) -> float:
    """Total bits to transmit the model's outputs to a receiver who has the program's outputs."""
    n = len(model_outs)
    hits = sum(m == p for m, p in zip(model_outs, prog_outs, strict=True))
    q = (hits + 1) / (n + 2)
    bits = -hits * math.log2(q)
    for m, p in zip(model_outs, prog_outs, strict=True):
        if m != p:
            bits += -math.log2(1 - q) + (len(tokenize(m)) + 1) * TOKEN_BITS
    return bits


def score(
    program: Program,
    contexts: Sequence[Context],
    model_outs: Sequence[str],
    alpha: float,
    code_bits: float | None = None,
) -> tuple[Candidate, list[str]]:
    """Run `program` on prepared contexts and score it by |C| + α · residual bits.

    `code_bits` overrides |C| when the program is named from a fixed hypothesis class (a family
    member costs only its index); by default |C| is the program's own size.
    """
    outs = [detokenize(program.run_context(ctx)) for ctx in contexts]
    res = residual_bits(model_outs, outs)
    agree = sum(m == o for m, o in zip(model_outs, outs, strict=True)) / max(1, len(outs))
    size = program.size_bits
    code = size if code_bits is None else code_bits
    return Candidate(program, size, code, agree, res, code + alpha * res, len(outs)), outs


@dataclass(frozen=True)
class FailureStats:
    """How well a program's predictions line up with a model's real failures."""

    n: int
    n_failures: int
    n_predicted: int
    n_predicted_correctly: int
    agreement: float
    failure_prediction_rate: float
    failure_precision: float


def failure_stats(
    model_outs: Sequence[str], prog_outs: Sequence[str], refs: Sequence[str | None]
) -> FailureStats:
    """Failure prediction on held-out inputs.

    rate = share of model failures (model ≠ ref) where the program reproduces the failure;
    precision = share of predicted failures (program ≠ ref) that are real model failures.
    With no failures the rate is 1.0 (nothing was missed); with no predicted failures the
    precision is 1.0 (no false alarm). Inputs without a reference (`None`) count for agreement only.
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
        agreement=agree / n if n else 1.0,
        failure_prediction_rate=hit / fails if fails else 1.0,
        failure_precision=true_alarm / predicted if predicted else 1.0,
    )
