"""Replay of a probe run: send every recorded prompt again and compare what comes back.

Two checks over `outputs.parquet`:
- texts: each recorded generate call (same prompts in the same order, same decoding, budget, stop
  strings and chat flag) is sent again, and every completion must match its recorded text exactly.
  Calls are resent whole because a sampled call draws every prompt from one seeded generator.
- log-probs: every recorded output is re-scored with `model.score` (teacher-forced), and each
  token's log-prob must lie within `TOLERANCE` of the one recorded during generation. Not bit for
  bit: generation computes each token incrementally (a key/value cache, one position at a time,
  batched with other prompts and padding), scoring computes the whole continuation in one forward
  pass with other shapes, so floating-point sums run in a different order and differ around 1e-6.
Outputs whose text does not re-tokenize into the generated tokens (a stop string cut inside a
token, or a tokenizer with several spellings of one text) cannot be scored token for token, nor can
outputs whose prompt was cut to fit the model's context (`prompt_cut`: scoring would see another
cut); both are counted in a warning rather than compared. Their texts are still compared exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.io import read_parquet
from behaviorlab.lm import Decoding, TextModel, load
from behaviorlab.probes.zoo import ZooModel, open_entry
from behaviorlab.rundir import OUTPUTS, RunDir
from behaviorlab.store.compare import Difference, ReplayReport

TOLERANCE = 1e-4


def _calls(rows: list[dict[str, Any]]) -> Iterator[tuple[tuple[str, str, int], list[dict[str, Any]]]]:
    """The recorded generate calls, in file order: ((model, probe, call), rows)."""
    for key, group in groupby(rows, key=lambda r: (r["model"], r["probe"], r["call"])):
        yield key, list(group)


def _where(r: dict[str, Any]) -> str:
    return f"{OUTPUTS}: {r['model_name']} / {r['probe']} / {r['item']} ({r['decoding']})"


def _open(config: dict[str, Any], spec: str) -> TextModel:
    """The model a recorded spec names, with the zoo settings it ran with (a context bound changes
    where generation stops)."""
    specs, zoo = config.get("models") or [], config.get("zoo") or []
    if spec in specs and specs.index(spec) < len(zoo):
        settings = {k: v for k, v in zoo[specs.index(spec)].items() if k in ("context",)}
        return open_entry(ZooModel(spec=spec, **settings))
    return load(spec)


def replay_probe(run: Path | RunDir) -> ReplayReport:
    """Re-generate and re-score every recorded output of a probe run; report what differs."""
    run = run if isinstance(run, RunDir) else RunDir.open(Path(run))
    if run.kind != "probe":
        raise BadInput(f"{run.path}: not a probe run (kind {run.kind})")
    if not run.file(OUTPUTS).is_file():
        raise BadInput(f"{run.path}: no {OUTPUTS} (did the probe run finish?)")
    rows = read_parquet(run.file(OUTPUTS)).to_pylist()
    report = ReplayReport(run.path, "probe")
    models: dict[str, TextModel] = {}
    texts = scored = unscorable = cut = 0
    for (spec, _, _), group in _calls(rows):
        model = models.get(spec) or models.setdefault(spec, _open(run.config, spec))
        first = group[0]
        decoding = Decoding(bool(first["greedy"]), float(first["temperature"]), int(first["seed"]))
        lead = first.get("prefix") or ""  # the call's shared prefix (runs before it had none)
        prompts = [r["prompt"][len(lead) :] for r in group]
        comps = model.generate(
            prompts,
            int(first["max_new_tokens"]),
            decoding=decoding,
            stop=tuple(first["stop"] or ()),
            chat=bool(first["chat"]),
            prefix=lead,
        )
        for r, c in zip(group, comps, strict=True):
            texts += 1
            if c.text != r["output"]:
                report.differences.append(
                    Difference(
                        _where(r), f"text differs: recorded {r['output'][:60]!r}, replayed {c.text[:60]!r}"
                    )
                )
        whole = [r for r in group if not r.get("prompt_cut")]
        cut += len(group) - len(whole)
        got_all = model.score(
            [r["prompt"][len(lead) :] for r in whole],
            [r["output"] for r in whole],
            chat=bool(first["chat"]),
            prefix=lead,
        )
        for r, got in zip(whole, got_all, strict=True):
            recorded = list(r["tokens"] or [])
            again = model.tokenize(r["output"]) if r["output"] else []
            if again != recorded[: len(again)] or len(got) != len(again):
                unscorable += 1
                continue
            scored += 1
            worst = max((abs(a - b) for a, b in zip(got, r["logprobs"], strict=False)), default=0.0)
            if worst > TOLERANCE:
                report.differences.append(
                    Difference(_where(r), f"log-prob differs by {worst:.2e} (> {TOLERANCE:g})")
                )
    report.checked.append(f"{texts} generations re-generated (texts compared exactly)")
    report.checked.append(f"{scored} outputs re-scored (per-token log-probs within {TOLERANCE:g})")
    if unscorable:
        report.warnings.append(
            f"{unscorable} output(s) not re-scored: their text does not re-tokenize into the generated tokens"
        )
    if cut:
        report.warnings.append(
            f"{cut} output(s) not re-scored: their prompt was cut to fit the model's context"
        )
    return report
