"""A run's report: sections only when their data exists, escaping, self-containment, PNGs, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_report_data import make_run
from typer.testing import CliRunner

from behaviorlab.errors import BadInput
from behaviorlab.report import build_report, render_report

HOSTILE = '<script>alert("x")</script>'


def _h2(html: str) -> list[str]:
    return re.findall(r"<h2>([^<]*)</h2>", html)


def test_full_run_has_every_section(tmp_path: Path) -> None:
    html, canvas = build_report(make_run(tmp_path / "r", sophia=True, analysis=True))
    assert _h2(html) == [
        "Overview",
        "Training curves",
        "Accuracy by split and metadata",
        "Failure catalog",
        "Attention patterns",
        "Head scores",
        "Metamodel: shortcut program and failure prediction",
        "Perturbation",
        "Ablation",
        "Imitation",  # files no analysis writes come after the known ones, by name
        "Probes",
    ]
    keys = {f.key for f in canvas.figures}
    assert {
        "curve-sophia-win-rate-share-of-coordinates-not-clipped",
        "acc-by-length",
        "acc-by-carry",
        "attn-0",
        "heads-previous-token",
    } <= keys
    assert html.count('class="bl-fig"') == len(canvas.figures)
    assert "if carry then flip else copy" in html and "test_ood (OOD)" in html
    assert "50.0%" in html and "2.13.0" in html  # headline accuracy and torch version


def test_sections_absent_without_their_data(tmp_path: Path) -> None:
    html, canvas = build_report(make_run(tmp_path / "r", evaluated=False))
    assert _h2(html) == ["Overview", "Training curves"]
    assert not any("win-rate" in f.key or "hessian" in f.key for f in canvas.figures)
    assert "accuracy in distribution" in html and "—" in html  # unknown, not invented


def test_headline_from_predictions_when_summary_lacks_it(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r")
    summary = json.loads((run / "summary.json").read_text())
    del summary["accuracy_id"], summary["accuracy_ood"]
    (run / "summary.json").write_text(json.dumps(summary))
    html, _ = build_report(run)
    assert "66.7%" in html  # 8 of 12 test_id rows are correct


def test_strings_from_data_are_escaped(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", analysis=True)
    rows = pq.read_table(run / "predictions.parquet").to_pylist()
    rows[-1].update(input=HOSTILE, prediction=HOSTILE, tokens=[HOSTILE])
    pq.write_table(pa.Table.from_pylist(rows), run / "predictions.parquet")
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "name": HOSTILE}))
    maps = json.loads((run / "analysis" / "attention.json").read_text())
    maps[0]["query_tokens"][0] = HOSTILE
    (run / "analysis" / "attention.json").write_text(json.dumps(maps))
    (run / "analysis" / "probes.json").write_text(json.dumps([{HOSTILE: HOSTILE}]))
    html, _ = build_report(run)
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert html.count("<script") == html.count("</script>")  # no stray script opened by data


def test_unknown_analysis_files_show_as_tables_and_bad_ones_warn(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r")
    (run / "analysis").mkdir()
    (run / "analysis" / "new_thing.json").write_text(json.dumps([{"metric": "x", "value": 3}]))
    pq.write_table(pa.table({"layer": [0, 1], "effect": [0.5, 0.25]}), run / "analysis" / "patching.parquet")
    (run / "analysis" / "attention.json").write_text(json.dumps([{"kind": "encoder"}]))
    (run / "analysis" / "ablation.json").write_text("{not json")
    html, canvas = build_report(run)
    assert "New thing" in _h2(html) and "Patching" in _h2(html) and ">0.25<" in html
    assert 'class="warn">attention.json[0]' in html and "could not read ablation.json" in html
    assert not any(f.key.startswith("attn") for f in canvas.figures)


def test_render_writes_self_contained_html_and_pngs(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", sophia=True)
    out = render_report(run)
    html = out.read_text()
    assert out == run / "report.html"
    assert html.count("plotly.js v") == 1  # inlined once
    assert not re.search(r"<script[^>]*\bsrc\s*=", html)
    # plotly.js itself mentions URLs in strings it never fetches for these charts; the markup
    # and our own scripts must not reference the network at all.
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S)
    markup = re.sub(r"(<script[^>]*>).*?(</script>)", r"\1\2", html, flags=re.S)
    assert not re.search(r"https?://|\b(src|href)\s*=\s*[\"']?//", markup)
    assert not any("http" in js for js in scripts if "plotly.js v" not in js[:200])
    assert not re.search(r"<link[^>]*stylesheet|@import|url\(", markup)
    pngs = sorted((run / "figures").glob("*.png"))
    assert len(pngs) == html.count('class="bl-fig"') > 0
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    for p in pngs:
        assert f'href="figures/{p.name}"' in html
    small = make_run(tmp_path / "small", evaluated=False)
    other = render_report(small, tmp_path / "elsewhere" / "r.html")
    assert other.is_file() and (tmp_path / "elsewhere" / "figures").is_dir()


def test_not_a_run_dir_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not a run, demo or sweep directory"):
        render_report(tmp_path)
    with pytest.raises(BadInput, match="not a directory"):
        render_report(tmp_path / "missing")


def test_cli_one_line_error_and_success(tmp_path: Path) -> None:
    import typer

    from behaviorlab.cli.report import report_cmd

    app = typer.Typer()
    app.command()(report_cmd)
    app.command("other")(lambda: None)  # two commands: the name `report` is not swallowed
    result = CliRunner().invoke(app, ["report-cmd", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "not a run, demo or sweep directory" in result.stderr
    run = make_run(tmp_path / "r", evaluated=False)
    out = tmp_path / "x.html"
    result = CliRunner().invoke(app, ["report-cmd", str(run), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
