"""Numbers and names from users, checked once for every door (CLI options, TOML configs, `--set`,
the Python API): the ranges their consumers accept, and user text made safe for a terminal.

- Every integer in a config fits SQLite's and Parquet's int64 (`Checked`, the base of every config
  model); seeds fit torch, numpy and int64 with room for the offsets code adds (`Seed`).
- Floats are finite wherever a number is needed (`Strict` configs; `check_float` for arguments).
- Names that become file names are `SafeName`s (no `/`, no leading dot: never `..`).
- `printable` escapes control characters before user text (run names, paths) reaches a terminal.
The CLI's option types (`cli/_common.py`) and a test that every numeric option is bounded build on
these constants."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from behaviorlab.errors import BadInput

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Seeds are drawn from [0, 2^62]: torch takes < 2^64, numpy >= 0, SQLite and Parquet int64, and
# code adds small offsets (seed + 1, seed + i) that must stay inside int64.
SEED_MAX = 2**62
# Largest count any size flag accepts before its pre-flight estimate (limits.py) has a say.
COUNT_MAX = 10**15  # far beyond any machine; the pre-flight (limits.py) refuses long before
SAFE_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"
MAX_THREADS = 1024  # torch starts every thread it is asked for: more than any machine has is an error

Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]
Threads = Annotated[int, Field(ge=1, le=MAX_THREADS)]
SafeName = Annotated[str, Field(pattern=SAFE_NAME)]


def _int64_everywhere(value: Any, where: str = "") -> None:
    """Raise ValueError for an int (also inside lists and dicts) outside the int64 range."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"{where}{value} is outside the 64-bit integer range (|n| < 2^63)")
    elif isinstance(value, dict):
        for k, v in value.items():
            _int64_everywhere(v, f"{k}: ")
    elif isinstance(value, list | tuple):
        for v in value:
            _int64_everywhere(v, where)


class Checked(BaseModel):
    """Base of every config model: each integer field, however nested, fits int64."""

    @field_validator("*", mode="after")
    @classmethod
    def _fits_int64(cls, value: Any) -> Any:
        _int64_everywhere(value)
        return value


class Strict(Checked):
    """A config read from TOML: unknown keys, `"30"` for 30 and inf/nan are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


def check_int(name: str, value: object, lo: int = 0, hi: int = COUNT_MAX) -> int:
    """`value` as an int in [lo, hi]; BadInput names the argument otherwise."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadInput(f"{name}: expected an integer, got {value!r}")
    if not lo <= value <= hi:
        raise BadInput(f"{name}: {value} is out of range {lo}..{hi}")
    return value


def check_seed(value: object, name: str = "seed") -> int:
    """A seed every consumer accepts (0..2^62)."""
    return check_int(name, value, 0, SEED_MAX)


def check_float(name: str, value: object, lo: float | None = None, hi: float | None = None) -> float:
    """`value` as a finite float within the bounds given; BadInput names the argument otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput(f"{name}: expected a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise BadInput(f"{name}: expected a finite number, got {value!r}")
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        bounds = f"{'-inf' if lo is None else lo}..{'inf' if hi is None else hi}"
        raise BadInput(f"{name}: {value} is out of range {bounds}")
    return x


def check_name(name: str, value: str) -> str:
    """A name that becomes a file or folder name (SAFE_NAME): BadInput otherwise."""
    if not re.match(SAFE_NAME, value):
        raise BadInput(f"{name}: {value!r} cannot be a file name (letters, digits, _ . -; no leading dot)")
    return value


def file_name(text: str) -> str:
    """A run name made safe as one folder name: other characters become `-`, no leading dot."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).lstrip(".-")[:100]
    return name or "run"


# C0 and C1 control characters except newline and tab, DEL, and the bidirectional overrides that
# make text display in another order than it reads.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control character written as an escape (`\\x1b`): safe on a terminal."""
    return _CONTROL.sub(_escape, text)
