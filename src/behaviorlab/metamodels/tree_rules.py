"""Term-level rules for tree tasks: guards over the nodes of a traversal term, and what a rule does
to a node's part of the output.

A tree program walks the input term like the reference reduction does: literal letters are
copied, and each pending call `fn T` is reduced node by node with a budget of steps (a node with
budget 0 is left as the call `fn T`). At every node the first rule whose guard holds picks the
action; a node no rule claims is reduced as the reference would. So "past depth 3, drop the left
subtree" is the one line `if depth >= 3 and side == left then drop`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeGuard, get_args

from behaviorlab.metamodels.features import gamma, signed
from behaviorlab.metamodels.rules import OPS, Op

NodeFeature = Literal[
    "kind", "side", "depth", "tdepth", "size", "height", "lsize", "rsize", "psize", "budget",
    "upos", "ulast", "opos", "ipos", "irest", "n",
]  # fmt: skip
NODE_FEATURES: tuple[NodeFeature, ...] = get_args(NodeFeature)
# Symbolic values of the categorical features (compared with == and !=).
KINDS = ("branch", "leaf", "letter")  # a Branch or a Leaf of a pending call; a literal's letter
SIDES = ("root", "left", "right")  # where a node hangs: a call's (or a letter's) root, a child
NAMED = {"kind": KINDS, "side": SIDES}

TreeActionKind = Literal[
    "reduce", "keep", "drop", "dup", "skip", "swap", "dropleft", "dropright", "stop", "steps"
]
TREE_ACTIONS: tuple[TreeActionKind, ...] = get_args(TreeActionKind)
EXPANDING = frozenset({"reduce", "dup", "skip", "swap", "dropleft", "dropright", "steps"})
ALL_STEPS = 10**6  # the budget of `steps all`: more than any tree is deep

# What each action does at a node (on the node's own part of the output):
DOC = {
    "reduce": "as the reference: a letter for a Branch with budget left, else the call `fn T`",
    "keep": "copy the subtree unreduced: the call `fn T` (a letter stays a letter)",
    "drop": "nothing from this node or below",
    "dup": "the node's letter twice",
    "skip": "the children, but not the node's letter",
    "swap": "the children in the other order",
    "dropleft": "reduce, without the left subtree",
    "dropright": "reduce, without the right subtree",
    "stop": "end the whole output here",
    "steps": "the reference of this subterm after k steps (`steps all`: its normal form)",
}


def is_node_feature(s: str) -> TypeGuard[NodeFeature]:
    """Whether `s` names a node feature."""
    return s in NODE_FEATURES


def is_tree_action(s: str) -> TypeGuard[TreeActionKind]:
    """Whether `s` names a tree action."""
    return s in TREE_ACTIONS


@dataclass(frozen=True)
class NodeCmp:
    """feature op const, over one node (categorical features compare the index of their name)."""

    feat: NodeFeature
    op: Op
    const: int

    def bits(self) -> float:
        """Description length: which feature, which comparison, which value."""
        value = math.log2(len(NAMED[self.feat])) if self.feat in NAMED else signed(self.const)
        return 1.0 + math.log2(len(NODE_FEATURES)) + math.log2(len(OPS)) + value


@dataclass(frozen=True)
class TreeAction:
    """What a rule does at a node; `k` is the step count of `steps k` (ALL_STEPS for all)."""

    kind: TreeActionKind
    k: int = 0

    def bits(self) -> float:
        """Description length of the action."""
        extra = 0.0 if self.kind != "steps" else (1.0 if self.k == ALL_STEPS else 1.0 + gamma(self.k + 1))
        return math.log2(len(TREE_ACTIONS)) + extra


@dataclass(frozen=True)
class TreeRule:
    """if all(guard) then action, at every node; an empty guard is `else`."""

    guard: tuple[NodeCmp, ...]
    action: TreeAction

    def bits(self) -> float:
        """Description length of the rule."""
        return 1.0 + gamma(len(self.guard) + 1) + sum(a.bits() for a in self.guard) + self.action.bits()
