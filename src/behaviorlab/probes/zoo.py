"""A model zoo: a TOML file listing models with per-model settings, and the job that runs one
model × probe part of a probe run in a worker process (a local pool or a Ray task).

```toml
[[model]]
spec = "runs/demo/binary-successor-natural"   # run:DIR (or a run dir), hf:DIR, gguf:FILE, llama:FILE
name = "transformer"                          # optional table label (default: the model's own name)

[[model]]
spec = "smollm2"
chat = false          # optional: chat template on/off (default: when the model has one)
context = 512         # optional: at most this many positions (prompts beyond it are skipped)
backend = "llama.cpp" # optional for GGUF files: "auto" (default), "transformers" or "llama.cpp"
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from behaviorlab.errors import BadInput
from behaviorlab.io import read_toml
from behaviorlab.lm import TextModel, load, resolve_alias, split_spec

Backend = Literal["auto", "transformers", "llama.cpp"]


class ZooModel(BaseModel):
    """One model of a zoo and its settings."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    spec: str = Field(min_length=1)
    name: str | None = None
    chat: bool | None = None
    context: int | None = Field(None, ge=16)
    backend: Backend = "auto"

    def settings(self) -> dict[str, Any]:
        """The settings that differ from the defaults (what a run's config records)."""
        return self.model_dump(exclude_defaults=True, exclude={"spec"})


def load_zoo(path: Path) -> list[ZooModel]:
    """The models a zoo file lists, in order; BadInput names the file and the bad entry."""
    raw = read_toml(Path(path))
    unknown = sorted(set(raw) - {"model"})
    if unknown:
        raise BadInput(f"{path}: unknown key(s) {', '.join(unknown)}; a zoo lists [[model]] tables")
    entries = raw.get("model")
    if not isinstance(entries, list) or not entries:
        raise BadInput(f'{path}: no models; list each as a [[model]] table with spec = "..."')
    out = []
    for i, entry in enumerate(entries, 1):
        try:
            out.append(ZooModel.model_validate(entry))
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "entry"
            raise BadInput(f"{path}: model {i}: {where}: {first['msg']}") from None
    return out


def open_entry(entry: ZooModel) -> TextModel:
    """Open a zoo model with its backend and context settings."""
    spec = resolve_alias(entry.spec)
    if entry.backend != "auto":
        scheme, path = split_spec(spec)
        if scheme not in ("gguf", "llama"):
            raise BadInput(f"model {entry.spec!r}: backend {entry.backend!r} is only for GGUF files")
        spec = f"{'llama' if entry.backend == 'llama.cpp' else 'gguf'}:{path}"
    model = load(spec)
    if entry.backend == "transformers" and not model.spec.startswith("gguf:"):
        raise BadInput(
            f"model {entry.spec!r}: its float32 model does not fit the memory budget for transformers"
        )
    if entry.context is not None:
        own = model.context_length
        # Adapters read context_length when they cut prompts and stop generating; a smaller bound is safe.
        model.context_length = entry.context if own is None else min(own, entry.context)
    if entry.name:
        model.name = entry.name
    return model
