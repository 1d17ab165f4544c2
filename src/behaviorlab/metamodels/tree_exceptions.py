"""Exceptions on a tree program: term-level rules that fix where it parts from the model.

Each round finds, per input, the first unit where the program's output parts from the model's,
and the nodes whose part of the output reaches that unit. Every candidate action is tried at every
such node at once — one decode of replicas of those inputs — and a guard (one node atom, or a
pair) is worth what it could fix: the inputs where it holds at a node whose action fixes the
divergence. The best few guards are then checked exactly on every input, and the rule with the
largest net gain in reproduced outputs is prepended.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from behaviorlab.metamodels.batch import Batch
from behaviorlab.metamodels.rules import Op
from behaviorlab.metamodels.tree_batch import LEAF, LETTER, Outputs, TreeBatch
from behaviorlab.metamodels.tree_machine import CODE, Decoded, actions, decode, node_values
from behaviorlab.metamodels.tree_program import EXCEPTIONS_SUFFIX, TreeProgram, tree_batch
from behaviorlab.metamodels.tree_rules import ALL_STEPS, NAMED, NODE_FEATURES, NodeCmp, TreeAction, TreeRule

CANDIDATE_ACTIONS: tuple[TreeAction, ...] = (
    TreeAction("reduce"), TreeAction("keep"), TreeAction("drop"), TreeAction("dup"), TreeAction("skip"),
    TreeAction("swap"), TreeAction("dropleft"), TreeAction("dropright"), TreeAction("stop"),
    *(TreeAction("steps", k) for k in (0, 1, 2, 3, ALL_STEPS)),
)  # fmt: skip
_CODES = np.array([CODE[a.kind] for a in CANDIDATE_ACTIONS], dtype=np.int64)
_KS = np.array([a.k for a in CANDIDATE_ACTIONS], dtype=np.int64)


def node_atoms(tb: TreeBatch, steps: int, inorder: bool) -> tuple[list[NodeCmp], np.ndarray]:
    """Guard atoms over the nodes, simplest first, and their truth [atoms, nodes]; atoms that
    hold everywhere, nowhere, or exactly where an earlier one does are left out."""
    atoms: list[NodeCmp] = []
    rows: list[np.ndarray] = []
    seen: set[bytes] = set()
    for feat in NODE_FEATURES:
        if feat == "budget" and steps == ALL_STEPS:
            continue
        v = node_values(tb, feat, steps, inorder)
        uniq = np.unique(v)
        if feat in NAMED:
            cands: list[tuple[Op, int]] = [(op, int(c)) for c in uniq for op in ("==", "!=")]
        else:
            if len(uniq) > 64:  # long tails: quantiles and the small values
                qs = np.unique(np.quantile(v, np.linspace(0, 1, 33)).round().astype(int))
                uniq = np.array(sorted({int(c) for c in uniq if abs(c) <= 8} | {int(c) for c in qs}))
            cands = [(op, int(c)) for c in uniq for op in ("==", "<=", ">=")]
        for op, c in cands:
            atom = NodeCmp(feat, op, c)
            holds = {"==": v == c, "!=": v != c, "<=": v <= c, ">=": v >= c}[op]
            key = np.packbits(holds).tobytes()
            if holds.any() and not holds.all() and key not in seen:
                seen.add(key)
                atoms.append(atom)
                rows.append(holds)
    return atoms, np.array(rows, dtype=bool).reshape(len(rows), len(tb.b))


def first_divergence(d: Decoded, m: Outputs) -> np.ndarray:
    """[B] the first unit where the program's output parts from the model's; -1 where they are
    equal or the model's output is not a term (no rule can reproduce it)."""
    W = max(d.U.shape[1], m.U.shape[1])
    mine = np.pad(d.U, ((0, 0), (0, W - d.U.shape[1])), constant_values=-1)
    theirs = np.pad(m.U, ((0, 0), (0, W - m.U.shape[1])), constant_values=-1)
    differ = mine != theirs
    j = np.where(differ.any(1), differ.argmax(1), -1)
    return np.where(m.ok, j, -1)


def _hits(p: TreeProgram, batch: Batch, outs: Sequence[str]) -> int:
    return int(p.matches(batch, outs).sum())


