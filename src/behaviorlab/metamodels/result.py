"""What `explain` found: the selected program (or that none explains the model), its agreement,
failure prediction with intervals, MI, MDL and the candidates — and how it reads as text.

A rate over zero cases is undefined and prints as "n/a (no failures)", never 100% or 0%; a search
whose best candidate agrees with the model on ≈ 0% of held-out inputs, or whose candidates all tie,
selects nothing and says "no program in the language explains this model".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from behaviorlab.metamodels.program import Program
from behaviorlab.metamodels.risk import RiskModel
from behaviorlab.metamodels.text import to_json, to_text
from behaviorlab.metamodels.tree_program import TreeProgram
from behaviorlab.stats import DEGENERATE_AGREEMENT, MI_NOTE, Estimate, bits, rate_text

NOTHING_EXPLAINS = "no program in the language explains this model"
NONE_NAME = "none (nothing explains it)"


def failure_text(c: dict[str, Any]) -> str:
    """ "predicted by the program: 91.0% [85.2%, 94.7%]; precision 97.1% (of 35 predicted)" — or
    "n/a (no failures)" where a rate has no cases: a rate over zero failures is not 100%, one over
    zero predictions not 0%."""
    rate, ci = c.get("failure_prediction_rate"), c.get("failure_prediction_ci")
    pred = "predicted by the program: n/a (no failures)"
    if rate is not None:
        pred = f"predicted by the program: {rate:.1%}" + ("" if not ci else f" [{ci[0]:.1%}, {ci[1]:.1%}]")
    precision = rate_text(c.get("failure_precision"), "n/a (no predicted failures)")
    n_pred = c.get("n_predicted_failures")
    counted = n_pred is not None and c.get("failure_precision") is not None
    return f"{pred}; precision {precision}" + (f" (of {n_pred} predicted)" if counted else "")


def degenerate(agreement: float, candidates: Sequence[dict[str, Any]]) -> str | None:
    """Why the selection explains nothing, or None: held-out agreement ≈ 0, or every candidate
    ties on the fitting and held-out data (the choice would rest on program size alone)."""
    if agreement <= DEGENERATE_AGREEMENT:
        return f"held-out agreement {agreement:.1%}"
    fits = {(round(c["fit_agreement"], 12), round(c["heldout_agreement"], 12)) for c in candidates}
    if len(candidates) > 1 and len(fits) == 1 and agreement < 1.0:
        return f"all {len(candidates)} candidates tie at {agreement:.1%} held-out agreement"
    return None


@dataclass
class ExplainResult:
    """The selected metamodel and how well it explains and predicts the model."""

    task_key: str
    program: Program | TreeProgram
    metamodel_size: float
    metamodel_agreement: float
    failure_prediction_rate: float | None  # None: the model made no failures to predict
    failure_precision: float | None  # None: the program predicted no failures
    n_failures: int
    n_predicted_failures: int
    n_heldout: int
    mutual_information: Estimate
    mdl: float
    alpha: float
    candidates: list[dict[str, Any]]
    family_match: str | None
    matches_reference: bool
    failure_prediction_ci: tuple[float, float] | None = None  # Wilson 95% over the failures
    failure_information: Estimate | None = None  # I(model fails; program predicts a failure)
    mutual_information_mechanistic: Estimate | None = None
    heldout_inputs: list[str] = field(default_factory=list, repr=False)
    fresh_check: dict[str, Any] | None = None  # per test split and "all": see on_run.fresh_check
    risk_model: RiskModel | None = field(default=None, repr=False)  # the "maybe" beside the program
    unexplained: str | None = None  # why no program explains the model (then none is selected)

    @property
    def explains(self) -> bool:
        """False when the search is degenerate: no candidate agrees with the model, or the data
        cannot tell the candidates apart; the selected program is then only the closest one."""
        return self.unexplained is None

    @property
    def verdict(self) -> str:
        """One line: the program that explains the model, or that none does and why."""
        if self.unexplained is not None:
            return f"{NOTHING_EXPLAINS} ({self.unexplained})"
        return f"explained by {self.family_match or self.program.label}"

    @property
    def program_name(self) -> str:
        """The selected program's name (its family member's when it equals one); NONE_NAME when
        no program explains the model."""
        return NONE_NAME if not self.explains else self.family_match or self.program.label

    @property
    def program_text(self) -> str:
        """The selected program as if/then text."""
        return to_text(self.program)

    @property
    def mutual_information_bits(self) -> float:
        """I(model output; program output) on the held-out natural inputs, bias-corrected."""
        return self.mutual_information.value

    def to_json(self) -> dict[str, Any]:
        """Headline numbers first, then details."""
        mech = self.mutual_information_mechanistic
        ci = self.failure_prediction_ci
        return {
            "explains": self.explains,
            "verdict": self.verdict,
            "failure_prediction_rate": self.failure_prediction_rate,
            "failure_prediction_ci": None if ci is None else list(ci),
            "failure_precision": self.failure_precision,
            "metamodel_agreement": self.metamodel_agreement,
            "metamodel_size": self.metamodel_size,
            "mutual_information_bits": self.mutual_information_bits,
            "mutual_information_ci": [self.mutual_information.ci_low, self.mutual_information.ci_high],
            "mutual_information_method": MI_NOTE,
            "mutual_information_mechanistic": None if mech is None else mech.to_json(),
            "failure_information_bits": None
            if self.failure_information is None
            else self.failure_information.to_json(),
            "n_failures": self.n_failures,
            "n_predicted_failures": self.n_predicted_failures,
            "n_heldout": self.n_heldout,
            "mdl": self.mdl,
            "alpha": self.alpha,
            "task": self.task_key,
            "family_match": self.family_match,
            "matches_reference": self.matches_reference,
            "program": to_json(self.program),
            "program_text": self.program_text,
            "fresh_check": self.fresh_check,
            "risk": None if self.risk_model is None else self.risk_model.report,
            "candidates": self.candidates,
        }

    def _check_lines(self) -> list[str]:
        return [
            f"fresh check {split} (n={c['n']}): agreement {rate_text(c['metamodel_agreement'])}; "
            f"{c['n_failures']} failures, {failure_text(c)}"
            for split, c in (self.fresh_check or {}).items()
        ]

    def _risk_lines(self) -> list[str]:
        if self.risk_model is None:
            return []
        lines = []
        for where, r in self.risk_model.report.items():
            if where == "top_features":
                continue

            def f(v: float | None) -> str:
                return "-" if v is None else f"{v:.3f}"

            inside = sum(b["within"] for b in r["reliability"])
            lines.append(
                f"failure risk ({where}, n={r['n']}): AUC {f(r['auc'])}; on the residue the program "
                f"calls safe ({r['n_residue_failures']} failures) AUC {f(r['auc_residue'])}; "
                f"reliability: {inside}/{len(r['reliability'])} bins within their 95% interval"
            )
            lines += [
                f"  predicted {b['predicted']:.1%}  observed {b['observed']:.1%} "
                f"[{b['ci'][0]:.1%}, {b['ci'][1]:.1%}]  (n={b['n']})"
                for b in r["reliability"]
            ]
        return lines

    def _selected_lines(self) -> list[str]:
        if not self.explains:
            return [
                f"task {self.task_key}: {self.verdict}; no program is selected.",
                f"closest candidate, not an explanation: {self.program.name!r} "
                f"({self.metamodel_size:.0f} bits)",
            ]
        return [
            f"task {self.task_key}: selected {self.program.name!r} "
            f"({self.metamodel_size:.0f} bits; equals family member: {self.family_match or '-'})",
            self.program_text,
        ]

    def render_text(self) -> str:
        """A short human-readable report."""
        summary = {
            "failure_prediction_rate": self.failure_prediction_rate,
            "failure_prediction_ci": self.failure_prediction_ci,
            "failure_precision": self.failure_precision,
            "n_predicted_failures": self.n_predicted_failures,
        }
        lines = [
            *self._selected_lines(),
            f"held-out agreement with the model: {rate_text(self.metamodel_agreement)} (n={self.n_heldout})",
            f"model failures: {self.n_failures}; {failure_text(summary)}",
            f"I(model; program) = {bits(self.mutual_information)}",
            f"I(model fails; program predicts failure) = {bits(self.failure_information)}",
            f"  (MI: {MI_NOTE})",
            f"MDL = {self.mdl:.1f} bits (alpha={self.alpha})",
            *self._check_lines(),
            *self._risk_lines(),
            "candidates (best MDL first):",
        ]
        for c in self.candidates:
            lines.append(
                f"  {c['name']:<32} size {c['size_bits']:6.1f} code {c['code_bits']:6.1f}"
                f"  fit {c['fit_agreement']:.3f}"
                f"  held-out {c['heldout_agreement']:.3f}  mdl {c['mdl']:9.1f}"
            )
        return "\n".join(lines)
