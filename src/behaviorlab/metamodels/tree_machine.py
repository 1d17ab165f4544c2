"""The term machine: a tree program's actions on every node of every input at once.

Decoding runs level by level over the node table, never node by node: budgets and which nodes
are visited flow down, unit counts flow up, then offsets flow down again (a node's children
go before or after its letter, by traversal and `swap`); units are finally scattered into an
[inputs, units] id matrix. `stop` cuts its input's output at the node's offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.metamodels.rules import OPS
from behaviorlab.metamodels.tree_batch import BRANCH, LEAF, LEFT, LETTER, RIGHT, Nodes, TreeBatch
from behaviorlab.metamodels.tree_rules import ALL_STEPS, EXPANDING, TREE_ACTIONS, NodeCmp, TreeRule

CODE = {a: k for k, a in enumerate(TREE_ACTIONS)}
_EXPANDING = np.array([a in EXPANDING for a in TREE_ACTIONS])
_CMP = {
    "==": np.equal, "!=": np.not_equal, "<=": np.less_equal, ">=": np.greater_equal,
    "<": np.less, ">": np.greater,
}  # fmt: skip
assert set(_CMP) == set(OPS)


@dataclass(frozen=True)
class Decoded:
    """Units [B, W] (-1 padded) and lengths, with the per-node quantities of the walk."""

    U: np.ndarray
    n: np.ndarray
    visited: np.ndarray  # [N] the walk reached the node
    off: np.ndarray  # [N] where the node's part of the output starts
    T: np.ndarray  # [N] units the node's part holds (before any stop)
    budget: np.ndarray  # [N] steps left at the node
    expands: np.ndarray  # [N] the node is unfolded (its children visited)


def decode(tb: Nodes, act: np.ndarray, k: np.ndarray, steps: int, inorder: bool, cap: int = 0) -> Decoded:
    """Run per-node action codes `act` (and step counts `k` for `steps`) on every input; with a
    `cap`, no output holds more than that many units."""
    N = len(tb.b)
    visited, expands = np.zeros(N, dtype=bool), np.zeros(N, dtype=bool)
    budget = np.zeros(N, dtype=np.int64)
    for d, lv in enumerate(tb.levels):
        if d == 0:
            visited[lv], budget[lv] = True, steps
        else:
            p = tb.parent[lv]
            cut = ((act[p] == CODE["dropleft"]) & (tb.side[lv] == LEFT)) | (
                (act[p] == CODE["dropright"]) & (tb.side[lv] == RIGHT)
            )
            visited[lv], budget[lv] = expands[p] & ~cut, budget[p] - 1
        own_steps = act[lv] == CODE["steps"]
        budget[lv[own_steps]] = k[lv[own_steps]]
        expands[lv] = visited[lv] & (tb.kind[lv] == BRANCH) & (budget[lv] > 0) & _EXPANDING[act[lv]]
    gone = (act == CODE["drop"]) | (act == CODE["stop"]) | ~visited
    keep = act == CODE["keep"]
    letter = ~gone & ((tb.kind == LETTER) | expands)
    call = ~gone & ~letter & ((tb.kind == BRANCH) | keep | (budget == 0))
    e = letter * (1 + (act == CODE["dup"]) - (act == CODE["skip"])) + call
    code = np.where(letter, tb.letter, tb.call)
    T = e.astype(np.int64)
    for lv in reversed(tb.levels[1:]):
        np.add.at(T, tb.parent[lv], T[lv])  # unvisited nodes hold 0 units
    off, own = np.zeros(N, dtype=np.int64), np.zeros(N, dtype=np.int64)
    roots = tb.levels[0] if tb.levels else np.zeros(0, dtype=np.int64)
    excl = np.cumsum(T[roots]) - T[roots]
    first = np.searchsorted(tb.b[roots], tb.b[roots])  # each input's first root
    off[roots] = excl - excl[first]
    for lv in tb.levels:
        own[lv] = off[lv]
        v = lv[expands[lv]]
        swap = act[v] == CODE["swap"]
        a, z = np.where(swap, tb.right[v], tb.left[v]), np.where(swap, tb.left[v], tb.right[v])
        if inorder:
            off[a], own[v] = off[v], off[v] + T[a]
            off[z] = own[v] + e[v]
        else:
            own[v], off[a] = off[v], off[v] + e[v]
            off[z] = off[a] + T[a]
    B = tb.inputs
    total = np.zeros(B, dtype=np.int64)
    np.add.at(total, tb.b[roots], T[roots])
    stops = np.flatnonzero(visited & (act == CODE["stop"]))
    np.minimum.at(total, tb.b[stops], off[stops])
    if cap:
        np.minimum(total, cap, out=total)
    U = np.full((B, int(total.max(initial=0)) + 1), -1, dtype=np.int64)
    for j in (0, 1):
        m = np.flatnonzero(e > j)
        at = own[m] + j
        ok = at < total[tb.b[m]]
        U[tb.b[m][ok], at[ok]] = code[m][ok]
    return Decoded(U, total, visited, off, T, budget, expands)


def reference(tb: TreeBatch, steps: int, inorder: bool) -> Decoded:
    """The reference walk (every node reduced), cached per budget."""
    key = ("reference", steps, inorder)
    got = tb.cache.get(key)
    if got is None:
        N = len(tb.b)
        got = tb.cache[key] = decode(tb.nodes, np.zeros(N, np.int64), np.zeros(N, np.int64), steps, inorder)  # type: ignore[assignment]
    assert isinstance(got, Decoded)
    return got


def _token_starts(tb: TreeBatch, U: np.ndarray, n: np.ndarray) -> np.ndarray:
    """[B, W + 1] token position where each unit starts in the printed output (and the end)."""
    units = tb.units
    is_letter = np.array(units.letter + [False], dtype=bool)  # index -1: padding
    width = np.array([len(tokenize(t)) for t in units.text] + [0], dtype=np.int64)
    let = is_letter[U] & (U >= 0)
    prev = np.concatenate([np.zeros((len(U), 1), bool), let[:, :-1]], axis=1)
    w = np.where(let, 2 + ~prev, width[U])  # a letter: itself and `;` or `]`, `[` opens a run
    j = np.arange(U.shape[1])
    w = w + ((j > 0) & ~(let & prev))  # `++` before a new item
    w[j >= n[:, None]] = 0
    return np.concatenate([np.zeros((len(U), 1), np.int64), np.cumsum(w, axis=1)], axis=1)


def node_values(tb: TreeBatch, feat: str, steps: int, inorder: bool) -> np.ndarray:
    """[N] a node feature's value (see tree_rules.NodeFeature)."""
    key = (feat, steps, inorder)
    got = tb.cache.get(key)
    if got is not None:
        assert isinstance(got, np.ndarray)
        return got
    has = tb.left >= 0
    if feat in ("kind", "side", "depth", "size", "height", "ipos"):
        v = getattr(tb, feat)
    elif feat == "tdepth":
        v = tb.depth + np.maximum(tb.t[tb.b], 0)
    elif feat in ("lsize", "rsize"):
        child = tb.left if feat == "lsize" else tb.right
        v = np.where(has, tb.size[np.maximum(child, 0)], 0)
    elif feat == "psize":
        v = np.where(tb.parent >= 0, tb.size[np.maximum(tb.parent, 0)], 0)
    elif feat == "budget":
        v = np.maximum(steps - tb.depth, 0)
    elif feat in ("n", "irest"):
        v = tb.n[tb.b] - (tb.ipos if feat == "irest" else 0)
    elif feat in ("upos", "ulast", "opos"):
        ref = reference(tb, steps, inorder)
        off = np.where(ref.visited, ref.off, -1)
        if feat == "upos":
            v = off
        elif feat == "ulast":
            v = np.where(ref.visited, ref.n[tb.b] - ref.off, -1)
        else:
            starts = _token_starts(tb, ref.U, ref.n)
            v = np.where(ref.visited, starts[tb.b, np.clip(off, 0, starts.shape[1] - 1)], -1)
    else:
        raise ValueError(f"unknown node feature {feat!r}")
    v = np.asarray(v, dtype=np.int64)
    tb.cache[key] = v
    return v


def atom_truth(tb: TreeBatch, atom: NodeCmp, steps: int, inorder: bool) -> np.ndarray:
    """[N] whether the atom holds at each node."""
    return np.asarray(_CMP[atom.op](node_values(tb, atom.feat, steps, inorder), atom.const), dtype=bool)


def actions(
    tb: TreeBatch, rules: tuple[TreeRule, ...], steps: int, inorder: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Per-node action codes and step counts: the first rule whose guard holds (else reduce)."""
    N = len(tb.b)
    act, k = np.zeros(N, dtype=np.int64), np.zeros(N, dtype=np.int64)
    free = np.ones(N, dtype=bool)
    for r in rules:
        hold = free.copy()
        for a in r.guard:
            hold &= atom_truth(tb, a, steps, inorder)
        act[hold], k[hold] = CODE[r.action.kind], r.action.k
        free &= ~hold
    return act, k


__all__ = ["ALL_STEPS", "CODE", "Decoded", "LEAF", "actions", "atom_truth", "decode", "node_values"]
