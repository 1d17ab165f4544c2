"""Demo and sweep directories become one comparison page with every run's sections folded in."""

from __future__ import annotations

import json
import re
from pathlib import Path

from test_report_data import make_demo, make_run

from behaviorlab.report import build_report, render_report


def test_demo_comparison_page(tmp_path: Path) -> None:
    html, canvas = build_report(make_demo(tmp_path / "demo"))
    assert re.findall(r"<h2>([^<]*)</h2>", html)[:3] == ["Demo overview", "Comparison", "Runs"]
    assert html.count('<details class="run"') == 2
    assert 'href="#run-task-a"' in html and 'id="run-task-b"' in html
    assert "90.0%" in html and "30.0%" in html  # recorded accuracies of task/b
    keys = [f.key for f in canvas.figures]
    assert {"compare-accuracy", "compare-curve-loss", "compare-curve-accuracy"} <= set(keys)
    # Each run's own figures are there too, under distinct ids.
    assert "task-a-acc-by-length" in keys and "task-b-acc-by-length" in keys
    assert len(keys) == len(set(keys)) == html.count('class="bl-fig"')
    assert "win-rate" in " ".join(k for k in keys if k.startswith("task-b"))
    assert "win-rate" not in " ".join(k for k in keys if k.startswith("task-a"))


def test_sweep_comparison_with_a_missing_run(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    make_run(sweep / "r0")
    make_run(tmp_path / "abs-run", name="abs")
    (sweep / "junk").mkdir(parents=True)
    runs = [
        {
            "run_dir": "r0",
            "overrides": {"optim.lr": 0.001},
            "accuracy_id": 1.0,
            "accuracy_ood": 0.25,
            "status": "complete",
        },
        {"run_dir": str(tmp_path / "abs-run"), "overrides": ["optim.lr=3e-3"], "status": "complete"},
        {"run_dir": "gone", "overrides": {}, "status": "failed"},
        {"run_dir": "junk", "status": "failed"},
    ]
    (sweep / "sweep.json").write_text(json.dumps({"name": "lr sweep", "runs": runs}))
    out = render_report(sweep)
    html = out.read_text()
    assert out == sweep / "report.html"
    assert "Sweep overview" in html and "optim.lr=0.001" in html and "optim.lr=3e-3" in html
    assert "25.0%" in html  # recorded OOD accuracy of r0
    assert "50.0%" in html  # abs-run's own summary (the sweep row has no numbers)
    assert "run directory not found: gone" in html
    assert "junk: not a run directory" in html
    assert html.count('<details class="run"') == 4
    assert (sweep / "figures" / "compare-accuracy.png").is_file()
