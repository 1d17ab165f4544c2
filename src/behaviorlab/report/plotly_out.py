"""Figure specs as plotly.js JSON (data + layout); strings are entity-escaped because plotly
renders a subset of HTML in every piece of text it draws."""

from __future__ import annotations

import html
from typing import Any

from behaviorlab.report.figures import Figure, Heatmap, Series

# Plotly's toolbar (modebar) sits in the top 30 px of a figure: the top margin keeps it off the plot.
MODEBAR_PX = 32
DASHES = ("solid", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "triangle-up", "x", "triangle-down")
PATTERNS = ("", ".", "x", "+", "-")
LEGEND_ROW_PX = 20


def legend_rows(names: list[str], wide: bool) -> int:
    """How many rows a horizontal legend of these names takes (plotly wraps it by width): the
    figure grows by that many rows instead of squashing its plot and clipping the axis titles."""
    if len(names) < 2:
        return 0
    width = 1100 if wide else 500  # the plot's width at 1280 px, a full row or half of one
    per_row = max(1, width // (50 + 7 * max(len(n) for n in names)))
    return -(-len(names) // per_row)


# White to deep blue, like matplotlib's "Blues" (plotly's own "Blues" runs the other way).
HEAT = [[0.0, "#f7fbff"], [0.35, "#9ecae1"], [0.7, "#2171b5"], [1.0, "#08306b"]]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def _t(value: Any) -> Any:
    """Escape text for plotly; numbers and None pass through."""
    return html.escape(value, quote=False) if isinstance(value, str) else value


def _series(s: Series, color: str, horizontal: bool) -> dict[str, Any]:
    x, y = [_t(v) for v in s.x], list(s.y)
    trace: dict[str, Any] = {"name": _t(s.name)}
    if s.kind == "bar":
        trace.update(type="bar", marker={"color": color})
        if s.style and not s.dashed:  # bars sharing a colour: a fill pattern tells them apart
            shape = PATTERNS[s.style % len(PATTERNS)]
            trace["marker"]["pattern"] = {"shape": shape, "fillmode": "overlay", "fgcolor": "#ffffff"}
        if horizontal:
            trace.update(x=y, y=x, orientation="h")
        else:
            trace.update(x=x, y=y)
        if s.dashed:
            trace["marker"]["pattern"] = {
                "shape": "/",
                "fillmode": "overlay",
                "fgcolor": "rgba(255,255,255,0.6)",
            }
    else:
        trace.update(
            type="scatter",
            mode="lines+markers" if len(x) <= 60 else "lines",
            x=x,
            y=y,
            line={"color": color, "width": 2, "dash": "dash" if s.dashed else DASHES[s.style % len(DASHES)]},
            marker={"size": 6, "symbol": "diamond" if s.dashed else SYMBOLS[s.style % len(SYMBOLS)]},
            connectgaps=False,
        )
    errors = s.errors()
    if errors is not None:
        below, above = errors
        trace["error_y"] = {
            "type": "data",
            "symmetric": False,
            "array": above,
            "arrayminus": below,
            "color": color,
            "thickness": 1.2,
            "width": 3,
        }
    if s.hover is not None:
        value = "%{x}" if horizontal and s.kind == "bar" else "%{y}"
        trace.update(
            text=[_t(h) for h in s.hover],
            hovertemplate=value + "<br>%{text}<extra>%{fullData.name}</extra>",
        )
    return trace


def _heatmap(h: Heatmap) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    # Positions, not labels, on the axes: repeated tokens would otherwise merge into one category.
    xs, ys = list(range(len(h.x_labels))), list(range(len(h.y_labels)))
    hover = [[f"{_t(q)} → {_t(k)}" for k in h.x_labels] for q in h.y_labels]
    if h.cell_text is not None:
        hover = [["<br>".join(_t(line) for line in cell) for cell in row] for row in h.cell_text]
    trace = {
        "type": "heatmap",
        "z": h.z,
        "x": xs,
        "y": ys,
        "text": hover,
        "hovertemplate": f"%{{text}}<br>{_t(h.value_label)} %{{z:.3f}}<extra></extra>",
        "colorscale": HEAT,
        "zmin": h.zmin,
        "zmax": h.zmax,
        "colorbar": {"thickness": 10, "outlinewidth": 0},
    }
    if h.cell_text is not None:
        trace.update(texttemplate="%{text}", textfont={"size": 11})
    xaxis = {
        "tickmode": "array",
        "tickvals": xs,
        "ticktext": [_t(t) for t in h.x_labels],
        "tickangle": -60 if len(xs) > 8 else 0,
        "title": {"text": _t(h.x_title)},
        "side": "bottom",
    }
    yaxis = {
        "tickmode": "array",
        "tickvals": ys,
        "ticktext": [_t(t) for t in h.y_labels],
        "autorange": "reversed",
        "title": {"text": _t(h.y_title)},
    }
    return trace, xaxis, yaxis


def to_plotly(fig: Figure) -> dict[str, Any]:
    """`{"data": [...], "layout": {...}}` for `Plotly.newPlot`."""
    axis_style = {
        "gridcolor": "#e8ecf1",
        "zerolinecolor": "#d0d7de",
        "linecolor": "#d0d7de",
        "automargin": True,
    }
    layout: dict[str, Any] = {
        # No plotly title: the page writes it above the figure as HTML (it wraps, and plotly's
        # toolbar, which sits in this top margin, can never cover it).
        "font": {"family": FONT, "size": 12, "color": "#1f2328"},
        "height": fig.height - 48 + MODEBAR_PX,
        "margin": {"l": 60, "r": 20, "t": MODEBAR_PX, "b": 50},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#ffffff",
        # Below the axis title, anchored to the figure's bottom edge so the two never overlap.
        # maxheight 1: plotly caps a horizontal legend at half the figure and scrolls the rest out
        # of sight; the figure grows by the legend's rows instead (below), so all of it shows.
        "legend": {
            "orientation": "h",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "maxheight": 1,
        },
        "modebar": {"bgcolor": "rgba(0,0,0,0)", "color": "#9aa4ae", "activecolor": "#0072B2"},
        "hovermode": "closest",
        "barmode": "group",
    }
    if fig.heatmap is not None:
        trace, xaxis, yaxis = _heatmap(fig.heatmap)
        layout.update(xaxis={**axis_style, **xaxis}, yaxis={**axis_style, **yaxis})
        layout["plot_bgcolor"] = "rgba(0,0,0,0)"
        return {"data": [trace], "layout": layout}
    data = [_series(s, c, fig.horizontal) for s, c in zip(fig.series, fig.colors(), strict=True)]
    x_axis = {**axis_style, "title": {"text": _t(fig.x_label)}}
    y_axis = {**axis_style, "title": {"text": _t(fig.y_label)}}
    if fig.categorical_x:
        x_axis["type"] = "category"
    xs = [v for s in fig.series for v in s.x if isinstance(v, int | float)]
    if fig.integer_x and xs and max(xs) - min(xs) <= 24:
        x_axis.update(dtick=1, tickformat="d")
    rows = legend_rows([s.name for s in fig.series], fig.wide)
    if rows:
        # The legend sits below the x-axis title, anchored to the figure's bottom edge.
        layout["margin"]["b"] = 70 + LEGEND_ROW_PX * rows
        layout["height"] += LEGEND_ROW_PX * rows
        # A few pixels above the bottom edge: plotly pads the legend box beyond its anchor.
        layout["legend"]["y"] = 8 / layout["height"]
    if fig.log_y:
        y_axis["type"] = "log"
    if fig.log_x and xs and min(xs) > 0:
        x_axis.update(
            type="log",
            tickmode="array",
            tickvals=sorted(set(xs)),
            ticktext=[f"{v:g}" for v in sorted(set(xs))],
        )
    if fig.y_range is not None:
        y_axis["range"] = list(fig.y_range)
    if fig.horizontal:
        x_axis, y_axis = y_axis, {**x_axis, "type": "category", "autorange": "reversed"}
    layout.update(xaxis=x_axis, yaxis=y_axis)
    return {"data": data, "layout": layout}
