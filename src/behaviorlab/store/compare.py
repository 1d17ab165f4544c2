"""Bit-level comparison of run artifacts (checkpoints by hash, Parquet rows with floats by
their bits) and the report a replay makes of what it compared."""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behaviorlab.io import read_parquet
from behaviorlab.rundir import CHECKPOINTS, DATA, METRICS, PREDICTIONS, read_manifest


@dataclass(frozen=True)
class Difference:
    """One artifact that is not bit-identical, and how."""

    artifact: str
    detail: str

    def __str__(self) -> str:
        return f"{self.artifact}: {self.detail}"


@dataclass
class ReplayReport:
    """What a replay compared, what differed, and environment warnings."""

    run_dir: Path
    mode: str  # "full" (retrain), "checkpoint" (re-score from the final checkpoint) or "probe"
    checked: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    replay_dir: Path | None = None  # kept only when asked

    @property
    def identical(self) -> bool:
        """True when every compared artifact is bit-identical."""
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "run_dir": str(self.run_dir),
            "mode": self.mode,
            "identical": self.identical,
            "checked": self.checked,
            "differences": [{"artifact": d.artifact, "detail": d.detail} for d in self.differences],
            "warnings": self.warnings,
            "replay_dir": str(self.replay_dir) if self.replay_dir else None,
        }


def same_value(a: Any, b: Any) -> bool:
    """Equality that is bitwise for floats (NaN equals NaN, 0.0 differs from -0.0)."""
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def _show(v: Any) -> str:
    if isinstance(v, float) and not math.isnan(v):
        return v.hex() if abs(v) < 1e-300 else repr(v)
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def compare_rows(name: str, recorded: Path, replayed: Path, limit: int = 5) -> list[Difference]:
    """Row-by-row, column-by-column comparison of two Parquet files; the first few differences."""
    if not recorded.is_file():
        return [Difference(name, "missing from the recorded run")]
    if not replayed.is_file():
        return [Difference(name, "missing from the replay")]
    a, b = read_parquet(recorded), read_parquet(replayed)
    if a.column_names != b.column_names:
        return [Difference(name, f"columns {a.column_names} vs {b.column_names}")]
    if a.num_rows != b.num_rows:
        return [Difference(name, f"{a.num_rows} rows recorded vs {b.num_rows} replayed")]
    diffs: list[Difference] = []
    for i, (ra, rb) in enumerate(zip(a.to_pylist(), b.to_pylist(), strict=True)):
        for col in a.column_names:
            if not same_value(ra[col], rb[col]):
                detail = f"row {i} column {col!r}: recorded {_show(ra[col])} vs replayed {_show(rb[col])}"
                diffs.append(Difference(name, detail))
                if len(diffs) >= limit:
                    return diffs
    return diffs


def same_safetensors(a: Path, b: Path) -> bool:
    """Same tensors, dtypes, shapes, metadata and data bytes, ignoring the header's key order.

    safetensors writes `__metadata__` from a Rust HashMap, whose order changes between processes,
    so two identical checkpoints can hash differently; everything else must match bit for bit.
    """
    ba, bb = a.read_bytes(), b.read_bytes()
    na, nb = struct.unpack("<Q", ba[:8])[0], struct.unpack("<Q", bb[:8])[0]
    try:
        ha, hb = json.loads(ba[8 : 8 + na]), json.loads(bb[8 : 8 + nb])
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return bool(ha == hb) and ba[8 + na :] == bb[8 + nb :]


def compare_checkpoints(
    recorded: Path, entries: list[dict[str, Any]], replayed: Path, notes: list[str] | None = None
) -> tuple[list[Difference], int]:
    """Manifest hashes of every recorded checkpoint (its manifest `entries`) vs the replay's; diffs
    and files checked. A .safetensors file whose hash differs only through header key order is
    noted, not a difference."""
    mine = {e["step"]: e for e in entries}
    theirs = {e["step"]: e for e in read_manifest(replayed / CHECKPOINTS)["checkpoints"]}
    if not mine:
        return [Difference("checkpoints", "the recorded run has no checkpoints")], 0
    diffs, checked = [], 0
    for step, entry in sorted(mine.items()):
        other = theirs.get(step)
        if other is None:
            diffs.append(
                Difference(f"{CHECKPOINTS}/{entry['dir']}", "no checkpoint at this step in the replay")
            )
            continue
        for fname, digest in sorted(entry["files"].items()):
            checked += 1
            got = other["files"].get(fname)
            a = recorded / CHECKPOINTS / entry["dir"] / fname
            b = replayed / CHECKPOINTS / other["dir"] / fname
            if got and got != digest and fname.endswith(".safetensors") and same_safetensors(a, b):
                if notes is not None:
                    notes.append(
                        f"{CHECKPOINTS}/{entry['dir']}/{fname}: identical content, header key order differs"
                    )
                continue
            if got != digest:
                shown = got[:12] + "…" if got else "missing"
                diffs.append(
                    Difference(
                        f"{CHECKPOINTS}/{entry['dir']}/{fname}",
                        f"sha256 recorded {digest[:12]}… vs replayed {shown}",
                    )
                )
    return diffs, checked


@dataclass
class Comparison:
    """What comparing a replay with its recording found."""

    differences: list[Difference] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def prediction_splits(path: Path) -> list[str]:
    """The splits a predictions file covers, in file order ([] when there is no file)."""
    if not path.is_file():
        return []
    return list(dict.fromkeys(read_parquet(path, columns=["split"]).column("split").to_pylist()))


def compare_predictions(recorded: Path, replayed: Path) -> list[Difference]:
    """predictions.parquet row by row (per-token log-probs by their bits)."""
    return compare_rows(PREDICTIONS, recorded, replayed)


def compare_records(
    recorded: Path, entries: list[dict[str, Any]], replayed: Path, *, predictions: bool
) -> Comparison:
    """A replayed training run against its recording: checkpoints by hash, then the data splits,
    metrics and (when recorded) predictions row by row."""
    out = Comparison()
    notes: list[str] = []
    diffs, n_files = compare_checkpoints(recorded, entries, replayed, notes)
    out.differences += diffs
    if notes:  # safetensors metadata order is not deterministic across processes
        out.warnings.append(
            f"{len(notes)} checkpoint file(s) match tensor for tensor but not byte for byte "
            "(safetensors metadata key order), e.g. " + notes[0]
        )
    out.checked.append(f"{n_files} checkpoint files (sha256)")
    for split in sorted(p.name for p in (recorded / DATA).glob("*.parquet")):
        out.differences += compare_rows(f"{DATA}/{split}", recorded / DATA / split, replayed / DATA / split)
    out.checked.append("data splits (rows)")
    out.differences += compare_rows(METRICS, recorded / METRICS, replayed / METRICS)
    out.checked.append(f"{METRICS} (rows)")
    if predictions:
        out.differences += compare_predictions(recorded / PREDICTIONS, replayed / PREDICTIONS)
        out.checked.append(f"{PREDICTIONS} (rows, per-token log-probs)")
    return out
