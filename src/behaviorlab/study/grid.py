"""The recursion study's grid: binary successor (both orders) and tree traversal (preorder and
inorder; end to end and 1-, 2-, 3-step reductions), × learning rates × positional encodings ×
seeds, as validated experiment configs. The demo trains a few of the same configs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from behaviorlab.train import ExperimentConfig
from behaviorlab.train.config import validate

MODEL: dict[str, Any] = {"d_model": 64, "n_heads": 4, "enc_layers": 2, "dec_layers": 2, "d_ff": 128}
LRS = (3e-3, 1e-3)
POSITIONS = ("learned", "sinusoidal")
SEEDS = (0, 1, 2)
TREE_STEPS = ("1", "2", "3", "all")


def train_section(steps: int, seed: int = 0) -> dict[str, Any]:
    """Early stop at 100% on the training monitor, within `steps`."""
    return {
        "steps": steps,
        "batch_size": 64,
        "warmup": 50,
        "eval_every": 100,
        "checkpoint_every": 250,
        "target_accuracy": 1.0,
        "seed": seed,
    }


def binary_raw(
    order: str, *, lr: float, steps: int, name: str, seed: int = 0, pos: str = "learned"
) -> dict[str, Any]:
    """Binary successor: 1..10 bits in training; unseen numbers of those lengths (ID); 11..12 (OOD)."""
    return {
        "name": name,
        "data": {
            "task": "binary-successor",
            "options": {"order": order},
            "seed": 0,
            "splits": [
                {"name": "train", "n": 700, "min_size": 1, "max_size": 10, "edge_fraction": 0.05},
                {"name": "test_id", "n": 200, "min_size": 1, "max_size": 10},
                {"name": "test_ood", "n": 300, "min_size": 11, "max_size": 12},
            ],
        },
        "model": {**MODEL, **({"pos_encoding": pos} if pos != "learned" else {})},
        "optim": {"name": "adamw", "lr": lr, "weight_decay": 0.01},
        "train": train_section(steps, seed),
    }


def tree_raw(
    traversal: str,
    steps_option: str,
    *,
    lr: float,
    steps: int,
    name: str,
    seed: int = 0,
    pos: str = "learned",
) -> dict[str, Any]:
    """Tree traversal: trees of 1..4 nodes in training and ID tests, 5..6 out of distribution."""
    return {
        "name": name,
        "data": {
            "task": f"tree-{traversal}",
            "options": {"steps": steps_option},
            "seed": 0,
            "splits": [
                {"name": "train", "n": 1500, "min_size": 1, "max_size": 4},
                {"name": "test_id", "n": 200, "min_size": 1, "max_size": 4},
                {"name": "test_ood", "n": 200, "min_size": 5, "max_size": 6},
            ],
        },
        "model": {**MODEL, **({"pos_encoding": pos} if pos != "learned" else {})},
        "optim": {"name": "adamw", "lr": lr, "weight_decay": 0.01},
        "train": train_section(steps, seed),
    }


@dataclass(frozen=True)
class Cell:
    """One cell of the grid: a task (with its option), a learning rate, a positional encoding."""

    family: str  # "binary" or "tree"
    task: str  # binary-successor/natural, tree-inorder/steps=1, ...
    option: str  # the order, or the number of reduction steps ("all" = end to end)
    lr: float
    pos: str

    @property
    def key(self) -> str:
        """A readable, file-safe key, e.g. `tree-inorder-steps1@lr0.003-learned`."""
        return f"{self.task.replace('/', '-').replace('=', '')}@lr{self.lr:g}-{self.pos}"

    def fields(self) -> dict[str, Any]:
        """What a cell summary says about the setting."""
        return {
            "family": self.family,
            "task": self.task,
            "option": self.option,
            "lr": self.lr,
            "pos": self.pos,
        }

    def config(self, seed: int, quick: bool) -> ExperimentConfig:
        """The validated config of this cell for one seed."""
        name = f"{self.key}-s{seed}"
        if self.family == "binary":
            raw = binary_raw(
                self.option, lr=self.lr, steps=600 if quick else 1500, name=name, seed=seed, pos=self.pos
            )
        else:
            traversal = self.task.split("/")[0].removeprefix("tree-")
            steps = 500 if quick else 1200
            raw = tree_raw(
                traversal, self.option, lr=self.lr, steps=steps, name=name, seed=seed, pos=self.pos
            )
        return validate(raw, f"study:{name}")


def cells(quick: bool) -> list[Cell]:
    """The grid's cells: the full study, or a small version (same claims, fewer settings)."""
    binary = [("binary", f"binary-successor/{o}", o) for o in ("natural", "reverse")]
    traversals = ("inorder",) if quick else ("preorder", "inorder")
    steps = ("1", "all") if quick else TREE_STEPS
    tree = [("tree", f"tree-{t}/steps={s}", s) for t in traversals for s in steps]
    positions = POSITIONS[:1] if quick else POSITIONS
    # The quick grid keeps both learning rates for binary successor (the lr claim needs them).
    out = [Cell(f, t, o, lr, pos) for (f, t, o), lr, pos in itertools.product(binary, LRS, positions)]
    tree_lrs = LRS[:1] if quick else LRS
    return out + [
        Cell(f, t, o, lr, pos) for (f, t, o), lr, pos in itertools.product(tree, tree_lrs, positions)
    ]


def jobs(quick: bool, seeds: tuple[int, ...] = SEEDS) -> list[tuple[Cell, int, ExperimentConfig]]:
    """Every (cell, seed, config), slowest family first so a pool starts the long runs early."""
    out = [(c, s, c.config(s, quick)) for c in cells(quick) for s in seeds]
    return sorted(out, key=lambda j: j[0].family != "tree")