class _Round:
    """One round: the candidate (node, action) fixes at every input's first divergence."""

    def __init__(self, p: TreeProgram, tb: TreeBatch, m: Outputs) -> None:
        act, k = actions(tb, p.rules, p.steps, p.inorder)
        d = decode(tb.nodes, act, k, p.steps, p.inorder, p.cap)
        j = first_divergence(d, m)
        jb = j[tb.b]
        # Nodes the walk reached whose part of the output starts at or spans the divergence.
        cand = np.flatnonzero(tb.ok[tb.b] & (jb >= 0) & d.visited & (d.off <= jb) & (jb <= d.off + d.T))
        v_of = np.tile(cand, len(CANDIDATE_ACTIONS))
        a_of = np.repeat(np.arange(len(CANDIDATE_ACTIONS)), len(cand))
        same = (act[v_of] == _CODES[a_of]) & (k[v_of] == _KS[a_of])  # what the node does already
        v_of, a_of = v_of[~same], a_of[~same]
        self.v, self.a, self.fixed = v_of, a_of, np.zeros(len(v_of), dtype=bool)
        if len(v_of):
            b_of = tb.b[v_of]
            reps, base = tb.nodes.replicate(b_of, tb.start)
            at = base + v_of - tb.start[b_of]  # the node in its copy
            idx = np.repeat(b_of, tb.start[b_of + 1] - tb.start[b_of])
            local = np.arange(len(reps.b)) - base[reps.b] + tb.start[idx]
            ract, rk = act[local], k[local]
            ract[at], rk[at] = _CODES[a_of], _KS[a_of]
            rd = decode(reps, ract, rk, p.steps, p.inorder, p.cap)
            mr = Outputs(m.texts, m.U[b_of], m.n[b_of], m.ok[b_of])
            jr = first_divergence(rd, mr)
            exact = (jr == -1) & (rd.n == mr.n)
            self.fixed = exact | (jr > j[b_of])
        self.b, self.tb_b = tb.b[self.v], tb.b

        self.breaks = _changes(tb, d, act, m, jb)  # [actions, N] nodes of right inputs an action changes

    def fixable(self, A: np.ndarray, cond: np.ndarray | None = None) -> np.ndarray:
        """[atoms, actions] for the guards `atom and cond` (truth over nodes): the inputs each
        could fix per action, minus the nodes of right outputs it would change there (a penalty
        counted per node, not per input: cheap, and the best guards are checked exactly anyway)."""
        out = np.zeros((len(A), len(CANDIDATE_ACTIONS)), dtype=np.int64)
        for a in range(len(CANDIDATE_ACTIONS)):
            pick = self.fixed & (self.a == a)
            sel, inputs = self.v[pick], self.b[pick]
            if cond is not None:
                sel, inputs = sel[cond[sel]], inputs[cond[sel]]
            out[:, a] = _inputs_holding(A, sel, inputs)
            bad = np.flatnonzero(self.breaks[a] if cond is None else self.breaks[a] & cond)
            out[:, a] -= np.count_nonzero(A[:, bad], axis=1)
        return out


