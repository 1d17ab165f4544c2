"""Figure specs as PNG files through matplotlib's Agg canvas (no browser, no pyplot state)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import MaxNLocator

from behaviorlab.io import atomic_write
from behaviorlab.report.figures import Figure, Heatmap, title_lines
from behaviorlab.validate import printable

DPI = 110
# The same five styles as the HTML figures (plotly_out.DASHES / SYMBOLS).
LINESTYLES = ("-", ":", "-.", (0, (8, 3)), (0, (8, 3, 1, 3)))
MARKERS = ("o", "s", "^", "x", "v")


def _draw_series(ax: Axes, fig: Figure) -> None:
    bars = [s for s in fig.series if s.kind == "bar"]
    # Categorical x: every series shares one ordered list of positions.
    cats: list[str] = []
    if fig.categorical_x or bars:
        for s in fig.series:
            cats += [str(v) for v in s.x if str(v) not in cats]
    width = 0.8 / max(1, len(bars))
    for i, (s, color) in enumerate(zip(fig.series, fig.colors(), strict=True)):
        pos = [cats.index(str(v)) for v in s.x] if cats else list(s.x)
        ys = [float("nan") if v is None else v for v in s.y]
        errors = s.errors()
        yerr = None if errors is None else [errors[0], errors[1]]
        if s.kind == "bar":
            offset = (bars.index(s) - (len(bars) - 1) / 2) * width
            where = [p + offset for p in pos]
            hatch = "//" if s.dashed else None
            if fig.horizontal:
                ax.barh(where, ys, height=width, color=color, label=s.name, hatch=hatch, xerr=yerr)
            else:
                ax.bar(where, ys, width=width, color=color, label=s.name, hatch=hatch, yerr=yerr)
        else:
            ax.plot(
                pos,
                ys,
                color=color,
                label=s.name,
                linestyle="--" if s.dashed else LINESTYLES[s.style % len(LINESTYLES)],
                marker="D" if s.dashed else MARKERS[s.style % len(MARKERS)],
                markersize=3 if len(pos) > 60 else 5,
                zorder=3 + i,
            )
            if yerr is not None:
                ax.errorbar(
                    pos, ys, yerr=yerr, fmt="none", ecolor=color, elinewidth=1, capsize=2, zorder=3 + i
                )
    if cats:
        if fig.horizontal:
            ax.set_yticks(range(len(cats)), cats)
            ax.invert_yaxis()
        else:
            ax.set_xticks(
                range(len(cats)),
                cats,
                rotation=30 if len(cats) > 6 else 0,
                ha="right" if len(cats) > 6 else "center",
            )
    value_axis = ax.set_xlim if fig.horizontal else ax.set_ylim
    if fig.integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if fig.y_range is not None:
        value_axis(*fig.y_range)
    xs = [v for s in fig.series for v in s.x if isinstance(v, int | float)]
    if fig.log_x and xs and min(xs) > 0 and not cats:
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted(set(xs)), [f"{v:g}" for v in sorted(set(xs))])
    if fig.log_y:
        (ax.set_xscale if fig.horizontal else ax.set_yscale)("log")
    if len(fig.series) > 4:  # many series: the legend goes below the axes, not over the data
        ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.22), ncol=2)
    elif len(fig.series) > 1:
        ax.legend(frameon=False, fontsize=8)


def _cell_text(ax: Axes, h: Heatmap) -> None:
    """Each cell's lines of text, white on dark cells."""
    if h.cell_text is None:
        return
    top = h.zmax if h.zmax is not None else max((v for row in h.z for v in row if v is not None), default=1.0)
    for i, row in enumerate(h.cell_text):
        for j, lines in enumerate(row):
            v = h.z[i][j]
            dark = v is not None and v > 0.6 * top
            ax.text(
                j,
                i,
                "\n".join(lines),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else "black",
            )


def _printable(value: Any) -> Any:
    """A figure (or any part of one) with every string's control characters escaped."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list | tuple):
        return type(value)(_printable(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _printable(getattr(value, f.name)) for f in fields(value)})
    return value


def write_png(fig: Figure, path: Path) -> None:
    """Render one figure to `path` atomically."""
    # Names come from configs: a control character would reach stderr in matplotlib's
    # missing-glyph warning (and draw as a box), so every text is escaped first.
    fig = _printable(fig)
    with matplotlib.rc_context(
        {
            "text.parse_math": False,
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.color": "#e8ecf1",
        }
    ):
        mfig = MplFigure(figsize=(8 if fig.wide else 5.2, max(2.6, fig.height / 100)), dpi=DPI)
        FigureCanvasAgg(mfig)
        ax = mfig.add_subplot()
        ax.set_axisbelow(True)  # grid lines behind bars, not across them
        if fig.heatmap is not None:
            h = fig.heatmap
            z = [[float("nan") if v is None else v for v in row] for row in h.z]
            im = ax.imshow(z, cmap="Blues", vmin=h.zmin, vmax=h.zmax, aspect="auto")
            ax.set_xticks(
                range(len(h.x_labels)),
                h.x_labels,
                rotation=90 if len(h.x_labels) > 8 else 0,
                fontsize=7,
            )
            ax.set_yticks(range(len(h.y_labels)), h.y_labels, fontsize=7)
            ax.set_xlabel(h.x_title)
            ax.set_ylabel(h.y_title)
            ax.grid(False)
            mfig.colorbar(im, ax=ax, fraction=0.04)
            _cell_text(ax, h)
        else:
            _draw_series(ax, fig)
            ax.set_xlabel(fig.y_label if fig.horizontal else fig.x_label)
            ax.set_ylabel("" if fig.horizontal else fig.y_label)
        ax.set_title("\n".join(title_lines(fig.title, 100 if fig.wide else 64)), loc="left", fontsize=10)
        mfig.tight_layout()
        atomic_write(path, lambda tmp: mfig.savefig(tmp, format="png", bbox_inches="tight"))
