"""Head findings of one run: attention maps, head scores against the study's hypotheses, recursion
heads confirmed by ablation against random heads, perturbation rates; written to RUN/analysis/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from behaviorlab.batching import encode_sources
from behaviorlab.interpret.ablate import ablation_confirmation
from behaviorlab.interpret.edits import Perturbation, originals_of, random_perturbations
from behaviorlab.interpret.perturb import perturb, summarize
from behaviorlab.rundir import ABLATION, PERTURBATION


def _found_heads(rows: list[dict[str, Any]], rec: list[dict[str, Any]]) -> tuple[list[Any], bool]:
    """Recursion heads, else the two best study-hypothesis heads (flagged as a fallback)."""
    heads = list(dict.fromkeys((r["kind"], r["layer"], r["head"]) for r in rec))
    if heads:
        return heads, False
    study = sorted((r for r in rows if r.get("study")), key=lambda r: r["baseline"] - r["score"])
    return list(dict.fromkeys((r["kind"], r["layer"], r["head"]) for r in study))[:2], True


def head_findings(run_dir: Path, *, quick: bool) -> dict[str, Any]:
    """Attention maps, head scores, recursion heads, ablation check and perturbation rates."""
    from behaviorlab.interpret.notebook import open_run

    t0 = time.perf_counter()
    torch.set_num_threads(1)  # one model per worker process; threads would fight
    r = open_run(run_dir)
    n = 100 if quick else 200
    nonempty = [k for k, v in r.splits.items() if v]
    split = "test_id" if r.splits.get("test_id") else nonempty[0]  # tiny runs may lack a test set
    maps = r.attention(split=split, n=n, save=True)
    rows = r.head_scores(split=split, n=n, save=True)
    rec = r.recursion_heads()
    heads, fallback = _found_heads(rows, rec)
    conf = None
    if heads:
        # Mean ablation keeps activations on-distribution; zeroing any two heads of a small
        # model breaks it regardless of what they compute, which hides the contrast.
        conf = ablation_confirmation(
            r.run, heads, n_random=3 if quick else 8, method="mean", examples=r.examples(split, n)
        )
    ablation_rows = (
        []
        if conf is None
        else [
            {"heads": "found", "drop": conf["found_heads"], "n_heads": conf["n_heads"]},
            *(
                {"heads": f"random {i}", "drop": d, "n_heads": conf["n_heads"]}
                for i, d in enumerate(conf["random_drops"])
            ),
        ]
    )
    r.save(ABLATION, ablation_rows)
    pert = _perturbation(r, split, n, quick)
    r.save(PERTURBATION, pert)
    return {
        "recursion_heads": _ranked(rows, rec),
        "ablation_drop": None
        if conf is None
        else {
            **{k: conf[k] for k in ("found_heads", "random_median", "random_low", "random_high")},
            **{k: conf[k] for k in ("random_drops", "at_least", "p_value", "n_random")},
            "heads": [list(h) for h in heads],
            "fallback_heads": fallback,
        },
        "perturbation": {
            p["op"]: {
                "changed_rate": p["changed_rate"],
                "follows_edit_rate": p["follows_edit_rate"],
                "n": p["n"],
            }
            for p in pert
        },
        "attention_maps": len(maps),
        "analysis_seconds": round(time.perf_counter() - t0, 2),
    }


def _ranked(rows: list[dict[str, Any]], rec: list[dict[str, Any]], k: int = 3) -> list[dict[str, Any]]:
    """Top decoder-side heads per study hypothesis by score over baseline; `flagged` marks those
    that pass the recursion-head test (final layer, score >= 0.4 and >= 2x baseline)."""
    flagged = {(h["kind"], h["layer"], h["head"], h["hypothesis"]) for h in rec}
    out = []
    for hyp in dict.fromkeys(r["hypothesis"] for r in rows if r.get("study")):
        cands = sorted(
            (r for r in rows if r["hypothesis"] == hyp and r["kind"] != "encoder"),
            key=lambda r: -(r["score"] - r["baseline"]),
        )[:k]
        out += [
            {
                **{f: r[f] for f in ("kind", "layer", "head", "hypothesis", "score", "baseline")},
                "flagged": (r["kind"], r["layer"], r["head"], hyp) in flagged,
            }
            for r in cands
        ]
    return sorted(out, key=lambda h: (not h["flagged"], -(h["score"] - h["baseline"])))


def _perturbation(r: Any, split: str, n: int, quick: bool) -> list[dict[str, Any]]:
    """Random insert/remove/flip edits plus neighbour position swaps, summarised per op."""
    ex = r.examples(split, n)
    if r.model.cfg.kind == "encoder-only":
        return []
    src = encode_sources(r.task.vocab, [e.input for e in ex])
    g = originals_of(r.model, src, 64, 512)
    perts = random_perturbations(r.task, g, 3 if quick else 6, seed=0)
    if r.model.cfg.kind != "lstm":  # give a generated token its neighbour's position encoding
        for ps, out in zip(perts, g, strict=True):
            p = max(1, len(out) // 2)
            ps.append(Perturbation("pos_swap", p, other=p + 1))
    return summarize(perturb(r.model, r.task, ex, perts))
