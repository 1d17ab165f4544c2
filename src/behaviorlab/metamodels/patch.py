"""Exceptions: induce a few guarded rules that fix where a base program parts from the model.

A shortcut program from a family (the reference algorithm, or a capped/windowed variant) often
explains most of a model; what is left are a handful of systematic slips. Instead of inducing a
decision list from scratch, sequential covering here looks only for rules that fix the first
teacher-forced position where the program parts from each output, net of the positions they would
break, and prepends them; after each rule the program is re-run to find the new divergences.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.metamodels.induce import _counts, _pack, _Rows, simplify
from behaviorlab.metamodels.program import Atom, Cmp, Context, Program, Rule, Term
from behaviorlab.metamodels.vote import fit_vote, voter_values, voters


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


def _best_guard(
    A: np.ndarray,
    W: np.ndarray,
    R: np.ndarray,
    C: np.ndarray,
    notC: np.ndarray,
    bits: np.ndarray,
    beam: int,
    max_atoms: int,
) -> tuple[tuple[int, ...], int, float, list[tuple[float, tuple[int, ...]]]]:
    """Beam search over conjunctions of up to `max_atoms` atoms: (atom indices, action, gain),
    and the narrower conjunctions it tried with the rows each could fix, widest first.

    Each level narrows the `beam` guards that could still fix the most rows (an upper bound on
    any narrower guard's gain), so a level is skipped once no guard can beat the best so far.
    """
    g = _gains(A, W, R, C, notC) - 1e-3 * bits[:, None]
    row, act = np.unravel_index(int(np.argmax(g)), g.shape)
    best_guard: tuple[int, ...] = (int(row),)
    best_act, best = int(act), float(g[row, act])
    frontier: list[tuple[tuple[int, ...], np.ndarray, float]] = [((), ~np.zeros_like(W), 0.0)]
    tried: list[tuple[float, tuple[int, ...]]] = []
    for _ in range(max_atoms - 1):
        grown: list[tuple[float, tuple[int, ...], np.ndarray, float]] = []
        for idx, mask, cost in frontier:
            sub = A & mask
            fixable = _counts(sub & W, C).max(1)
            for b in np.argsort(-fixable)[:beam]:
                if fixable[b] > best and int(b) not in idx:
                    grown.append((float(fixable[b]), (*idx, int(b)), sub[b], cost + bits[b]))
        grown.sort(key=lambda e: -e[0])
        frontier = []
        seen: set[frozenset[int]] = set()
        for fix, idx, mask, cost in grown:
            if frozenset(idx) in seen:
                continue
            seen.add(frozenset(idx))
            frontier.append((idx, mask, cost))
            tried.append((fix, idx))
            g2 = _gains(A & mask, W, R, C, notC) - 1e-3 * (bits[:, None] + cost)
            g2[list(idx)] = -np.inf  # an atom twice is the same guard
            r2, a2 = np.unravel_index(int(np.argmax(g2)), g2.shape)
            if g2[r2, a2] > best:
                best_guard, best_act, best = (*idx, int(r2)), int(a2), float(g2[r2, a2])
            if len(frontier) == beam:
                break
        if not frontier:
            break
    return best_guard, best_act, best, sorted(tried, key=lambda e: -e[0])


def patch(
    base: Program,
    contexts: Sequence[Context],
    model_outs: Sequence[str],
    *,
    max_rules: int = 8,
    beam: int = 24,
    min_gain: int = 3,
    max_tokens: int = 8,
    max_atoms: int = 3,
    votes: bool = True,
    n_votes: int = 8,
    name: str | None = None,
) -> Program:
    """`base` with up to `max_rules` exception rules (guards of up to `max_atoms` atoms) in
    front, simplified on the same data.

    A rule is scored by its net gain: first divergences it fixes minus right rows it breaks
    (among rows no earlier exception took); rules gaining fewer than `min_gain` rows are noise.
    """
    t = _Rows(contexts, [tokenize(m) for m in model_outs], max_tokens)
    A, C = _pack(t.A), _pack(t.C)
    notC = _pack(~t.C) & _pack(np.ones((1, len(t.rows)), dtype=bool))
    bits = np.array([a.bits() for a in t.atoms])
    seq = np.array([k for k, _ in t.rows])
    spots = voters(contexts, t.tokens) if votes else []
    F = voter_values(contexts, spots, seq)
    taken = np.zeros(len(t.rows), dtype=bool)  # rows an earlier exception's guard covers
    lengths, positions = _equalities(t.atoms, "n"), _equalities(t.atoms, "i")
    rules: list[Rule] = []
    while len(rules) < max_rules:
        ok = _base_ok(base.prepending(rules, base.name), t)
        # Only each output's first divergence counts as fixable: later rows are teacher-forced
        # on the model's tokens, and fixing them leaves the decoded output wrong all the same.
        first = _first_per_sequence(~ok, seq) & ~taken
        if not first.any():
            break
        W, R = _pack(first[None, :]), _pack((ok & ~taken)[None, :])
        guard_idx, act, best, tried = _best_guard(A, W, R, C, notC, bits, beam, max_atoms)
        guard: tuple[Atom, ...] = tuple(t.atoms[k] for k in guard_idx)
        covers = np.logical_and.reduce([t.A[k] for k in guard_idx])
        if spots:
            # Votes inside the widest conjunctions tried and where divergences pile up: where
            # atoms could fix many rows but break many others, a threshold may split them.
            conds = _vote_conditions(t.A, tried, first, ~taken, positions, lengths, n_votes, min_gain)
            for cond, idx in conds:
                a = int((t.C[:, cond & first]).sum(1).argmax())
                got = fit_vote(F, cond & first & t.C[a], cond & ok & ~t.C[a], spots)
                if got is None:
                    continue
                atom, truth, gain = got
                cost = sum(float(bits[k]) for k in idx) + atom.bits()
                if gain - 1e-3 * cost > best:
                    best, act = gain - 1e-3 * cost, a
                    guard, covers = (*(t.atoms[k] for k in idx), atom), cond & truth
        if best < min_gain:
            break
        taken |= covers
        rules.append(Rule(guard, t.actions[int(act)]))
    patched = base.prepending(rules, name or f"{base.name}+patch")
    return simplify(patched, contexts, model_outs, exceptions_only=True) if rules else patched


def _equalities(atoms: Sequence[Atom], feat: str) -> list[int]:
    """Indices of the atoms `feat == c` (one per value c)."""
    return [
        j for j, a in enumerate(atoms) if isinstance(a, Cmp) and a.op == "==" and a.terms == (Term(feat),)
    ]


def _vote_conditions(
    A: np.ndarray,
    tried: list[tuple[float, tuple[int, ...]]],
    first: np.ndarray,
    free: np.ndarray,
    positions: list[int],
    lengths: list[int],
    k: int,
    min_gain: int,
) -> list[tuple[np.ndarray, tuple[int, ...]]]:
    """Row sets to fit a vote in: the k widest distinct conjunctions the beam tried, the (up to
    3) output positions `i == p` holding the most divergences, and, since absolute positions mean
    different things at different input lengths, the first of each split by `n == v`."""
    conds = _distinct(tried, A, free, k)
    busy = [j for j in positions if (A[j] & first).sum() >= min_gain]
    busy = sorted(busy, key=lambda j: -int((A[j] & first).sum()))[:3]
    at_i = [(A[j] & free, (j,)) for j in busy]
    split = [
        (cond & A[j], (*idx, j))
        for cond, idx in conds[:2] + at_i
        for j in lengths
        if (cond & A[j] & first).sum() >= min_gain
    ]
    return conds + at_i + split


def _distinct(
    tried: list[tuple[float, tuple[int, ...]]], A: np.ndarray, free: np.ndarray, k: int
) -> list[tuple[np.ndarray, tuple[int, ...]]]:
    """The first k conjunctions of `tried` that hold on distinct sets of free rows."""
    out: list[tuple[np.ndarray, tuple[int, ...]]] = []
    seen: set[bytes] = set()
    for _, idx in tried:
        cond = np.logical_and.reduce([A[j] for j in idx]) & free
        key = np.packbits(cond).tobytes()
        if key not in seen:
            seen.add(key)
            out.append((cond, idx))
            if len(out) == k:
                break
    return out


def _first_per_sequence(mask: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """Keep only the first true row of each sequence (rows are grouped by sequence, in order)."""
    out = np.zeros_like(mask)
    hit = np.flatnonzero(mask)
    if len(hit):
        starts = hit[np.r_[True, seq[hit][1:] != seq[hit][:-1]]]
        out[starts] = True
    return out
