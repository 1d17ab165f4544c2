"""One registry for everything a user may add without editing behaviorlab: tasks, model kinds,
probes, text-model adapters (spec schemes) and their short aliases, white-box architectures and
results sinks.

Every entry is a lazy `"module:object"` string, imported when first used. The built-ins are listed
below; a third-party package adds its own through the `behaviorlab.plugins` entry-point group, whose
entries name a dict of the same shape:

    # pyproject.toml of the plugin package
    [project.entry-points."behaviorlab.plugins"]
    mylab = "mylab:PLUGIN"

    # mylab/__init__.py
    PLUGIN = {"task": {"my-task": "mylab.task:MyTask"}, "probe": {"my-probe": "mylab.probe:MyProbe"}}

A name registered twice, a plugin that cannot be imported or a malformed entry is one BadInput
line naming the plugin. `BEHAVIORLAB_PLUGINS=0` runs without any plugin. Standard library only.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from behaviorlab.errors import BadInput

GROUP = "behaviorlab.plugins"
KINDS = ("task", "model", "probe", "adapter", "alias", "architecture", "sink")
WHAT = {  # how an error names an entry of each kind
    "task": "task",
    "model": "model kind",
    "probe": "probe",
    "adapter": "model spec scheme",
    "alias": "model alias",
    "architecture": "white-box architecture",
    "sink": "results sink",
}

BUILTIN: dict[str, dict[str, str]] = {
    "task": {
        "peano-add": "behaviorlab.tasks.peano:PeanoAdd",
        "binary-successor": "behaviorlab.tasks.binary:BinarySuccessor",
        "tree-preorder": "behaviorlab.tasks.traversal:TreePreorder",
        "tree-inorder": "behaviorlab.tasks.traversal:TreeInorder",
    },
    "model": {  # Seq2SeqModel subclasses, built by models.build_model
        "encoder-decoder": "behaviorlab.models.encoder_decoder:EncoderDecoder",
        "decoder-only": "behaviorlab.models.decoder_only:DecoderOnly",
        "encoder-only": "behaviorlab.models.encoder_only:EncoderOnly",
        "lstm": "behaviorlab.models.lstm:RNNSeq2Seq",
    },
    "probe": {  # Probe subclasses, in the order `behaviorlab probe` runs them by default
        "copying": "behaviorlab.probes.copying:Copying",
        "repetition": "behaviorlab.probes.repetition:Repetition",
        "noise": "behaviorlab.probes.noise:Noise",
        "icl": "behaviorlab.probes.icl:Icl",
        "consistency": "behaviorlab.probes.consistency:Consistency",
    },
    "adapter": {  # scheme -> function(path) returning a TextModel (`SCHEME:PATH` specs)
        "run": "behaviorlab.lm.run:open_run_model",
        "hf": "behaviorlab.lm.hf:open_hf",
        "gguf": "behaviorlab.lm.gguf_to_hf:open_gguf",
        "llama": "behaviorlab.lm.llamacpp:open_llama",
    },
    "alias": {  # short name -> function returning the spec it stands for
        "smollm2": "behaviorlab.lm.gguf_to_hf:smollm2_spec",
    },
    "architecture": {},  # Hugging Face architecture -> its hook alias map (white-box models)
    "sink": {  # name -> Sink class (results sinks beside the run directory)
        "tensorboard": "behaviorlab.track.tensorboard:TensorBoardSink",
        "mlflow": "behaviorlab.track.mlflow:MlflowSink",
        "csv": "behaviorlab.track.files:CsvSink",
        "parquet": "behaviorlab.track.files:ParquetSink",
    },
}


@dataclass(frozen=True)
class Entry:
    """One registered name: its kind, the `module:object` it stands for and who registered it."""

    kind: str
    name: str
    target: str
    source: str  # "behaviorlab" or "plugin NAME (DISTRIBUTION)"


def _check_target(target: object, where: str) -> str:
    if not isinstance(target, str) or target.count(":") != 1 or not all(target.split(":")):
        raise BadInput(f"{where}: expected a 'module:object' string, got {target!r}")
    return target


def _plugin_entries(ep: EntryPoint) -> list[Entry]:
    """The entries one plugin declares; BadInput names the plugin when it is broken or malformed."""
    from behaviorlab.validate import SAFE_NAME  # (pydantic with it: only when there are plugins)

    dist = ep.dist.name if ep.dist is not None else "?"
    source = f"plugin {ep.name} ({dist})"
    hint = f"{GROUP} entry point {ep.name} = {ep.value!r} of {dist}"
    try:
        declared = ep.load()
    except Exception as e:  # any import failure of someone else's package: say which, and why
        raise BadInput(
            f"{hint}: cannot be loaded: {type(e).__name__}: {e} (BEHAVIORLAB_PLUGINS=0 runs without plugins)"
        ) from None
    if callable(declared):
        declared = declared()
    if not isinstance(declared, dict):
        got = type(declared).__name__
        raise BadInput(f"{hint}: expected a dict of kind -> {{name: 'module:object'}}, got {got}")
    out = []
    for kind, names in declared.items():
        if kind not in KINDS or not isinstance(names, dict):
            raise BadInput(f"{hint}: unknown kind {kind!r} (or not a dict); kinds: {', '.join(KINDS)}")
        for n, t in names.items():
            if not isinstance(n, str) or not re.match(SAFE_NAME, n):  # names become file names (parts)
                raise BadInput(f"{hint}: {kind} name {n!r} is not a plain name (letters, digits, _ . -)")
            out.append(Entry(kind, n, _check_target(t, f"{hint}: {kind} {n!r}"), source))
    return out


def plugins_enabled() -> bool:
    """False when BEHAVIORLAB_PLUGINS is 0, false or no."""
    return os.environ.get("BEHAVIORLAB_PLUGINS", "1").strip().lower() not in ("0", "false", "no")


@functools.cache
def _table() -> dict[str, dict[str, Entry]]:
    """kind -> name -> Entry: the built-ins, then every plugin's entries (entry points by name)."""
    table = {k: {n: Entry(k, n, t, "behaviorlab") for n, t in BUILTIN[k].items()} for k in KINDS}
    if not plugins_enabled():
        return table
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        for entry in _plugin_entries(ep):
            known = table[entry.kind].get(entry.name)
            if known is not None:
                what = f"{WHAT[entry.kind]} {entry.name!r}"
                raise BadInput(f"{entry.source}: {what} is already registered by {known.source}")
            table[entry.kind][entry.name] = entry
    return table


def reset() -> None:
    """Forget the plugins read so far (after installing one in this process; tests)."""
    _table.cache_clear()


def entries(kind: str) -> dict[str, Entry]:
    """Every entry of a kind, built-ins first."""
    return dict(_table()[kind])


def names(kind: str) -> list[str]:
    """The registered names of a kind, built-ins first."""
    return list(_table()[kind])


def load(kind: str, name: str) -> Any:
    """The object a name stands for, imported now; BadInput lists the names of the kind when it is
    unknown and names the plugin when its module does not import."""
    table = _table()[kind]
    if name not in table:
        raise BadInput(f"unknown {WHAT[kind]} {name!r}; expected one of {', '.join(table) or '(none)'}")
    entry = table[name]
    module, obj = entry.target.split(":")
    try:
        return getattr(importlib.import_module(module), obj)
    except (ImportError, AttributeError) as e:
        raise BadInput(f"{WHAT[kind]} {name!r} ({entry.source}): cannot import {entry.target}: {e}") from None
