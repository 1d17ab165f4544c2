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


def test_metamodel_and_heads_read_as_numbers_not_json(tmp_path: Path) -> None:
    """The metamodel section as explain writes it: no raw JSON, no 16-digit floats, rates over
    zero failures as "n/a (no failures)", a program that explains nothing called so; head-score
    bars carry the uniform baseline the text compares them with."""
    run = make_run(tmp_path / "r", analysis=True)
    est = {"estimate": 0.6311345215082569, "ci_low": 0.5034932368866841, "ci_high": 0.7543773777893255,
           "n": 250, "method": "miller-madow"}  # fmt: skip
    meta = {
        "explains": False,
        "verdict": "no program in the language explains this model (held-out agreement 0.0%)",
        "program_text": "program natural/output-cap10@10+0+patch\n  if i == 5 then stop",
        "program": {"name": "natural/output-cap10@10+0+patch", "rules": [{"guard": [{"op": "=="}]}]},
        "failure_prediction_rate": None,
        "failure_prediction_ci": None,
        "failure_precision": None,
        "metamodel_agreement": 0.0,
        "metamodel_size": 1974.2,
        "mutual_information_bits": 0.0,
        "mutual_information_ci": [0.0, 0.42071234567891234],
        "failure_information_bits": est,
        "fresh_check": {"all": {"n": 300, "n_failures": 0, "failure_prediction_rate": None,
                                "failure_prediction_ci": None, "failure_precision": None,
                                "metamodel_agreement": 0.5567123456789,
                                "risk": {"auc": 0.9892405975311014, "reliability": [{"ci": [0.0029, 0.2]}]}}},
        "candidates": [{"name": "natural/output-cap10@10+0+patch", "size_bits": 1974.2, "code_bits": 1975.2,
                        "fit_agreement": 0.6247123, "heldout_agreement": 0.488, "mdl": 22900.123,
                        "cond_entropy_bits": 24.6}],
    }  # fmt: skip
    (run / "analysis" / "metamodel.json").write_text(json.dumps(meta))
    heads = [
        {"hypothesis": "previous token", "kind": "decoder", "layer": 0, "head": h, "score": 0.3 + h / 10,
         "baseline": 0.1, "split": "test_id"}
        for h in range(3)
    ]  # fmt: skip
    (run / "analysis" / "head_scores.json").write_text(json.dumps(heads))
    html, canvas = build_report(run)
    section = html.split('id="analysis-metamodel"')[1].split("</section>")[0]
    assert '{"' not in section and "&quot;" not in section  # no JSON objects
    assert not re.search(r"\d\.\d{6,}", section)  # no long floats
    assert "n/a (no failures)" in section and "100.0%" not in section
    assert "no program in the language explains this model" in section
    assert "Closest candidate (not an explanation)" in section and "Miller–Madow" in section
    (bars,) = [f for f in canvas.figures if f.key.startswith("heads-")]
    assert [s.name for s in bars.series] == ["score", "baseline (uniform attention)"]
    assert bars.series[1].y == [0.1, 0.1, 0.1] and "test_id" in bars.title


def test_number_columns_align_with_their_headers_and_names_wrap_between_parts(tmp_path: Path) -> None:
    """Seen in a 1280 px screenshot: a left-aligned "n" header over right-aligned counts read as
    the next column's, and the task card broke "binary-successor/reve|rse" inside a word. A
    column of numbers is right-aligned header and all (a mixed column stays left); a card value
    breaks only between name parts."""
    from behaviorlab.report.html import breakable, table
    from behaviorlab.report.theme import CSS

    got = table([{"split": "test_id", "n": 40, "value": 2}, {"split": "x", "n": 3, "value": "yes"}])
    heads = re.findall(r"<th[^>]*>[^<]*</th>", got)
    assert heads == ["<th>split</th>", '<th class="num">n</th>', "<th>value</th>"]
    assert '<td class="num">40</td>' in got and "<td>2</td>" in got  # "value" mixes text and numbers
    assert breakable("|C(B)| bits") == "|C(B)| bits" and breakable("a/b@c") == "a/<wbr>b@<wbr>c"
    assert breakable("size=8 carry=0") == "size=8 carry=0"  # a key=value pair stays on one line
    assert 'class="table-wrap"' in got  # a short table shows every row (no scroll box)
    assert 'class="table-wrap long"' in table([{"i": i} for i in range(25)])
    assert "max-height" not in CSS.split(".table-wrap {")[1].split("}")[0]
    run = make_run(tmp_path / "r")
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "task": "binary-successor/reverse"}))
    html, _ = build_report(run)
    task = html.split('<div class="label">task</div><div class="value">')[1].split("</div>")[0]
    assert task == "binary-successor/<wbr>reverse", task
    card = next(line for line in CSS.splitlines() if line.startswith(".card .value"))
    assert "overflow-wrap:break-word" in card and "word-break" not in card  # break-word breaks anywhere
