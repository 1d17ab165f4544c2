"""HTML building blocks: escaping, number formatting, tables of row dicts, cards and sections."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def esc(value: Any) -> str:
    """Any value as escaped HTML text."""
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """A compact, readable string for a table cell (not yet escaped)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, Mapping | list | tuple):
        text = json.dumps(value, default=str, ensure_ascii=False)
        return text if len(text) <= 160 else text[:157] + "…"
    return str(value)


def pct(value: float | None) -> str:
    """A rate as a percentage ("—" when unknown)."""
    return "—" if value is None else f"{100 * value:.1f}%"


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key across the rows, in order of first appearance."""
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    return list(cols)


def table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    limit: int | None = 200,
    raw: Iterable[str] = (),
) -> str:
    """An HTML table of row dicts; cells in `raw` columns are trusted HTML (already escaped)."""
    if not rows:
        return '<p class="muted">No rows.</p>'
    cols = list(columns) if columns is not None else columns_of(rows)
    trusted = set(raw)
    shown = rows if limit is None else rows[:limit]
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = []
    for r in shown:
        cells = []
        for c in cols:
            v = r.get(c)
            num = isinstance(v, int | float) and not isinstance(v, bool)
            text = str(v) if c in trusted else esc(fmt(v))
            cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f'<p class="muted">Showing {len(shown)} of {len(rows)} rows.</p>' if len(shown) < len(rows) else ""
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{more}"
    )


def cards(items: Sequence[tuple[str, str]], *, big: bool = False) -> str:
    """Label/value tiles; values are trusted HTML."""
    cls = "cards big" if big else "cards"
    tiles = "".join(
        f'<div class="card"><div class="label">{esc(k)}</div><div class="value">{v}</div></div>'
        for k, v in items
    )
    return f'<div class="{cls}">{tiles}</div>'


def note(text: str, kind: str = "muted") -> str:
    """A one-paragraph remark (`kind`: muted or warn)."""
    return f'<p class="{esc(kind)}">{esc(text)}</p>'


def section(anchor: str, title: str, body: str) -> str:
    """A titled page section with an anchor for the table of contents."""
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'
