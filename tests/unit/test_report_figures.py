"""Figure specs: plotly JSON escapes text and keeps repeated tokens apart; every kind draws a PNG."""

from __future__ import annotations

from pathlib import Path

from behaviorlab.report.canvas import Canvas
from behaviorlab.report.figures import Figure, Heatmap, Series, slug
from behaviorlab.report.page import _script_json
from behaviorlab.report.plotly_out import to_plotly
from behaviorlab.report.png_out import write_png

HEAT = Heatmap([[0.5, 0.5], [0.9, 0.1]], ["1", "1"], ["<b>", "$x$"], "key", "query", 0.0, 1.0)


def test_heatmap_keeps_repeated_tokens_and_escapes_labels() -> None:
    spec = to_plotly(Figure("h", "attention <i>", heatmap=HEAT))
    layout = spec["layout"]
    assert layout["xaxis"]["tickvals"] == [0, 1] and layout["xaxis"]["ticktext"] == ["1", "1"]
    assert layout["yaxis"]["ticktext"] == ["&lt;b&gt;", "$x$"]
    assert "title" not in layout  # the page writes the title above the figure, escaped
    html = Canvas(subject="run <x>").figure(Figure("h", "attention <i>", heatmap=HEAT))
    assert '<div class="fig-title">attention &lt;i&gt; — run &lt;x&gt;</div>' in html


def test_many_series_keep_distinct_looks_and_a_tall_enough_legend() -> None:
    """Twelve series (three models × four ops): no two share colour and line style, and the
    figure grows by its legend's rows instead of squashing the plot and clipping its y title."""
    from behaviorlab.report.figures import COLORS

    series = [
        Series(f"model-{m} · op-{k}", [0, 1], [0.1, 0.2], color=COLORS[m], style=k)
        for m in range(3)
        for k in range(4)
    ]
    spec = to_plotly(Figure("n", "noise", "rate", "share of answers that changed", series, wide=False))
    looks = {(t["line"]["color"], t["line"]["dash"], t["marker"]["symbol"]) for t in spec["data"]}
    assert len(looks) == 12
    plain = to_plotly(Figure("p", "one", "x", "y", series[:1], wide=False))["layout"]
    grown = spec["layout"]["height"] - plain["height"]
    assert grown >= 4 * 19 and spec["layout"]["margin"]["b"] >= 70 + grown  # 12 short names: 4 rows
    twelve = Figure("c", "t", series=[Series(str(i), [0], [0]) for i in range(12)])
    assert len(set(twelve.colors())) == 12  # no colour repeats without explicit colours either


def test_series_marks_ood_and_scripts_cannot_break_out() -> None:
    fig = Figure(
        "a",
        "acc",
        series=[Series("id", [1, 2], [1.0, None]), Series("ood", [3], [0.0], dashed=True, hover=["n=4"])],
    )
    data = to_plotly(fig)["data"]
    assert data[0]["line"]["dash"] == "solid" and data[1]["line"]["dash"] == "dash"
    assert "</script>" not in _script_json({"x": "</script><script>"})


def test_every_kind_renders_a_png(tmp_path: Path) -> None:
    figs = [
        Figure(
            "line",
            "lines",
            "step",
            "loss",
            [Series("a", [1, 2, 3], [3.0, 2.0, None]), Series("b", [1, 2], [1.0, 0.5], dashed=True)],
            log_y=True,
            integer_x=True,
        ),
        Figure(
            "bars",
            "bars",
            "run",
            "acc",
            [
                Series("id", ["r1", "r2"], [0.5, 1.0], kind="bar"),
                Series("ood", ["r1", "r2"], [None, 0.2], kind="bar", dashed=True),
            ],
            categorical_x=True,
            y_range=(0, 1),
        ),
        Figure(
            "rank",
            "ranking",
            "head",
            "score",
            [Series("s", ["h1", "h2"], [0.9, 0.1], kind="bar")],
            horizontal=True,
        ),
        Figure("heat", "heat $x$", heatmap=HEAT),
    ]
    for f in figs:
        write_png(f, tmp_path / f"{f.key}.png")
        assert (tmp_path / f"{f.key}.png").read_bytes()[:4] == b"\x89PNG"
        assert to_plotly(f)["data"]
    assert slug("Sophia: win rate (%)") == "sophia-win-rate"


def test_heatmap_cell_text_is_drawn_on_the_cells(tmp_path: Path) -> None:
    text = [[["a <1>", "b"], ["c"]], [["d"], ["e", "f"]]]
    heat = Heatmap([[0.2, None], [0.9, 0.1]], ["x1", "x2"], ["y1", "y2"], cell_text=text, value_label="acc")
    trace = to_plotly(Figure("p", "phases", heatmap=heat))["data"][0]
    assert trace["texttemplate"] == "%{text}" and trace["text"][0][0] == "a &lt;1&gt;<br>b"
    assert "acc %{z:.3f}" in trace["hovertemplate"] and trace["z"][0][1] is None
    write_png(Figure("p", "phases", heatmap=heat), tmp_path / "p.png")  # a cell without a value too
    assert (tmp_path / "p.png").stat().st_size > 1000
    plain = to_plotly(Figure("h", "attention", heatmap=HEAT))["data"][0]
    assert "texttemplate" not in plain and plain["text"][0][0] == "&lt;b&gt; → 1"
