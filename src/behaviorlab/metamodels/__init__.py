"""Metamodels: small printable shortcut programs, their search, and failure prediction."""

from behaviorlab.metamodels.batch import Batch
from behaviorlab.metamodels.compare import compare, same_shortcut
from behaviorlab.metamodels.context import Context
from behaviorlab.metamodels.exception_rules import fit_exceptions
from behaviorlab.metamodels.explain import ExplainResult, explain, search
from behaviorlab.metamodels.families import family_for, reference_name
from behaviorlab.metamodels.features import Term
from behaviorlab.metamodels.induce import induce, simplify
from behaviorlab.metamodels.program import Program
from behaviorlab.metamodels.rules import Action, Cmp, Rule, TokEq
from behaviorlab.metamodels.scoring import FailureStats, failure_stats, residual_bits
from behaviorlab.metamodels.text import from_json, from_text, normal_form, to_json, to_text

__all__ = [
    "Action",
    "Batch",
    "Cmp",
    "Context",
    "ExplainResult",
    "FailureStats",
    "Program",
    "Rule",
    "Term",
    "TokEq",
    "compare",
    "explain",
    "failure_stats",
    "fit_exceptions",
    "family_for",
    "from_json",
    "from_text",
    "induce",
    "normal_form",
    "reference_name",
    "residual_bits",
    "same_shortcut",
    "search",
    "simplify",
    "to_json",
    "to_text",
]
