"""Text models: one interface (`TextModel`) over our runs, local Hugging Face directories and GGUF
files. `load(spec)` opens one by its spec: `run:DIR` (or a bare run directory), `hf:DIR`,
`gguf:FILE`, or a short alias (`smollm2`)."""

from __future__ import annotations

import importlib
from pathlib import Path

from behaviorlab.errors import BadInput
from behaviorlab.lm.base import GREEDY, Completion, Decoding, TextModel, cut_at_stop, texts

# Scheme -> "module:function" taking the path; imported only when used (torch, transformers).
ADAPTERS: dict[str, str] = {
    "run": "behaviorlab.lm.run:open_run_model",
    "hf": "behaviorlab.lm.hf:open_hf",
    "gguf": "behaviorlab.lm.gguf:open_gguf",
}

# Short names -> "module:function" returning the spec they stand for (BadInput when not installed).
ALIASES: dict[str, str] = {
    "smollm2": "behaviorlab.lm.gguf:smollm2_spec",
}


def resolve_alias(spec: str) -> str:
    """The full spec an alias stands for; any other spec unchanged."""
    if spec not in ALIASES:
        return spec
    module, func = ALIASES[spec].split(":")
    return str(getattr(importlib.import_module(module), func)())


def split_spec(spec: str) -> tuple[str, Path]:
    """`scheme:path` -> (scheme, path); a bare existing directory is a run."""
    scheme, sep, rest = spec.partition(":")
    if sep and scheme in ADAPTERS:
        if not rest:
            raise BadInput(f"model spec {spec!r}: missing the path after {scheme}:")
        return scheme, Path(rest)
    path = Path(spec)
    if path.is_dir():
        return "run", path
    known = ", ".join(f"{s}:PATH" for s in ADAPTERS)
    raise BadInput(f"model spec {spec!r}: expected {known} or a run directory")


def load(spec: str) -> TextModel:
    """Open the model a spec names; bad specs and unreadable models are one-line BadInput.

    `SPEC#ablate=dec.3.h5,dec.4.h2` opens it with those attention heads zeroed (lm/white_box.py)."""
    base, sep, heads = spec.partition("#ablate=")
    scheme, path = split_spec(resolve_alias(base))
    module, func = ADAPTERS[scheme].split(":")
    opener = getattr(importlib.import_module(module), func)
    model: TextModel = opener(path)
    if sep:
        from behaviorlab.lm.white_box import with_ablation

        return with_ablation(model, heads)
    return model


__all__ = [
    "ADAPTERS",
    "ALIASES",
    "GREEDY",
    "Completion",
    "Decoding",
    "TextModel",
    "cut_at_stop",
    "load",
    "resolve_alias",
    "split_spec",
    "texts",
]
