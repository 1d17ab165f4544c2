"""`open_hf`: a local Hugging Face model directory (causal LM or encoder-decoder) as a TextModel.

Everything that can be checked before loading is: the directory, config.json, weights, whether
transformers knows the architecture and has a language-model head for it, and whether the weights
fit in memory as float32. Each failure is one BadInput line naming the path. Nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from math import prod
from pathlib import Path
from typing import Any

# Before transformers (and huggingface_hub, which reads these at import) is imported anywhere here.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import torch  # noqa: E402

from behaviorlab.errors import BadInput  # noqa: E402
from behaviorlab.io import safetensors_header  # noqa: E402
from behaviorlab.limits import available_memory  # noqa: E402
from behaviorlab.lm.hf_model import HFModel  # noqa: E402

GiB = 1024**3
# Files a tokenizer is read from; transformers builds an empty default tokenizer when none is there.
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
    "vocab.json",
    "vocab.txt",
    "tokenizer.tiktoken",
)


def open_hf(path: Path) -> HFModel:
    """Open a local transformers model directory; `hf:ABS_PATH` reopens it."""
    path = Path(path).expanduser().absolute()
    check_model_dir(path)
    return load_dir(path, spec=f"hf:{path}", name=path.name)


def load_dir(path: Path, *, spec: str, name: str) -> HFModel:
    """Config, memory, tokenizer, then weights (float32); a checked directory in, a model out."""
    import transformers

    config = read_config(path)
    auto = model_class(path, config)
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise BadInput(f"{path}: no tokenizer files (none of {', '.join(TOKENIZER_FILES)})")
    check_memory(path, weight_bytes(path, config))
    with quiet():
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
        except Exception as err:  # tokenizer loaders raise many types (OSError, ValueError, TypeError...)
            raise BadInput(f"{path}: no usable tokenizer ({first_line(err)})") from err
        try:
            model = auto.from_pretrained(path, local_files_only=True, dtype=torch.float32)
        except (OSError, ValueError, RuntimeError) as err:  # damaged or mismatched weight files
            raise BadInput(f"{path}: cannot load the weights ({first_line(err)})") from err
    return HFModel(model, tokenizer, spec=spec, name=name)


# --- checks ---------------------------------------------------------------------------------------


def check_model_dir(path: Path) -> None:
    """The path is a directory with config.json and weights."""
    if not path.exists():
        raise BadInput(f"{path}: no such file or directory")
    if not path.is_dir():
        hint = " (for a GGUF file use gguf:PATH)" if path.suffix == ".gguf" else ""
        raise BadInput(f"{path}: not a directory; a Hugging Face model is a directory with config.json{hint}")
    if not (path / "config.json").is_file():
        raise BadInput(f"{path}: not a Hugging Face model directory (no config.json)")
    if not weight_files(path):
        raise BadInput(f"{path}: no weights (no *.safetensors or pytorch_model*.bin)")


def weight_files(path: Path) -> list[Path]:
    """The files transformers would read weights from: safetensors if any, else torch .bin."""
    safe = sorted(path.glob("*.safetensors"))
    return safe or sorted(path.glob("pytorch_model*.bin"))


def read_config(path: Path) -> Any:
    """AutoConfig of the directory; an unknown `model_type` is named in the error."""
    import transformers

    try:
        raw = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as err:
        raise BadInput(f"{path}: config.json is not readable JSON ({first_line(err)})") from err
    model_type = raw.get("model_type") if isinstance(raw, dict) else None
    try:
        return transformers.AutoConfig.from_pretrained(path, local_files_only=True)
    except (ValueError, KeyError) as err:
        raise BadInput(
            f"{path}: transformers {transformers.__version__} cannot read model_type {model_type!r} "
            f"({first_line(err)})"
        ) from err


def model_class(path: Path, config: Any) -> Any:
    """AutoModelForSeq2SeqLM or AutoModelForCausalLM, whichever has a head for this config."""
    import transformers
    from transformers.models.auto import modeling_auto as auto

    seq2seq = bool(getattr(config, "is_encoder_decoder", False))
    mapping = auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING if seq2seq else auto.MODEL_FOR_CAUSAL_LM_MAPPING
    if type(config) not in mapping:
        kind = "seq2seq" if seq2seq else "causal"
        raise BadInput(
            f"{path}: model_type {config.model_type!r} has no {kind} language-model head in transformers"
        )
    return transformers.AutoModelForSeq2SeqLM if seq2seq else transformers.AutoModelForCausalLM


def weight_bytes(path: Path, config: Any) -> int:
    """Bytes the weights take as float32: parameter counts from safetensors headers, else .bin sizes."""
    files = weight_files(path)
    if files[0].suffix == ".safetensors":
        return 4 * sum(safetensors_params(f) for f in files)
    half = str(getattr(config, "dtype", None) or getattr(config, "torch_dtype", "")) in (
        "torch.float16",
        "torch.bfloat16",
        "float16",
        "bfloat16",
    )
    return sum(f.stat().st_size for f in files) * (2 if half else 1)


def safetensors_params(file: Path) -> int:
    """Parameter count from a safetensors header, after checking the file against it (a truncated
    or damaged file is one BadInput line naming it, before transformers reads it)."""
    header = safetensors_header(file)
    return sum(prod(v["shape"]) for k, v in header.items() if k != "__metadata__")


def check_memory(path: Path, needed: int) -> None:
    """BadInput when `needed` bytes (plus a 10% margin for activations) exceed the memory budget."""
    if not fits(needed):
        raise BadInput(
            f"{path}: needs about {needed / GiB:.1f} GiB as float32, "
            f"only {(memory_budget() or 0) / GiB:.1f} GiB of memory available"
        )


def fits(needed: int) -> bool:
    """Whether `needed` bytes, plus a 10% margin for activations, fit in the memory budget."""
    budget = memory_budget()
    return budget is None or needed * 1.1 <= budget


BUDGET_ENV = "BEHAVIORLAB_MEMORY_BUDGET"
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": GiB, "t": 1024**4}


def memory_budget() -> int | None:
    """Bytes a model may take: the available memory, or `$BEHAVIORLAB_MEMORY_BUDGET` (e.g. `6GiB`,
    `500M`, bytes) when that is lower; None when neither is known."""
    free = available_memory()
    raw = os.environ.get(BUDGET_ENV, "").strip()
    if not raw:
        return free
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?", raw.lower())
    if found is None:
        raise BadInput(f"${BUDGET_ENV}={raw!r}: expected a size such as 6GiB, 500M or 1000000")
    cap = int(float(found.group(1)) * _UNITS[found.group(2)])
    return cap if free is None else min(cap, free)


# --- helpers --------------------------------------------------------------------------------------


def first_line(err: BaseException) -> str:
    """An exception's message squeezed to one short line."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."


@contextmanager
def quiet() -> Iterator[None]:
    """Silence transformers' progress bars and info/warning logs while loading, then restore them."""
    from transformers.utils import logging

    bars, level = logging.is_progress_bar_enabled(), logging.get_verbosity()
    logging.disable_progress_bar()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)
        if bars:
            logging.enable_progress_bar()
