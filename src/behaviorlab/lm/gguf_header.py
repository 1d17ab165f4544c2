"""A GGUF file's header, read before anything loads: the magic, a header whose tensors lie inside
the file, and the memory either backend would need (float32 weights for transformers; the file
itself plus a KV cache and a logits buffer for llama.cpp)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behaviorlab.errors import BadInput
from behaviorlab.lm.hf import first_line

MAGIC = b"GGUF"


def check_magic(path: Path) -> None:
    """The path is a file that starts with the GGUF magic."""
    if not path.exists():
        raise BadInput(f"{path}: no such file or directory")
    if not path.is_file():
        raise BadInput(
            f"{path}: not a file; a GGUF model is one .gguf file (for a model directory use hf:PATH)"
        )
    with path.open("rb") as f:
        if f.read(4) != MAGIC:
            raise BadInput(f"{path}: not a GGUF file (it does not start with the GGUF magic)")


def check_readable(path: Path) -> Any:
    """The `gguf.GGUFReader` of a file whose header reads, whose tensors lie inside it and which
    names its architecture (the reader memory-maps the file; nothing is copied)."""
    import gguf

    try:
        reader = gguf.GGUFReader(path)
        size = path.stat().st_size
        if any(t.data_offset + t.n_bytes > size for t in reader.tensors):
            raise ValueError("tensor data runs past the end of the file")
    except Exception as err:  # the reader fails in many ways on a damaged file (ValueError, IndexError...)
        raise BadInput(f"{path}: unreadable GGUF, truncated or corrupt ({first_line(err)})") from err
    if reader.fields.get("general.architecture") is None:
        raise BadInput(f"{path}: GGUF header has no general.architecture")
    return reader


def architecture(reader: Any) -> str:
    """The architecture a GGUF header names (llama.cpp's spelling)."""
    return str(reader.fields["general.architecture"].contents())


def float32_bytes(reader: Any) -> int:
    """Bytes of the dequantised (float32) weights, from the tensor shapes in the header."""
    return 4 * sum(int(t.n_elements) for t in reader.tensors)


def llama_bytes(path: Path, reader: Any, cells: int, batch: int = 512) -> int:
    """Bytes llama.cpp needs: the file (weights stay quantised), a float16 KV cache of `cells`
    positions and a float32 logits buffer of `batch` rows."""
    arch = architecture(reader)

    def num(key: str, default: int) -> int:
        field = reader.fields.get(f"{arch}.{key}")
        if field is None:
            return default
        value = field.contents()
        return int(max(value) if isinstance(value, list) else value)  # per-layer lists: the widest

    width = num("embedding_length", 0)
    heads = num("attention.head_count", 1) or 1
    kv_width = num("attention.head_count_kv", heads) * num("attention.key_length", width // heads)
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    vocab = len(tokens.data) if tokens is not None else 0
    kv = num("block_count", 0) * cells * 2 * kv_width * 2  # layers x cells x (K, V) x width x fp16
    return path.stat().st_size + kv + batch * vocab * 4
