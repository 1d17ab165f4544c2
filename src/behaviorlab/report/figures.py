"""A small, renderer-neutral figure description: one spec becomes a plotly chart and a PNG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# Colour-blind-friendly palettes (Okabe-Ito, then Paul Tol's "muted"), shared by the HTML and PNG
# renderers: 17 distinct colours before any repeats.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MORE = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499")
COLORS = PALETTE + MORE
# Line styles a series may take beside its colour (series of one model share the colour).
STYLES = 5


@dataclass
class Series:
    """One line or bar series; `dashed` marks out-of-distribution data."""

    name: str
    x: list[Any]
    y: list[float | None]
    kind: Literal["line", "bar"] = "line"
    dashed: bool = False
    hover: list[str] | None = None  # extra text per point, e.g. "n=40"
    color: str | None = None
    lo: list[float | None] | None = None  # interval bounds per point (e.g. a 95% CI), drawn as error bars
    hi: list[float | None] | None = None
    style: int = 0  # line dash and marker, 0..STYLES-1: tells apart series that share a colour

    def errors(self) -> tuple[list[float], list[float]] | None:
        """(below, above) distances from y to lo and hi, 0 where unknown; None without bounds."""
        if self.lo is None or self.hi is None:
            return None
        below = [
            0.0 if y is None or lo is None else max(0.0, y - lo)
            for y, lo in zip(self.y, self.lo, strict=True)
        ]
        above = [
            0.0 if y is None or hi is None else max(0.0, hi - y)
            for y, hi in zip(self.y, self.hi, strict=True)
        ]
        return below, above


@dataclass
class Heatmap:
    """A matrix with a label per row and column (labels may repeat, e.g. tokens)."""

    z: Sequence[Sequence[float | None]]  # None: no value (drawn blank)
    x_labels: list[str]
    y_labels: list[str]
    x_title: str = ""
    y_title: str = ""
    zmin: float | None = None
    zmax: float | None = None
    # Optional words on each cell (lines of text), e.g. the numbers behind a phase diagram's colour;
    # they replace the "row → column" hover, whose value is then called `value_label`.
    cell_text: list[list[list[str]]] | None = None
    value_label: str = "weight"


@dataclass
class Figure:
    """A titled chart: line/bar series or one heatmap. `key` names the PNG and the HTML element."""

    key: str
    title: str
    x_label: str = ""
    y_label: str = ""
    series: list[Series] = field(default_factory=list)
    heatmap: Heatmap | None = None
    y_range: tuple[float, float] | None = None
    log_y: bool = False
    log_x: bool = False  # for doubling x values (span lengths 1, 2, 4, …): ticks at the values
    categorical_x: bool = False
    integer_x: bool = False  # whole-number x values (length, depth, ...): one tick per value
    horizontal: bool = False  # bars drawn sideways (rankings); x holds the labels
    height: int = 340
    wide: bool = True  # full row in the page grid; False for small multiples

    def colors(self) -> list[str]:
        """The colour of each series, in order (explicit colours win; no colour repeats before 17)."""
        return [s.color or COLORS[i % len(COLORS)] for i, s in enumerate(self.series)]


def slug(text: str) -> str:
    """A file- and id-safe version of a string."""
    out = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(p for p in out.split("-") if p) or "x"


def title_lines(title: str, width: int) -> list[str]:
    """The title broken between words into lines of at most `width` characters (plotly does not
    wrap titles: a long one would run past the figure's edge)."""
    lines: list[str] = []
    for word in title.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines
