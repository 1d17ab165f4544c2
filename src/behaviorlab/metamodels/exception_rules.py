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

from behaviorlab.metamodels.batch import Inputs, as_batch
from behaviorlab.metamodels.features import Feature, Term
from behaviorlab.metamodels.induce import simplify
from behaviorlab.metamodels.machine import tokens
from behaviorlab.metamodels.program import EXCEPTIONS_SUFFIX, Program
from behaviorlab.metamodels.rules import Atom, Cmp, Rule
from behaviorlab.metamodels.tables import Tables, counts, pack
from behaviorlab.metamodels.vote import fit_vote, vote_bound, voter_patterns, voter_values, voters


def _base_ok(base: Program, rows: Tables) -> np.ndarray:
    """Per teacher-forced row: does the base emit the model's token (or stop where it stops)?"""
    return tokens(base, rows.batch, rows.at) == rows.target


class _Counts:
    """Fix and break counts of guards for one round of the exceptions search.

    The rows a rule may fix (first divergences) are few, so the atom and action tables on them are
    gathered into small packed tables of their own; break counts need all the right rows, so they
    are counted only for the guards and actions that could still win.
    """

    def __init__(self, t: Tables, A: np.ndarray, first: np.ndarray, right_wrong: np.ndarray) -> None:
        at = np.flatnonzero(first)
        self.A, self.AW, self.CW = A, pack(t.A[:, at]), pack(t.C[:, at])
        self.right_wrong = right_wrong  # [actions, words]: right rows where the action is wrong
        self.everywhere = (~np.zeros(A.shape[1], A.dtype), ~np.zeros(self.AW.shape[1], A.dtype))

    def fixes(self, mask_w: np.ndarray) -> np.ndarray:
        """[atoms, actions] rows `if atom and mask then action` fixes (`mask_w`: the mask on them)."""
        return counts(self.AW & mask_w, self.CW)

    def gains(
        self, fix: np.ndarray, mask: np.ndarray, penalty: np.ndarray, beat: float = -np.inf
    ) -> np.ndarray:
        """[atoms, actions] fixed minus broken rows minus `penalty`, where that can exceed `beat`
        (-inf elsewhere: breaks are never negative, so fixes minus penalty bound the gain)."""
        hope = fix - penalty > beat
        atoms, acts = np.flatnonzero(hope.any(1)), np.flatnonzero(hope.any(0))
        out = np.full(fix.shape, -np.inf)
        if len(atoms) and len(acts):
            # The mask goes on the few actions' rows, not the many atoms' (the same counts).
            broken = counts(self.A[atoms], self.right_wrong[acts] & mask)
            pick = np.ix_(atoms, acts)
            out[pick] = (fix[pick] - broken) - penalty[atoms]
        return out


Frontier = list[tuple[tuple[int, ...], np.ndarray, np.ndarray, float, np.ndarray]]


def _best_guard(
    counts: _Counts, bits: np.ndarray, beam: int, max_atoms: int
) -> tuple[tuple[int, ...], int, float, list[tuple[float, tuple[int, ...]]]]:
    """Beam search over conjunctions of up to `max_atoms` atoms: (atom indices, action, gain),
    and the narrower conjunctions it tried with the rows each could fix, widest first.

    Each level narrows the `beam` guards that could still fix the most rows (an upper bound on
    any narrower guard's gain), so a level is skipped once no guard can beat the best so far.
    """
    A, AW = counts.A, counts.AW
    mask, mask_w = counts.everywhere
    fix = counts.fixes(mask_w)
    g = counts.gains(fix, mask, 1e-3 * bits[:, None])
    row, act = np.unravel_index(int(np.argmax(g)), g.shape)
    best_guard: tuple[int, ...] = (int(row),)
    best_act, best = int(act), float(g[row, act])
    frontier: Frontier = [((), mask, mask_w, 0.0, fix)]
    tried: list[tuple[float, tuple[int, ...]]] = []
    for _ in range(max_atoms - 1):
        grown: list[tuple[float, tuple[int, ...], np.ndarray, np.ndarray, float]] = []
        for idx, mask, mask_w, cost, fix in frontier:
            fixable = fix.max(1)
            for b in np.argsort(-fixable)[:beam]:
                if fixable[b] > best and int(b) not in idx:
                    narrower = (*idx, int(b))
                    grown.append((float(fixable[b]), narrower, A[b] & mask, AW[b] & mask_w, cost + bits[b]))
        grown.sort(key=lambda e: -e[0])
        frontier = []
        seen: set[frozenset[int]] = set()
        for fixed, idx, mask, mask_w, cost in grown:
            if frozenset(idx) in seen:
                continue
            seen.add(frozenset(idx))
            fix = counts.fixes(mask_w)
            frontier.append((idx, mask, mask_w, cost, fix))
            tried.append((fixed, idx))
            # Only gains above the best so far matter: an equal or lower one changes nothing.
            g2 = counts.gains(fix, mask, 1e-3 * (bits[:, None] + cost), best)
            g2[list(idx)] = -np.inf  # an atom twice is the same guard
            r2, a2 = np.unravel_index(int(np.argmax(g2)), g2.shape)
            if g2[r2, a2] > best:
                best_guard, best_act, best = (*idx, int(r2)), int(a2), float(g2[r2, a2])
            if len(frontier) == beam:
                break
        if not frontier:
            break
    return best_guard, best_act, best, sorted(tried, key=lambda e: -e[0])


def fit_exceptions(
    base: Program,
    contexts: Inputs,
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
    batch = as_batch(contexts)
    t = Tables(batch, model_outs, max_tokens)
    A = pack(t.A)
    notC = pack(~t.C) & pack(np.ones((1, t.size), dtype=bool))
    bits = np.array([a.bits() for a in t.atoms])
    seq = t.seq
    spots = voters(batch, t.tokens) if votes else []
    F = voter_values(batch, spots, seq)
    same = voter_patterns(batch, spots, seq)
    taken = np.zeros(t.size, dtype=bool)  # rows an earlier exception's guard covers
    lengths, positions = _equalities(t.atoms, "n"), _equalities(t.atoms, "i")
    rules: list[Rule] = []
    fitted: dict[bytes, tuple[Cmp, np.ndarray, int] | None] = {}
    while len(rules) < max_rules:
        ok = _base_ok(base.prepending(rules, base.name), t)
        # Only each output's first divergence counts as fixable: later rows are teacher-forced
        # on the model's tokens, and fixing them leaves the decoded output wrong all the same.
        first = _first_per_sequence(~ok, seq) & ~taken
        if not first.any():
            break
        counts = _Counts(t, A, first, notC & pack((ok & ~taken)[None, :]))
        guard_idx, act, best, tried = _best_guard(counts, bits, beam, max_atoms)
        guard: tuple[Atom, ...] = tuple(t.atoms[k] for k in guard_idx)
        covers = np.logical_and.reduce([t.A[k] for k in guard_idx])
        if spots:
            # Votes inside the widest conjunctions tried and where divergences pile up: where
            # atoms could fix many rows but break many others, a threshold may split them.
            conds = _vote_conditions(t.A, tried, first, ~taken, positions, lengths, n_votes, min_gain)
            for cond, idx in conds:
                a = int((t.C[:, cond & first]).sum(1).argmax())
                pos, neg = cond & first & t.C[a], cond & ok & ~t.C[a]
                # A vote gains at most `vote_bound` and costs more than its atoms: when that
                # cannot beat the best guard, fitting it cannot change the choice.
                if vote_bound(same, pos, neg) - 1e-3 * sum(float(bits[k]) for k in idx) <= best:
                    continue
                key = np.packbits(pos).tobytes() + np.packbits(neg).tobytes()
                if key not in fitted:  # conditions often repeat: a fit is deterministic, keep it
                    fitted[key] = fit_vote(F, pos, neg, spots)
                got = fitted[key]
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
    patched = base.prepending(rules, name or f"{base.name}{EXCEPTIONS_SUFFIX}")
    return simplify(patched, batch, model_outs, exceptions_only=True) if rules else patched


def _equalities(atoms: Sequence[Atom], feat: Feature) -> list[int]:
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
