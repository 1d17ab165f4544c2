"""The results sink every producer writes through: `log_scalar`, `log_table`, `log_artifact`.

The run directory is the record of truth and is written by its producer as always; a `Tracker`
sends the same results to the optional sinks a config names. A sink that fails — its library
missing, its disk full — is dropped with one warning line, and the run goes on: the run
directory's record never depends on it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from behaviorlab import registry
from behaviorlab.errors import BadInput

Row = Mapping[str, Any]
Say = Callable[[str], None]


class Sink(Protocol):
    """Somewhere results go: scalars by name and step, tables of rows, files."""

    def log_scalar(self, name: str, value: float, step: int) -> None:
        """One number of a series (`split/metric` for training curves)."""
        ...

    def log_table(self, name: str, rows: Sequence[Row]) -> None:
        """A table of flat rows."""
        ...

    def log_artifact(self, path: Path) -> None:
        """A file as it is."""
        ...

    def close(self) -> None:
        """Flush and release."""
        ...


def warn(line: str) -> None:
    """A warning on stderr, one line."""
    sys.stderr.write("warning: " + " ".join(line.split()) + "\n")


class Tracker:
    """The optional sinks of one run, each call sent to every sink still working."""

    def __init__(self, sinks: Mapping[str, Sink] | None = None, say: Say = warn) -> None:
        self.sinks = dict(sinks or {})
        self.say = say

    def _each(self, call: Callable[[Sink], None]) -> None:
        for name, sink in list(self.sinks.items()):
            try:
                call(sink)
            except Exception as e:  # whatever a sink's library raises, the run goes on without it
                self._drop(name, e)

    def _drop(self, name: str, e: BaseException) -> None:
        self.sinks.pop(name, None)
        why = f"{type(e).__name__}: {e}".strip()
        self.say(f"results sink {name} failed ({why}); dropped, the run directory keeps the full record")

    def log_scalar(self, name: str, value: float, step: int) -> None:
        """A scalar to every sink."""
        self._each(lambda s: s.log_scalar(name, float(value), int(step)))

    def log_scalars(self, values: Mapping[str, float | None], step: int, prefix: str = "") -> None:
        """Every number of a mapping (None and non-numbers left out) as `PREFIX/name`."""
        for k, v in values.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                self.log_scalar(f"{prefix}/{k}" if prefix else k, v, step)

    def log_table(self, name: str, rows: Sequence[Row]) -> None:
        """A table to every sink."""
        self._each(lambda s: s.log_table(name, list(rows)))

    def log_artifact(self, path: Path) -> None:
        """A file to every sink."""
        self._each(lambda s: s.log_artifact(Path(path)))

    def close(self) -> None:
        """Close every sink (a failure to close is a warning too)."""
        self._each(lambda s: s.close())
        self.sinks.clear()


def open_sink(name: str, where: Path, run: str, options: Mapping[str, Any]) -> Sink:
    """A registered sink, opened for run `run`; `where` is its folder (or the run directory)."""
    cls = registry.load("sink", name)
    sink: Sink = cls(Path(where), run, dict(options))
    return sink


def open_tracker(
    names: Sequence[str], where: Path, run: str, options: Mapping[str, Any], say: Say = warn
) -> Tracker:
    """A Tracker over the named sinks; an unknown name is BadInput (before anything runs), a sink
    that cannot open is one warning line and the run goes on without it."""
    known = registry.names("sink")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BadInput(f"unknown results sink(s) {', '.join(unknown)}; expected some of {', '.join(known)}")
    tracker = Tracker(say=say)
    for name in dict.fromkeys(names):
        try:
            tracker.sinks[name] = open_sink(name, where, run, options)
        except Exception as e:  # a missing library, an unwritable folder: say so, keep training
            tracker._drop(name, e)
    return tracker
