"""Behaviors (X → feature functions), input distributions, and entropy/MI/MDL estimators."""

from behaviorlab.behaviors.core import (
    Behavior,
    BehaviorScore,
    copies_prefix,
    evaluate_behavior,
    first_difference,
    length_delta,
    program_behavior,
    reference_output,
)
from behaviorlab.behaviors.distributions import mechanistic, natural, ood
from behaviorlab.behaviors.estimators import (
    Estimate,
    bootstrap,
    conditional_entropy,
    entropy,
    mdl_score,
    mutual_information,
    proportion_ci,
)

__all__ = [
    "Behavior",
    "BehaviorScore",
    "Estimate",
    "bootstrap",
    "conditional_entropy",
    "copies_prefix",
    "entropy",
    "evaluate_behavior",
    "first_difference",
    "length_delta",
    "mdl_score",
    "mechanistic",
    "mutual_information",
    "proportion_ci",
    "natural",
    "ood",
    "program_behavior",
    "reference_output",
]
