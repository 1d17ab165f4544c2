"""Plotly figures for notebooks: attention heatmaps, head-score bars, patching heatmaps.

plotly is imported lazily so the library and CLI start without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _go() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError as e:  # plotly is an optional extra
        raise ImportError("figures need plotly: pip install plotly") from e
    return go


def attention_figure(
    weights: Sequence[Sequence[float]], key_tokens: Sequence[str], query_tokens: Sequence[str], title: str
) -> Any:
    """Heatmap of one head: queries down, keys across, positions on both axes (with the token
    where every averaged input has the same one)."""
    go = _go()
    fig = go.Figure(go.Heatmap(z=weights, x=key_tokens, y=query_tokens, colorscale="Blues", zmin=0.0))
    fig.update_layout(
        title=title,
        xaxis_title="key position (attended to)",
        yaxis_title="query position",
        yaxis_autorange="reversed",
        xaxis_type="category",
        yaxis_type="category",
    )
    return fig


def head_scores_figure(rows: Sequence[dict[str, Any]], hypothesis: str, top: int = 12) -> Any:
    """Ranked bars of head scores for one hypothesis, with the uniform baseline as a marker."""
    go = _go()
    rs = sorted((r for r in rows if r["hypothesis"] == hypothesis), key=lambda r: -r["score"])[:top]
    labels = [f"{r['kind']} L{r['layer']} H{r['head']}" for r in rs]
    fig = go.Figure(
        [
            go.Bar(x=labels, y=[r["score"] for r in rs], name="score"),
            go.Scatter(x=labels, y=[r["baseline"] for r in rs], mode="markers", name="uniform"),
        ]
    )
    fig.update_layout(title=f"head scores: {hypothesis}", yaxis_title="attention mass on target")
    return fig


def patching_figure(rows: Sequence[dict[str, Any]], value: str = "recovered") -> Any:
    """Components × decoding steps heatmap of a patching table."""
    go = _go()
    comps = list(dict.fromkeys(r["component"] for r in rows))
    steps = sorted({int(r["step"]) for r in rows})
    cell = {(r["component"], int(r["step"])): r[value] for r in rows}
    z = [[cell.get((c, s)) for s in steps] for c in comps]
    fig = go.Figure(go.Heatmap(z=z, x=[str(s) for s in steps], y=comps, colorscale="RdBu", zmid=0))
    fig.update_layout(
        title=f"activation patching: {value}",
        xaxis_title="decoding step",
        yaxis_title="component",
        yaxis_autorange="reversed",
    )
    return fig


def bar_figure(rows: Sequence[dict[str, Any]], x: str, y: str, title: str) -> Any:
    """A simple bar chart of one column against another (ablation drops, flip rates)."""
    go = _go()
    fig = go.Figure(go.Bar(x=[str(r[x]) for r in rows], y=[r[y] for r in rows]))
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y)
    return fig
