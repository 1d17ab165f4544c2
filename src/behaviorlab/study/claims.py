"""The recursion study's claims, each checked against the grid: reproduced, not reproduced, or
mixed (holds in some cells and not in others), with the numbers behind the verdict.

Source: Zhang, Tigges, Biderman, Raginsky, Ringer, "Can Transformers Learn to Solve Problems
Recursively?" (2023; TMLR 2024). Thresholds below are ours, stated in each claim's test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["reproduced", "not reproduced", "mixed", "no data"]
Summary = dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """A claim of the study and how the grid tests it."""

    key: str
    statement: str  # what the study says
    test: str  # how we check it
    check: Callable[[Sequence[Summary]], tuple[Verdict, str]]


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def iv(i: dict[str, Any] | None) -> str:
    return "—" if not i else f"{pct(i['mean'])} [{pct(i['lo'])}, {pct(i['hi'])}] (n={i['n']})"


def verdict(holds: Sequence[bool]) -> Verdict:
    if not holds:
        return "no data"
    return "reproduced" if all(holds) else "not reproduced" if not any(holds) else "mixed"


def _with(cells: Sequence[Summary], key: str) -> list[Summary]:
    return [c for c in cells if c.get(key)]


def _atomic_vs_end_to_end(cells: Sequence[Summary]) -> tuple[Verdict, str]:
    holds, parts = [], []
    tree = _with([c for c in cells if c["family"] == "tree"], "accuracy_id")
    for one in (c for c in tree if c["option"] == "1"):
        peer = [
            c
            for c in tree
            if c["option"] == "all"
            and c["task"].split("/")[0] == one["task"].split("/")[0]
            and (c["lr"], c["pos"]) == (one["lr"], one["pos"])
        ]
        for e2e in peer:
            a, b = one["accuracy_id"], e2e["accuracy_id"]
            ok = a["mean"] >= 0.95 and b["hi"] < a["lo"]
            holds.append(ok)
            parts.append(f"{one['cell']}: 1-step {iv(a)} vs end to end {iv(b)}")
    return verdict(holds), "; ".join(parts)


def _steps_harder(cells: Sequence[Summary]) -> tuple[Verdict, str]:
    holds, parts = [], []
    tree = _with(
        [c for c in cells if c["family"] == "tree" and c["option"] in ("1", "2", "3")], "accuracy_id"
    )
    groups: dict[tuple[str, float, str], dict[str, Summary]] = {}
    for c in tree:
        groups.setdefault((c["task"].split("/")[0], c["lr"], c["pos"]), {})[c["option"]] = c
    for (task, lr, pos), by in sorted(groups.items()):
        if "1" in by and "3" in by:
            a, b = by["1"]["accuracy_id"]["mean"], by["3"]["accuracy_id"]["mean"]
            holds.append(b <= a)
            parts.append(f"{task} lr {lr:g} {pos}: 1 step {pct(a)}, 3 steps {pct(b)}")
    return verdict(holds), "; ".join(parts)


def _no_length_generalisation(cells: Sequence[Summary]) -> tuple[Verdict, str]:
    holds, parts = [], []
    for c in _with([c for c in cells if c["family"] == "binary"], "accuracy_ood"):
        a, b = c["accuracy_id"], c["accuracy_ood"]
        holds.append(a["mean"] >= 0.9 and b["hi"] < 0.5)
        parts.append(f"{c['cell']}: ID {pct(a['mean'])}, OOD {iv(b)}")
    return verdict(holds), "; ".join(parts)


def _failures_predicted(cells: Sequence[Summary]) -> tuple[Verdict, str]:
    holds, parts = [], []
    for c in _with([c for c in cells if c["task"] == "binary-successor/natural"], "metamodels"):
        m = c["metamodels"]
        if m["median"] is None:
            continue
        holds.append(m["median"] >= 0.91)
        parts.append(f"{c['cell']}: median {pct(m['median'])}, worst {pct(m['worst'])}")
    return verdict(holds), "; ".join(parts)


def _lr_changes_algorithm(cells: Sequence[Summary]) -> tuple[Verdict, str]:
    holds, parts = [], []
    binary = _with([c for c in cells if c["family"] == "binary"], "metamodels")
    for c in binary:
        if c["lr"] != max(x["lr"] for x in binary):
            continue
        for other in binary:
            if other["task"] == c["task"] and other["pos"] == c["pos"] and other["lr"] < c["lr"]:
                a, b = (
                    set(c["metamodels"]["programs"].values()),
                    set(other["metamodels"]["programs"].values()),
                )
                holds.append(not (a & b))
                parts.append(
                    f"{c['task']} {c['pos']}: lr {c['lr']:g} {sorted(a)} vs lr {other['lr']:g} {sorted(b)}"
                )
    return verdict(holds), "; ".join(parts)


def _recursion_head(cells: Sequence[Summary]) -> tuple[Verdict, str]:
    holds, parts = [], []
    for c in _with([c for c in cells if c["family"] == "binary"], "heads"):
        h = c["heads"]
        found, rand, span = h["ablation_found"], h["ablation_random"], h.get("ablation_random_range")
        beat, ablated = h.get("seeds_beating_random", 0), h.get("n_ablated", 0)
        causal = ablated > 0 and beat * 2 > ablated
        holds.append(h["seeds_with_recursion_head"] * 2 > h["n"] and causal)
        spread = "" if not span else f", range {span[0]:.0%}–{span[1]:.0%}"
        parts.append(
            f"{c['cell']}: {h['seeds_with_recursion_head']}/{h['n']} seeds with a final-layer head; "
            f"ablation drop found {iv(found)} vs random heads' median {iv(rand)}{spread}; "
            f"{beat}/{ablated} seeds' found heads beat every random draw"
        )
    return verdict(holds), "; ".join(parts)


def _tree_heads(cells: Sequence[Summary]) -> tuple[Verdict, str]:
    holds, parts = [], []
    for c in _with([c for c in cells if c["family"] == "tree"], "tree_heads"):
        h = c["tree_heads"]
        holds.append(h["seeds_confirmed"] * 2 > h["n"])
        tops = sorted({head for seed in h["top"] for head in seed[:1]})
        parts.append(f"{c['cell']}: {h['seeds_confirmed']}/{h['n']} seeds confirmed; top {', '.join(tops)}")
    return verdict(holds), "; ".join(parts)


CLAIMS = (
    Claim(
        "atomic-vs-end-to-end",
        "Atomic reduction steps are learned; end-to-end tree traversal is not.",
        "1-step reductions reach ≥ 95% ID and their seed interval lies above the end-to-end one.",
        _atomic_vs_end_to_end,
    ),
    Claim(
        "more-steps-harder",
        "Reducing more steps at once is harder than one step.",
        "ID accuracy of 3-step reductions ≤ that of 1-step reductions, per traversal and setting.",
        _steps_harder,
    ),
    Claim(
        "no-length-generalisation",
        "Models learn the training lengths but do not generalise to longer numbers.",
        "Binary successor: ID mean ≥ 90% while the OOD (longer) interval lies below 50%.",
        _no_length_generalisation,
    ),
    Claim(
        "failures-predicted",
        "The reconstructed shortcut program predicts most failures (91% for one function).",
        "Natural order: median failure prediction over seeds ≥ 91% (fresh check).",
        _failures_predicted,
    ),
    Claim(
        "lr-changes-algorithm",
        "Models learn different algorithms at different learning rates.",
        "Binary successor: no selected shortcut is shared between the two learning rates' seeds.",
        _lr_changes_algorithm,
    ),
    Claim(
        "recursion-head",
        "A recursion head in the final decoder layer implements the carry (binary successor).",
        "Most seeds have a flagged final-layer head, and in most seeds ablating the found heads drops "
        "accuracy more than every draw of random heads of the same count.",
        _recursion_head,
    ),
    Claim(
        "tree-heads",
        "Tree models have heads that track brackets and depth, look ahead to closures, and attend "
        "to parents and completed unrolled phrases.",
        "Most seeds have a top head on these hypotheses whose ablation and patching both beat every "
        "draw of random heads.",
        _tree_heads,
    ),
)


def check_claims(cells: Sequence[Summary]) -> list[dict[str, str]]:
    """One row per claim: statement, test, verdict and the numbers."""
    rows = []
    for claim in CLAIMS:
        verdict, numbers = claim.check(cells)
        rows.append(
            {
                "claim": claim.key,
                "statement": claim.statement,
                "test": claim.test,
                "verdict": verdict,
                "numbers": numbers,
            }
        )
    return rows
