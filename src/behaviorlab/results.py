"""Typed results: what a probe, a behavior score or an imitation claim found, in one shape that
results.json, the report, the CLI table, exports and the results sinks all read.

A `Finding` has a headline `Estimate` (stats.py makes every estimate), a one-line verdict, a
table of `Row`s (the conditions it varied as keys, what it measured there as estimates), plots
declared over that table, the behaviour score, notes, and — for a claim — whether it held.
Standard library and stats only (no torch): reports and exports read findings without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from behaviorlab.stats import Estimate

SHARE_RANGE = (-0.02, 1.02)  # the y range of a plot of shares


@dataclass
class Row:
    """One row of a finding's table: the condition (`keys`), the estimates measured there
    (`values`, by name: `rate` first), and plain numbers beside them (`extra`)."""

    keys: dict[str, Any]
    values: dict[str, Estimate]
    extra: dict[str, Any] = field(default_factory=dict)

    def flat(self) -> dict[str, Any]:
        """One flat record (keys, then each estimate as NAME, NAME_lo, NAME_hi, NAME_n and, for a
        share, NAME_k, then extras) for tables, CSV and sinks."""
        out = dict(self.keys)
        for name, e in self.values.items():
            out |= {name: e.estimate, f"{name}_lo": e.ci_low, f"{name}_hi": e.ci_high, f"{name}_n": e.n}
            if e.k is not None:
                out[f"{name}_k"] = e.k
        return out | self.extra

    def to_json(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {
            "keys": self.keys,
            "values": {k: e.to_json() for k, e in self.values.items()},
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Row:
        """The inverse of `to_json`."""
        values = {k: Estimate.from_json(v) for k, v in d.get("values", {}).items()}
        return cls(dict(d.get("keys", {})), values, dict(d.get("extra", {})))


@dataclass
class Plot:
    """A figure declared over a finding's table: x is a key column, each series one value of `by`
    (or one series) for each named estimate in `values` (name -> label; "" labels by the group)."""

    key: str
    title: str
    x: str
    x_label: str
    y_label: str
    values: dict[str, str] = field(default_factory=lambda: {"rate": ""})
    by: str | None = None
    where: dict[str, list[Any]] = field(default_factory=dict)  # rows kept: key -> allowed values
    names: dict[str, str] = field(default_factory=dict)  # group value -> series name
    dashed: tuple[str, ...] = ()  # series names or value names drawn dashed
    kind: str = "line"  # or "bar"
    y_range: tuple[float, float] | None = SHARE_RANGE
    log_x: bool = False
    categorical_x: bool = False

    def series(self, rows: Sequence[Row]) -> list[dict[str, Any]]:
        """The plot's series (name, x, y, lo, hi, kind, dashed) from table rows; rows without the
        x column or without an estimate are left out."""
        kept = [r for r in rows if self.x in r.keys and self._keeps(r)]
        groups = list(dict.fromkeys(None if self.by is None else r.keys.get(self.by) for r in kept))
        out = []
        for group in groups:
            mine = [r for r in kept if self.by is None or r.keys.get(self.by) == group]
            for value, label in self.values.items():
                pts = [r for r in mine if value in r.values and r.values[value].defined]
                name = self._name(group, label)
                out.append(
                    {
                        "name": name,
                        "x": [r.keys[self.x] for r in pts],
                        "y": [r.values[value].estimate for r in pts],
                        "lo": [r.values[value].ci_low for r in pts],
                        "hi": [r.values[value].ci_high for r in pts],
                        "kind": self.kind,
                        "dashed": name in self.dashed or value in self.dashed,
                    }
                )
        return out

    def _keeps(self, row: Row) -> bool:
        return all(row.keys.get(k) in allowed for k, allowed in self.where.items())

    def _name(self, group: Any, label: str) -> str:
        if self.by is None:
            return label
        named = self.names.get(str(group), str(group))
        return named if not label else f"{named}: {label}"

    def to_json(self) -> dict[str, Any]:
        """Plain-dict form."""
        out = dict(self.__dict__)
        out["y_range"] = None if self.y_range is None else list(self.y_range)
        out["dashed"] = list(self.dashed)
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Plot:
        """The inverse of `to_json`."""
        y_range = d.get("y_range")
        fields = {**d, "dashed": tuple(d.get("dashed", ()))}
        fields["y_range"] = None if y_range is None else (float(y_range[0]), float(y_range[1]))
        return cls(**fields)


@dataclass
class BehaviorResult:
    """A behaviour B(x) scored against a model's outputs: I(M(X); B(X)), H(M(X) | B(X)), and the
    MDL objective, with B's description length in bits and its number of levels."""

    name: str
    description: str
    description_bits: float
    levels: int
    mi_bits: Estimate
    cond_entropy_bits: Estimate
    mdl: float

    def to_json(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {
            **{k: getattr(self, k) for k in ("name", "description", "description_bits", "levels", "mdl")},
            "mi_bits": self.mi_bits.to_json(),
            "cond_entropy_bits": self.cond_entropy_bits.to_json(),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BehaviorResult:
        """The inverse of `to_json`."""
        return cls(
            d["name"],
            d["description"],
            float(d["description_bits"]),
            int(d["levels"]),
            Estimate.from_json(d["mi_bits"]),
            Estimate.from_json(d["cond_entropy_bits"]),
            float(d["mdl"]),
        )


@dataclass
class Finding:
    """What one probe (on one model), behavior or claim found."""

    name: str  # the probe, or the claim
    label: str  # what the headline measures
    headline: Estimate | None
    verdict: str  # one line computed from the numbers
    rows: list[Row] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # the rows' condition columns, in order
    plots: list[Plot] = field(default_factory=list)
    behavior: BehaviorResult | None = None
    notes: list[str] = field(default_factory=list)
    held: bool | None = None  # a claim: held, did not hold, or could not be checked
    info: dict[str, Any] = field(default_factory=dict)  # context (model, mode, settings, counts)

    def to_json(self) -> dict[str, Any]:
        """results.json's form."""
        return {
            "name": self.name,
            "label": self.label,
            "headline": None if self.headline is None else self.headline.to_json(),
            "verdict": self.verdict,
            "keys": self.keys,
            "rows": [r.to_json() for r in self.rows],
            "plots": [p.to_json() for p in self.plots],
            "behavior": None if self.behavior is None else self.behavior.to_json(),
            "notes": self.notes,
            "held": self.held,
            "info": self.info,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Finding:
        """The inverse of `to_json`."""
        head, beh = d.get("headline"), d.get("behavior")
        return cls(
            name=d["name"],
            label=d["label"],
            headline=None if head is None else Estimate.from_json(head),
            verdict=d["verdict"],
            rows=[Row.from_json(r) for r in d.get("rows", [])],
            keys=list(d.get("keys", [])),
            plots=[Plot.from_json(p) for p in d.get("plots", [])],
            behavior=None if beh is None else BehaviorResult.from_json(beh),
            notes=list(d.get("notes", [])),
            held=d.get("held"),
            info=dict(d.get("info", {})),
        )

    def table(self) -> list[dict[str, Any]]:
        """The rows as flat records."""
        return [r.flat() for r in self.rows]

    def scalars(self) -> dict[str, float]:
        """The numbers a results sink logs as scalars: the headline with its interval, and the MI."""
        out: dict[str, float] = {}
        head = self.headline
        if head is not None and head.estimate is not None:
            out["headline"] = head.estimate
            for name, v in (("headline_lo", head.ci_low), ("headline_hi", head.ci_high)):
                if v is not None:
                    out[name] = v
        if self.behavior is not None and self.behavior.mi_bits.estimate is not None:
            out["mi_bits"] = self.behavior.mi_bits.estimate
        return out


def headline_json(f: Finding) -> dict[str, Any]:
    """A finding's headline as one flat record: its label and the estimate's fields."""
    return {"label": f.label, **({} if f.headline is None else f.headline.to_json())}


def headline_number(head: dict[str, Any] | Estimate | None) -> str:
    """A headline share as "40% [20–60%]"; "n/a (no cases)" over zero cases, "—" when a finding
    has no headline (read from either shape)."""
    e = Estimate.from_json(head) if isinstance(head, dict) and "estimate" in head else head
    if not isinstance(e, Estimate):
        return "—"
    if e.estimate is None:
        return "n/a (no cases)" if not e.excluded else f"n/a (none of {e.excluded} usable)"
    return f"{100 * e.estimate:.0f}% [{100 * (e.ci_low or 0):.0f}–{100 * (e.ci_high or 0):.0f}%]"
