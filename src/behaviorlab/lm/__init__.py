"""Text models: one interface (`TextModel`) over our runs, local Hugging Face directories and GGUF
files. `load(spec)` opens one by its spec: `run:DIR` (or a bare run directory), `hf:DIR`,
`gguf:FILE` (transformers when its float32 model fits the memory budget, else llama.cpp),
`llama:FILE` (a GGUF file through llama.cpp, always), or a short alias (`smollm2`). Schemes and
aliases come from the registry, so a plugin can add its own adapter (`mybackend:PATH`)."""

from __future__ import annotations

from pathlib import Path

from behaviorlab import registry
from behaviorlab.errors import BadInput
from behaviorlab.lm.base import GREEDY, Completion, Decoding, ModelFacts, TextModel, cut_at_stop, facts, texts


def resolve_alias(spec: str) -> str:
    """The full spec an alias (registry kind `alias`) stands for; any other spec unchanged."""
    if spec not in registry.names("alias"):
        return spec
    return str(registry.load("alias", spec)())


def split_spec(spec: str) -> tuple[str, Path]:
    """`scheme:path` -> (scheme, path) for a registered adapter scheme; a bare existing directory
    is a run."""
    schemes = registry.names("adapter")
    scheme, sep, rest = spec.partition(":")
    if sep and scheme in schemes:
        if not rest:
            raise BadInput(f"model spec {spec!r}: missing the path after {scheme}:")
        return scheme, Path(rest)
    path = Path(spec)
    if path.is_dir():
        return "run", path
    known = ", ".join(f"{s}:PATH" for s in schemes)
    raise BadInput(f"model spec {spec!r}: expected {known} or a run directory")


def load(spec: str) -> TextModel:
    """Open the model a spec names; bad specs and unreadable models are one-line BadInput."""
    scheme, path = split_spec(resolve_alias(spec))
    model: TextModel = registry.load("adapter", scheme)(path)
    return model


__all__ = [
    "GREEDY",
    "Completion",
    "Decoding",
    "ModelFacts",
    "TextModel",
    "cut_at_stop",
    "facts",
    "load",
    "resolve_alias",
    "split_spec",
    "texts",
]
