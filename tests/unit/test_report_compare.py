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


def test_demo_page_shows_shortcuts_heads_and_lr_comparison(tmp_path: Path) -> None:
    demo = make_demo(tmp_path / "demo")
    summary = json.loads((demo / "summary.json").read_text())
    first = next(iter(summary["models"]))
    summary["models"][first].update(
        failure_prediction_rate=0.885,
        failure_precision=1.0,
        metamodel_agreement=0.928,
        metamodel_size=257.6,
        metamodel_program="natural/reference@10+0",
        recursion_heads=[{"kind": "cross", "layer": 1, "head": 1, "score": 0.26, "baseline": 0.1}],
        ablation_drop={
            "found_heads": 0.99,
            "random_median": 0.43,
            "random_low": 0.05,
            "random_high": 0.97,
            "at_least": 0,
            "n_random": 8,
        },
    )
    summary["lr_comparison"] = {
        "metamodels": [
            {
                "run": "task/a@lr=0.001",
                "program": "shortcut <b>",
                "metamodel_agreement": 0.5,
                "failure_prediction_rate": 0.25,
                "failure_precision": 1.0,
                "metamodel_size": 9.0,
                "same_shortcut_as": [],
            },
            {  # seen in a 1280 px screenshot: "n/a (no failures)" beside a bare "—" precision
                "run": "task/a@lr=0.01",
                "program": "natural/reference",
                "metamodel_agreement": 1.0,
                "failure_prediction_rate": None,
                "failure_precision": None,
                "metamodel_size": 9.0,
                "same_shortcut_as": [],
            },
        ]
    }
    (demo / "summary.json").write_text(json.dumps(summary))
    html, _ = build_report(demo)
    html = html.replace("<wbr>", "")  # break opportunities inside long names
    assert "Shortcuts, failure prediction and heads" in html
    assert "natural/reference@10+0" in html and "88.5%" in html and "cross.1.1" in html
    # The random draws' median and range, never their mean.
    assert "99.0% / median 43.0% (5.0%–97.0%; 0 of 8 draws reach it)" in html
    assert "task/a@lr=0.001" in html and "shortcut &lt;b&gt;" in html  # escaped
    assert "<td>n/a (no failures)</td><td>n/a (no predicted failures)</td>" in html


def test_each_runs_figures_name_the_run_and_split(tmp_path: Path) -> None:
    """Two runs with the same predictions drew byte-identical accuracy PNGs whose titles named
    neither run: every figure now names its run and the splits it draws."""
    demo = make_demo(tmp_path / "demo")
    out = render_report(demo)
    figures = out.parent / "figures"
    a, b = (figures / f"task-{x}-acc-by-length.png" for x in "ab")
    assert a.is_file() and b.is_file() and a.read_bytes() != b.read_bytes()
    _, canvas = build_report(demo)
    titles = [f.title for f in canvas.figures if "acc-by-length" in f.key]
    assert titles == [
        "Accuracy by length · test_id, test_ood (OOD, dashed) — task/a",
        "Accuracy by length · test_id, test_ood (OOD, dashed) — task/b",
    ]
