"""Exceptions: induce a few guarded rules that fix where a base program parts from the model.

A shortcut program from a family (the reference algorithm, or a capped/windowed variant) often
explains most of a model; what is left are a handful of systematic slips. Instead of inducing a
decision list from scratch, sequential covering here looks only for rules that fix teacher-forced
positions the base gets wrong, net of the positions they would break, and prepends them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.metamodels.induce import _counts, _pack, _Rows, simplify
from behaviorlab.metamodels.program import Atom, Context, Program, Rule


def _base_ok(base: Program, rows: _Rows) -> np.ndarray:
    """Per teacher-forced row: does the base emit the model's token (or stop where it stops)?"""
    ok = []
    for k, i in rows.rows:
        out = rows.outs[k]
        ok.append(base.token(rows.contexts[k], i, out[:i]) == (out[i] if i < len(out) else None))
    return np.array(ok, dtype=bool)


def _gains(
    m: np.ndarray, wrong: np.ndarray, right: np.ndarray, C: np.ndarray, notC: np.ndarray
) -> np.ndarray:
    """[guards, actions] net gain of `if guard then action` on the remaining rows."""
    return _counts(m & wrong, C) - _counts(m & right, notC)


def patch(
    base: Program,
    contexts: Sequence[Context],
    model_outs: Sequence[str],
    *,
    max_rules: int = 8,
    beam: int = 24,
    min_gain: int = 3,
    max_tokens: int = 8,
    name: str | None = None,
) -> Program:
    """`base` with up to `max_rules` exception rules in front, simplified on the same data.

    A rule is scored by its net gain: base-wrong rows it fixes minus base-right rows it breaks
    (among rows no earlier exception took); rules gaining fewer than `min_gain` rows are noise.
    """
    t = _Rows(contexts, [tokenize(m) for m in model_outs], max_tokens)
    ok = _base_ok(base, t)
    A, C = _pack(t.A), _pack(t.C)
    notC = _pack(~t.C) & _pack(np.ones((1, len(t.rows)), dtype=bool))
    bits = np.array([a.bits() for a in t.atoms])
    remaining = np.ones(len(t.rows), dtype=bool)
    rules: list[Rule] = []
    while len(rules) < max_rules and (remaining & ~ok).any():
        W, R = _pack((remaining & ~ok)[None, :]), _pack((remaining & ok)[None, :])

        g = _gains(A, W, R, C, notC) - 1e-3 * bits[:, None]
        row, act = np.unravel_index(int(np.argmax(g)), g.shape)
        guard: tuple[Atom, ...] = (t.atoms[int(row)],)
        best = float(g[row, act])
        # Pairs: narrow the atoms that cover the most fixable rows until they stop breaking.
        fixable = _counts(A & W, C).max(1)
        for b in np.argsort(-fixable)[:beam]:
            if fixable[b] <= best:
                break
            g2 = _gains(A & A[b], W, R, C, notC) - 1e-3 * (bits[:, None] + bits[b])
            r2, a2 = np.unravel_index(int(np.argmax(g2)), g2.shape)
            if g2[r2, a2] > best and r2 != b:
                best, act, guard = float(g2[r2, a2]), a2, (t.atoms[int(b)], t.atoms[int(r2)])
        if best < min_gain:
            break
        covered = np.ones(len(t.rows), dtype=bool)
        for atom in guard:
            covered &= t.A[t.atoms.index(atom)]
        remaining &= ~covered
        rules.append(Rule(guard, t.actions[int(act)]))
    patched = base.prepending(rules, name or f"{base.name}+patch")
    return simplify(patched, contexts, model_outs) if rules else patched
