"""Collects a page's figures: hands out unique element ids and remembers each spec for rendering."""

from __future__ import annotations

from dataclasses import dataclass, field

from behaviorlab.report.figures import Figure, slug
from behaviorlab.report.html import esc


@dataclass
class Canvas:
    """The figures of one HTML page; `prefix` keeps ids unique when several runs share a page."""

    prefix: str = ""
    figures: list[Figure] = field(default_factory=list)
    _used: set[str] = field(default_factory=set)

    def scoped(self, prefix: str) -> Canvas:
        """A view that adds figures to the same page under another prefix."""
        view = Canvas(prefix=slug(prefix), figures=self.figures, _used=self._used)
        return view

    def figure(self, fig: Figure) -> str:
        """Register a figure and return its placeholder element (plotly draws into it)."""
        key = slug(f"{self.prefix}-{fig.key}" if self.prefix else fig.key)
        base, n = key, 1
        while key in self._used:
            n += 1
            key = f"{base}-{n}"
        self._used.add(key)
        fig.key = key
        self.figures.append(fig)
        cls = "fig wide" if fig.wide else "fig"
        return (
            f'<figure class="{cls}"><div class="bl-fig" id="fig-{esc(key)}" '
            f'style="min-height:{fig.height}px"></div>'
            f'<figcaption><a href="figures/{esc(key)}.png">PNG</a></figcaption></figure>'
        )


def grid(items: list[str]) -> str:
    """Figures laid out in a responsive grid."""
    return f'<div class="fig-grid">{"".join(items)}</div>' if items else ""
