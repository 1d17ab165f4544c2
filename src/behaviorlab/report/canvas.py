"""Collects a page's figures: hands out unique element ids and remembers each spec for rendering."""

from __future__ import annotations

from dataclasses import dataclass, field

from behaviorlab.report.figures import Figure, slug
from behaviorlab.report.html import esc


@dataclass
class Canvas:
    """The figures of one HTML page; `prefix` keeps ids unique when several runs share a page, and
    `subject` (the model or run a figure shows) is named in every figure's title, so a figure —
    and its PNG — says whose it is even out of the page."""

    prefix: str = ""
    figures: list[Figure] = field(default_factory=list)
    _used: set[str] = field(default_factory=set)
    subject: str = ""

    def scoped(self, prefix: str, subject: str | None = None) -> Canvas:
        """A view that adds figures to the same page under another prefix (and subject)."""
        about = prefix if subject is None else subject
        return Canvas(prefix=slug(prefix), figures=self.figures, _used=self._used, subject=about)

    def figure(self, fig: Figure) -> str:
        """Register a figure and return its placeholder element (plotly draws into it)."""
        key = slug(f"{self.prefix}-{fig.key}" if self.prefix else fig.key)
        base, n = key, 1
        while key in self._used:
            n += 1
            key = f"{base}-{n}"
        self._used.add(key)
        fig.key = key
        if self.subject and self.subject not in fig.title:
            fig.title = f"{fig.title} — {self.subject}"
        self.figures.append(fig)
        cls = "fig wide" if fig.wide else "fig"
        return (
            f'<figure class="{cls}"><div class="fig-title">{esc(fig.title)}</div>'
            f'<div class="bl-fig" id="fig-{esc(key)}" '
            f'style="min-height:{fig.height}px"></div>'
            f'<figcaption><a href="figures/{esc(key)}.png">PNG</a></figcaption></figure>'
        )


def grid(items: list[str]) -> str:
    """Figures laid out in a responsive grid."""
    return f'<div class="fig-grid">{"".join(items)}</div>' if items else ""
