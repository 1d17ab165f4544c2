"""The probes by CLI name (from the registry: the built-in ones and any a plugin adds), and
building one from its settings."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from behaviorlab import registry
from behaviorlab.errors import BadInput
from behaviorlab.probes.base import Probe


def names() -> list[str]:
    """Probe names in their fixed order (built-ins first): what `behaviorlab probe` runs by default."""
    return registry.names("probe")


def probe_class(name: str) -> type[Probe]:
    """The Probe class registered under `name`."""
    cls = registry.load("probe", name)
    if not (isinstance(cls, type) and issubclass(cls, Probe)):
        raise BadInput(f"probe {name!r}: {registry.entries('probe')[name].target} is not a Probe subclass")
    return cls


def parse_names(text: str) -> list[str]:
    """ "copying,noise" -> ["copying", "noise"] in the given order; BadInput lists the valid names."""
    known = names()
    chosen = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in known]
    if unknown or not chosen:
        what = f"unknown probe(s) {', '.join(unknown)}" if unknown else "no probe named"
        raise BadInput(f"{what}; expected a comma-separated list of {', '.join(known)}")
    return list(dict.fromkeys(chosen))


def make(name: str, settings: dict[str, Any] | None = None) -> Probe:
    """A probe by name with its config built from `settings` (BadInput on unknown or bad fields)."""
    cls = probe_class(parse_names(name)[0])
    try:
        return cls(cls.Config(**(settings or {})))
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise BadInput(f"probe {name}: setting {where}: {first['msg']}") from None
