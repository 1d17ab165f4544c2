"""The probes by CLI name, and building one from its settings."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from behaviorlab.errors import BadInput
from behaviorlab.probes.base import Probe
from behaviorlab.probes.consistency import Consistency
from behaviorlab.probes.copying import Copying
from behaviorlab.probes.icl import Icl
from behaviorlab.probes.noise import Noise
from behaviorlab.probes.repetition import Repetition

PROBES: dict[str, type[Probe]] = {p.name: p for p in (Copying, Repetition, Noise, Icl, Consistency)}


def names() -> list[str]:
    """Probe names in their fixed order."""
    return list(PROBES)


def parse_names(text: str) -> list[str]:
    """ "copying,noise" -> ["copying", "noise"] in the given order; BadInput lists the valid names."""
    chosen = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PROBES]
    if unknown or not chosen:
        what = f"unknown probe(s) {', '.join(unknown)}" if unknown else "no probe named"
        raise BadInput(f"{what}; expected a comma-separated list of {', '.join(PROBES)}")
    return list(dict.fromkeys(chosen))


def make(name: str, settings: dict[str, Any] | None = None) -> Probe:
    """A probe by name with its config built from `settings` (BadInput on unknown or bad fields)."""
    cls = PROBES[parse_names(name)[0]]
    try:
        return cls(cls.Config(**(settings or {})))
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise BadInput(f"probe {name}: setting {where}: {first['msg']}") from None
