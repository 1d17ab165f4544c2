"""Sweep files: a base experiment plus `[grid]` (cartesian) and/or `[[list]]` overrides.

    base = "binary-reverse.toml"     # relative to the sweep file; or an inline [base] table
    name = "binary-lr"               # optional; names the default output folder
    [set]                            # optional overrides applied to every run
    "train.steps" = 200
    [grid]                           # every combination of these
    "optim.lr" = [1e-3, 3e-3]
    "train.seed" = [0, 1]
    [[list]]                         # alternatives, each crossed with the grid
    "model.d_model" = 32

Keys are dotted config paths; bare dotted keys (optim.lr = ...) mean the same as quoted ones.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.io import read_toml
from behaviorlab.limits import Need, require
from behaviorlab.train.budget import JOB_BYTES
from behaviorlab.train.config import ExperimentConfig, validate

TOP_KEYS = {"base", "name", "set", "grid", "list"}


@dataclass(frozen=True)
class SweepRun:
    """One expanded run: the overrides that vary across the sweep and its validated config."""

    overrides: dict[str, Any]
    config: ExperimentConfig

    @property
    def digest(self) -> str:
        """The run's identity and directory name."""
        return self.config.digest()


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep file."""

    name: str
    source: Path
    runs: list[SweepRun]


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested TOML tables to dotted keys; lists and scalars are leaves."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def set_path(raw: dict[str, Any], dotted: str, value: Any, source: str) -> None:
    """Set `a.b.c` in a nested dict, creating tables on the way."""
    parts = dotted.split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise BadInput(f"{source}: {dotted!r}: {part!r} is not a table")
    node[parts[-1]] = copy.deepcopy(value)


def _base(doc: dict[str, Any], path: Path) -> tuple[dict[str, Any], Path]:
    """The base config and the folder its relative data paths start from (its file's)."""
    base = doc.get("base")
    if isinstance(base, dict):
        return base, path.parent
    if not isinstance(base, str):
        raise BadInput(f'{path}: needs `base = "config.toml"` (relative to the sweep file) or a [base] table')
    base_path = (path.parent / base).resolve()
    if not base_path.is_file():
        raise BadInput(f"{path}: base config {base_path} not found")
    return read_toml(base_path, "base config"), base_path.parent


def expand(doc: dict[str, Any], path: Path) -> list[SweepRun]:
    """Every run of the sweep, in order, duplicates (same digest) removed."""
    grid = flatten(doc.get("grid", {}))
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise BadInput(f"{path}: grid {key!r} must be a non-empty list of values")
    alternatives = [flatten(entry) for entry in doc.get("list", [{}])] or [{}]
    count = math.prod(len(v) for v in grid.values()) * len(alternatives)
    # Before expanding: every combination becomes a validated config held in memory.
    require(f"{path}: {count:,} runs", Need(memory=count * JOB_BYTES), hint="shorten [grid] or [[list]]")
    fixed = flatten(doc.get("set", {}))
    base, folder = _base(doc, path)
    runs: dict[str, SweepRun] = {}
    for combo in itertools.product(*grid.values()):
        for alt in alternatives:
            varying = {**dict(zip(grid.keys(), combo, strict=True)), **alt}
            raw = copy.deepcopy(base)
            for key, value in {**fixed, **varying}.items():
                set_path(raw, key, value, str(path))
            label = ", ".join(f"{k}={v}" for k, v in varying.items()) or "base"
            cfg = validate(raw, f"{path} [{label}]", base=folder)
            runs.setdefault(cfg.digest(), SweepRun(varying, cfg))
    return list(runs.values())


def load_sweep(path: Path) -> Sweep:
    """Read, expand and validate a sweep file; every run's config is checked up front."""
    doc = read_toml(path, "sweep file")
    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        raise BadInput(f"{path}: unknown key(s) {unknown}; expected {sorted(TOP_KEYS)}")
    if not isinstance(doc.get("list", []), list):
        raise BadInput(f"{path}: `list` must be an array of tables ([[list]])")
    name = str(doc.get("name") or path.stem)
    return Sweep(name, path, expand(doc, path))
