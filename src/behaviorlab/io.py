"""Atomic file writes and hashing: a killed process leaves the old file or the new one, never a torn one."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput


def umask_mode(mode: int = 0o666) -> int:
    """`mode` as the user's umask would leave it for a newly created file."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temp file beside `path`, fsync it, then rename it over `path`.

    The file gets the user's umask permissions (mkstemp alone would leave it owner-only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        tmp.chmod(umask_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write text atomically."""

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_write(path, write)


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write JSON (sorted keys, indented) atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_toml(path: Path, what: str = "file") -> dict[str, Any]:
    """A TOML file as a dict; BadInput names the file (and `what` it is) when it is missing or bad."""
    if not path.is_file():
        raise BadInput(f"{path}: {what} not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise BadInput(f"{path}: cannot read {what}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: not valid TOML: {e}") from None


def read_parquet(path: Path, columns: list[str] | None = None, drop: Sequence[str] = ()) -> Any:
    """A Parquet file as a pyarrow Table (`columns`, or all but `drop`: never read); BadInput names
    the file when it is missing or not Parquet (recorded data and run files are untrusted:
    validated at the door)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise BadInput(f"{path}: Parquet file not found")
    try:
        if drop:
            columns = [c for c in pq.read_schema(path).names if c not in drop]
        # ParquetFile, not read_table: read_table imports pyarrow.dataset and with it pandas
        # (~0.5 CPU-s), and every command that opens a run reads its splits here.
        return pq.ParquetFile(path).read(columns=columns)
    except (pa.ArrowException, OSError, ValueError) as e:
        raise BadInput(f"{path}: not a readable Parquet file ({' '.join(str(e).split())[:200]})") from None


# safetensors dtypes and their sizes in bytes (the format's own list).
_DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8, "C64": 8,
}  # fmt: skip
_MAX_HEADER = 100 * 1024**2  # the safetensors library's own limit


def safetensors_header(path: Path) -> dict[str, Any]:
    """The header of a safetensors file after checking the whole file against it: the header is a
    JSON object, every tensor has a known dtype and a shape, and the tensors' byte ranges tile the
    data exactly (a truncated or padded file is refused). BadInput names the file."""

    def bad(why: str) -> BadInput:
        return BadInput(f"{path}: not a valid safetensors file ({why})")

    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise bad("shorter than its 8-byte header length")
            n = int.from_bytes(head, "little")
            if n > min(_MAX_HEADER, size - 8):
                raise bad(f"header of {n} bytes in a file of {size}")
            header = json.loads(f.read(n))
    except OSError as e:
        raise BadInput(f"{path}: cannot read: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad("header is not JSON") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    spans = []
    for name, t in header.items():
        if name == "__metadata__":
            continue
        ok = isinstance(t, dict) and t.get("dtype") in _DTYPE_BYTES and isinstance(t.get("shape"), list)
        offsets = t.get("data_offsets") if ok else None
        if not ok or not isinstance(offsets, list) or len(offsets) != 2:
            raise bad(f"tensor {name!r} has no dtype, shape and data_offsets")
        if not all(isinstance(d, int) and d >= 0 for d in [*t["shape"], *offsets]):
            raise bad(f"tensor {name!r} has a negative or non-integer size")
        count = 1
        for d in t["shape"]:
            count *= d
        if offsets[1] - offsets[0] != count * _DTYPE_BYTES[t["dtype"]]:
            raise bad(f"tensor {name!r}: {offsets[1] - offsets[0]} bytes for its shape {t['shape']}")
        spans.append((offsets[0], offsets[1]))
    end = 0
    for lo, hi in sorted(spans):
        if lo != end:
            raise bad("tensor data overlaps or leaves gaps")
        end = hi
    if end != size - 8 - n:
        raise bad(f"{size - 8 - n} data bytes on disk, the header describes {end} (truncated?)")
    return header
