"""Data-vs-output mapping for our own runs: which features of the training outputs does the model
reproduce, which does it invent, and which does it drop?

Data: the outputs of the run's `data/train.parquet`. Outputs: the model's predictions on its
in-distribution test inputs (`predictions.parquet`, test_id* splits; every split if it has none),
so a shift in inputs out of distribution is not mistaken for the model's doing. A feature is a
property of one output string (it contains a token n-gram, has a length, starts or ends with a
token, loops, copies its input); its frequency is the share of strings that have it. Verdicts:

- shared: in both, at rates not significantly different;
- contingent: in both, but the 95% Wilson intervals do not overlap and the rate ratio is
  outside [0.5, 2];
- idiosyncratic: in the outputs, never in the data;
- unexpressed: in the data, never in the outputs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from behaviorlab.evaluate.records import read_predictions
from behaviorlab.probes.text import contains_run, find_loop
from behaviorlab.rundir import DATA, PREDICTIONS, split_file
from behaviorlab.stats import Estimate, share
from behaviorlab.tasks.recorded import read_pairs

CLASSES = ("shared", "contingent", "idiosyncratic", "unexpressed")
NGRAMS = (1, 2, 3)
TOP = 60  # features listed per run (all are counted in `counts`)


def features(inp: Sequence[str], out: Sequence[str]) -> set[str]:
    """Every feature one (input tokens, output tokens) pair shows."""
    found = {f"length = {len(out)}"}
    for n in NGRAMS:
        found |= {f"{n}-gram {' '.join(out[i : i + n])}" for i in range(len(out) - n + 1)}
    if out:
        found |= {f"starts with {out[0]}", f"ends with {out[-1]}"}
    else:
        found.add("empty output")
    if find_loop(out) is not None:
        found.add("loops (period ≤ 16, ≥ 3 repeats)")
    if inp and contains_run(out, inp):
        found.add("copies its whole input")
    return found


def classify(data: Estimate, model: Estimate) -> str:
    """One feature's verdict from its shares in the data and in the outputs."""
    if not data.k:
        return "idiosyncratic"
    if not model.k:
        return "unexpressed"
    assert data.ci_low is not None and data.ci_high is not None
    assert model.ci_low is not None and model.ci_high is not None
    apart = data.ci_high < model.ci_low or model.ci_high < data.ci_low
    ratio = model.value / data.value
    return "contingent" if apart and not 0.5 <= ratio <= 2.0 else "shared"


def compare(
    data_pairs: Sequence[tuple[Sequence[str], Sequence[str]]],
    model_pairs: Sequence[tuple[Sequence[str], Sequence[str]]],
) -> dict[str, Any]:
    """Feature frequencies in data vs outputs, each feature classified, most frequent first."""
    in_data = Counter(f for i, o in data_pairs for f in features(i, o))
    in_model = Counter(f for i, o in model_pairs for f in features(i, o))
    rows: list[dict[str, Any]] = []
    for f in set(in_data) | set(in_model):
        d, m = share(in_data[f], len(data_pairs)), share(in_model[f], len(model_pairs))
        rows.append({"feature": f, "class": classify(d, m), "data": d.to_json(), "outputs": m.to_json()})
    rows.sort(key=lambda r: (-(r["data"]["k"] + r["outputs"]["k"]), r["feature"]))
    counts = Counter(r["class"] for r in rows)
    shown = [r for c in CLASSES for r in [x for x in rows if x["class"] == c][: TOP // len(CLASSES)]]
    return {
        "n_data": len(data_pairs),
        "n_outputs": len(model_pairs),
        "counts": {c: counts.get(c, 0) for c in CLASSES},
        "features": shown,
        "verdict": ", ".join(f"{counts.get(c, 0)} {c}" for c in CLASSES) + " features",
    }


def run_mapping(run_dir: Path, tokenize: Callable[[str], list[str]]) -> dict[str, Any]:
    """The mapping for one run directory (needs data/train.parquet and predictions.parquet)."""
    train, preds = split_file(run_dir / DATA, "train"), run_dir / PREDICTIONS
    if not train.is_file() or not preds.is_file():
        return {"skipped": f"needs {DATA}/train.parquet and {PREDICTIONS} (evaluate the run first)"}
    data = [(tokenize(e.input), tokenize(e.output)) for e in read_pairs(train)]
    rows = read_predictions(preds)
    ids = [r for r in rows if str(r.get("split", "")).startswith("test_id") or r.get("split") == "test"]
    used = ids or rows
    outputs = [(tokenize(str(r["input"])), [str(t) for t in r.get("tokens") or []]) for r in used]
    out = compare(data, outputs)
    out["splits"] = sorted({str(r.get("split")) for r in used})
    return out
