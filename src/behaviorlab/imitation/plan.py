"""The sweep points: imitation-data amount at the default base (each setting), base size at the
default amount (local, or the first setting)."""

from __future__ import annotations

from dataclasses import dataclass

from behaviorlab.imitation.config import ImitationConfig


@dataclass(frozen=True)
class Point:
    """One student: which imitation set (setting, amount) fine-tunes which base."""

    setting: str
    amount: int
    base: str

    @property
    def name(self) -> str:
        return f"{self.setting}-{self.amount}-{self.base}"


def points(cfg: ImitationConfig) -> list[Point]:
    """Every student of the experiment, each once, in a fixed order."""
    out = [Point(s, a, cfg.default_base) for s in cfg.queries.settings for a in cfg.sweep.amounts]
    first = "local" if "local" in cfg.queries.settings else cfg.queries.settings[0]
    out += [Point(first, cfg.default_amount, s.name) for s in cfg.base.sizes]
    return list(dict.fromkeys(out))
