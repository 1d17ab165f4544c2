"""HTML building blocks: escaping, number formatting, tables of row dicts, cards and sections.

What a person reads, never what a program stores: floats to four significant digits (inside
lists and objects too), an estimate as "0.631 [0.503, 0.754]", an object as "key: value" pairs —
no raw JSON, no 16-digit floats. Long names get break opportunities after `/ @ + _ = | . , :` so a
table cell wraps between parts of a name, never inside a word, and tables fit the page.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MAX_CELL = 160  # characters of a formatted object or list before it is cut with "…"
# After these a long name may wrap (program names: natural/output-cap10@10+0+patch); never after a
# separator that opens the text ("|C(B)| bits" would leave a lone "|" on a line), nor inside a
# key=value pair ("carry=" then "0" on the next line).
_BREAK_AFTER = re.compile(r"(?<=\S)([@+_|]|[/.,:](?!\d))(?=\S)")


def esc(value: Any) -> str:
    """Any value as escaped HTML text."""
    return html.escape(str(value), quote=True)


def _number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4g}"


def _estimate(value: Mapping[str, Any]) -> str | None:
    """ "0.631 [0.503, 0.754] (n=250)" for a stats.Estimate's JSON form, else None."""
    if not {"estimate", "ci_low", "ci_high"} <= set(value):
        return None
    if value["estimate"] is None:
        return f"n/a (n={value.get('n', 0)})"
    lo, hi = (_inner(value[k]) for k in ("ci_low", "ci_high"))
    n = f" (n={value['n']})" if "n" in value else ""
    return f"{_inner(value['estimate'])} [{lo}, {hi}]{n}"


def _inner(value: Any) -> str:
    """A value inside a list or object: numbers rounded, objects as "key: value" pairs."""
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, Mapping):
        return _estimate(value) or "{" + "; ".join(f"{k}: {_inner(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inner(v) for v in value) + "]"
    return fmt(value)


def fmt(value: Any) -> str:
    """A compact, readable string for a table cell (not yet escaped): numbers to four significant
    digits, estimates with their interval, lists and objects without JSON syntax."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, Mapping):
        text = _estimate(value) or "; ".join(f"{k}: {_inner(v)}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(_inner(v) for v in value)
    else:
        return str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def breakable(text: str) -> str:
    """Escaped text with a line-break opportunity (<wbr>) after the separators inside names, so a
    narrow cell wraps a long name between its parts instead of inside a word."""
    return _BREAK_AFTER.sub(r"\1<wbr>", esc(text))


def pct(value: float | None) -> str:
    """A rate as a percentage ("—" when unknown)."""
    return "—" if value is None else f"{100 * value:.1f}%"


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key across the rows, in order of first appearance."""
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    return list(cols)


# Rows beyond which a table scrolls in a box of its own instead of growing the page.
LONG_TABLE = 20


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


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
    # A column of numbers is right-aligned, its header too (a left header over right-aligned
    # numbers reads as the next column's); a column mixing text and numbers stays left-aligned.
    numeric = {c for c in cols if all(_is_number(r.get(c)) for r in shown if r.get(c) is not None)}
    numeric &= {c for c in cols if any(r.get(c) is not None for r in shown)}
    head = "".join(
        f'<th class="num">{breakable(c)}</th>' if c in numeric else f"<th>{breakable(c)}</th>" for c in cols
    )
    body = []
    for r in shown:
        cells = []
        for c in cols:
            v = r.get(c)
            text = str(v) if c in trusted else breakable(fmt(v))
            cells.append(f'<td class="num">{text}</td>' if c in numeric else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    wrap = "table-wrap long" if len(shown) > LONG_TABLE else "table-wrap"
    more = f'<p class="muted">Showing {len(shown)} of {len(rows)} rows.</p>' if len(shown) < len(rows) else ""
    return (
        f'<div class="{wrap}"><table><thead><tr>{head}</tr></thead>'
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