def _inputs_holding(truth: np.ndarray, nodes: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """[guards] how many distinct inputs have a node (of `nodes`, from `inputs`) where it holds."""
    if not len(nodes):
        return np.zeros(len(truth), dtype=np.int64)
    order = np.argsort(inputs, kind="stable")
    bs = inputs[order]
    starts = np.flatnonzero(np.r_[True, bs[1:] != bs[:-1]])
    return np.logical_or.reduceat(truth[:, nodes[order]], starts, axis=1).sum(1)


def _changes(tb: TreeBatch, d: Decoded, act: np.ndarray, m: Outputs, jb: np.ndarray) -> np.ndarray:
    """[actions, N] where each candidate action would change a part of an output the program
    reproduces now — a whole output, or one before its first divergence `jb` (an estimate from
    the walk: children's parts, budgets and heights)."""
    W = max(d.U.shape[1], m.U.shape[1])
    mine = np.pad(d.U, ((0, 0), (0, W - d.U.shape[1])), constant_values=-1)
    theirs = np.pad(m.U, ((0, 0), (0, W - m.U.shape[1])), constant_values=-1)
    whole = (m.ok & (mine == theirs).all(1) & (d.n == m.n))[tb.b]
    right = d.visited & (whole | ((jb >= 0) & (d.off + d.T <= jb)))
    kids = tb.left >= 0
    TL = np.where(kids, d.T[np.maximum(tb.left, 0)], 0)
    TR = np.where(kids, d.T[np.maximum(tb.right, 0)], 0)
    letter, leaf = tb.kind == LETTER, tb.kind == LEAF
    says = d.expands | letter  # the node writes its letter
    h = np.minimum(tb.height, ALL_STEPS - 1) + 1
    out = []
    for a in CANDIDATE_ACTIONS:
        if a.kind == "reduce":
            c = act != CODE["reduce"]
        elif a.kind == "keep":
            c = d.expands | (leaf & (d.budget > 0))
        elif a.kind == "drop":
            c = d.T > 0
        elif a.kind == "stop":  # cuts everything after the node, confirmed or not
            c = d.visited & (whole | (jb >= 0)) & (d.off < np.where(jb >= 0, jb, d.n[tb.b]))
            out.append(c)
            continue
        elif a.kind in ("dup", "skip"):
            c = says
        elif a.kind == "swap":
            c = (
                d.expands
                & (TL + TR > 0)
                & (tb.call[np.maximum(tb.left, 0)] != tb.call[np.maximum(tb.right, 0)])
            )
        elif a.kind in ("dropleft", "dropright"):
            c = d.expands & ((TL if a.kind == "dropleft" else TR) > 0)
        else:
            c = ~letter & (np.minimum(a.k, h) != np.minimum(d.budget, h))
        out.append(right & c)
    return np.array(out, dtype=bool).reshape(len(CANDIDATE_ACTIONS), len(tb.b))


def fit_tree_exceptions(
    base: TreeProgram,
    batch: Batch,
    model_outs: Sequence[str],
    *,
    max_rules: int = 8,
    min_gain: int = 2,
    beam: int = 8,
    verify: int = 24,
    name: str | None = None,
) -> TreeProgram:
    """`base` with up to `max_rules` exception rules (guards of one or two node atoms) in front,
    each gaining at least `min_gain` exactly reproduced outputs; then simplified."""
    tb = tree_batch(batch, base.fn)
    m = tb.outputs(model_outs)
    atoms, A = node_atoms(tb, base.steps, base.inorder)
    bits = np.array([a.bits() for a in atoms])
    rules: list[TreeRule] = []
    best_hits = _hits(base, batch, model_outs)
    while len(rules) < max_rules:
        p = base.prepending(rules, base.name)
        rnd = _Round(p, tb, m)
        if not rnd.fixed.any():
            break
        fix1 = rnd.fixable(A)  # [atoms, actions]
        singles: list[tuple[float, tuple[int, ...], int]] = []
        for g, a in zip(*np.nonzero(fix1 >= min_gain), strict=True):  # net of estimated breaks
            singles.append((fix1[g, a] - 1e-3 * bits[g], (int(g),), int(a)))
        # Pairs narrow the atoms that could fix the most inputs; they are checked apart from the
        # single atoms, so that many near-equal pairs cannot crowd out a good single atom.
        pairs: list[tuple[float, tuple[int, ...], int]] = []
        for g in np.argsort(-fix1.max(1))[:beam]:
            fix2 = rnd.fixable(A, A[g])
            for h, a in zip(*np.nonzero(fix2 > np.maximum(fix1[g][None, :], min_gain - 1)), strict=True):
                if h != g:
                    pairs.append((fix2[h, a] - 1e-3 * (bits[g] + bits[h]), (int(g), int(h)), int(a)))
        trials = sorted(singles, key=lambda t: -t[0])[:verify] + sorted(pairs, key=lambda t: -t[0])[:verify]
        best: tuple[int, float, TreeRule] | None = None
        for _, idx, a in trials:
            rule = TreeRule(tuple(atoms[i] for i in idx), CANDIDATE_ACTIONS[a])
            hits = _hits(base.prepending([*rules, rule], base.name), batch, model_outs)
            if best is None or (hits, -rule.bits()) > (best[0], -best[1]):
                best = (hits, rule.bits(), rule)
        if best is None or best[0] - best_hits < min_gain:
            break
        best_hits = best[0]
        rules.append(best[2])
    patched = base.prepending(rules, name or f"{base.name}{EXCEPTIONS_SUFFIX}")
    return simplify_tree(patched, batch, model_outs) if rules else patched


def simplify_tree(p: TreeProgram, batch: Batch, model_outs: Sequence[str]) -> TreeProgram:
    """Drop exception rules, then their guard atoms, while the reproduced outputs hold."""
    best = _hits(p, batch, model_outs)
    for k in reversed(range(p.exceptions)):
        trial = p.without(k)
        if (hits := _hits(trial, batch, model_outs)) >= best:
            p, best = trial, hits
    for k in range(p.exceptions):
        for atom in p.rules[k].guard:
            if len(p.rules[k].guard) == 1:
                break  # an exception emptied to `else` would hide the shortcut
            smaller = TreeRule(tuple(a for a in p.rules[k].guard if a != atom), p.rules[k].action)
            trial = p.replacing(k, smaller)
            if (hits := _hits(trial, batch, model_outs)) >= best:
                p, best = trial, hits
    return p
