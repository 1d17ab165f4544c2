"""The demo's experiments as configs: binary successor (both orders), a tree reduction, lr variants.

They are cells of the recursion study's grid (`study.grid`), trained once with seed 0."""

from __future__ import annotations

from typing import Any

from behaviorlab.study.grid import binary_raw as study_binary
from behaviorlab.study.grid import tree_raw
from behaviorlab.train import ExperimentConfig
from behaviorlab.train.config import validate


def binary_raw(order: str, quick: bool, lr: float = 3e-3, name: str | None = None) -> dict[str, Any]:
    """The demo's binary model (400 steps with --quick, else 1500, early stop at 100%)."""
    return study_binary(order, lr=lr, steps=400 if quick else 1500, name=name or f"binary-successor-{order}")


def _tree(quick: bool) -> dict[str, Any]:
    return tree_raw("inorder", "1", lr=3e-3, steps=300 if quick else 1200, name="tree-inorder-steps1")


def _finish(raws: dict[str, dict[str, Any]], optimizer: str) -> dict[str, ExperimentConfig]:
    out = {}
    for key, raw in raws.items():
        if optimizer != "adamw":
            # Sophia clips most coordinates to sign steps of size lr at AdamW's rates on these
            # small models; a tenth of AdamW's lr converged best in BENCHMARKS.md. Weight decay
            # about twice AdamW's, as the Sophia authors advise.
            raw["optim"] = {"name": optimizer, "lr": raw["optim"]["lr"] / 10, "weight_decay": 0.02}
        out[key] = validate(raw, f"demo:{key}")
    return out


def demo_configs(quick: bool, optimizer: str = "adamw") -> dict[str, ExperimentConfig]:
    """The demo's main models keyed TASK/OPTION, validated."""
    # The tree model is the slowest: listed first so the process pool starts it first.
    raws = {
        "tree-inorder/steps=1": _tree(quick),
        "binary-successor/natural": binary_raw("natural", quick),
        "binary-successor/reverse": binary_raw("reverse", quick),
    }
    return _finish(raws, optimizer)


def lr_configs(optimizer: str = "adamw", lr: float = 1e-3) -> dict[str, ExperimentConfig]:
    """The binary models again at a lower learning rate, for the shortcut comparison."""
    name = "binary-successor-{}-lr{:g}"
    raws = {
        f"binary-successor/{order}@lr={lr:g}": binary_raw(order, False, lr, name.format(order, lr))
        for order in ("natural", "reverse")
    }
    return _finish(raws, optimizer)


def lstm_configs(quick: bool, optimizer: str = "adamw") -> dict[str, ExperimentConfig]:
    """An LSTM on the natural-order binary task: the non-transformer comparator the probes use."""
    raw = binary_raw("natural", quick, name="binary-successor-natural-lstm")
    raw["model"] = {**raw["model"], "kind": "lstm"}
    return _finish({"binary-successor/natural@lstm": raw}, optimizer)
