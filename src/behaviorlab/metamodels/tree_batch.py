"""Traversal terms as arrays: every node of every input in one node table, and outputs as units.

An output term is a sequence of *units* — letters and pending calls `fn T` — whose printing is
fixed by the sequence (adjacent letters share a literal). Units are interned as small integer ids,
so a program's outputs and a model's compare as id matrices. Nodes are listed input by input in
token order (a call's tree in preorder); the node table is built once per batch of inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from behaviorlab.behaviors.tokens import tokenize
from behaviorlab.errors import BadInput
from behaviorlab.metamodels.tree_rules import KINDS, SIDES
from behaviorlab.tasks import terms
from behaviorlab.tasks._stream import TokenStream
from behaviorlab.tasks.trees import Branch, Tree, print_tree

BRANCH, LEAF, LETTER = (KINDS.index(k) for k in KINDS)
ROOT, LEFT, RIGHT = (SIDES.index(s) for s in SIDES)


class Units:
    """Unit strings ↔ ids; a unit is a letter `'a'` or a call `inorder (Branch ...)`."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.text: list[str] = []
        self.letter: list[bool] = []

    def id(self, text: str, letter: bool) -> int:
        """The unit's id (a new one the first time)."""
        got = self.ids.get(text)
        if got is None:
            got = self.ids[text] = len(self.text)
            self.text.append(text)
            self.letter.append(letter)
        return got

    def print(self, row: Sequence[int]) -> str:
        """The canonical term of a unit sequence (`[]` when empty)."""
        items: list[str] = []
        run: list[str] = []
        for u in row:
            if self.letter[u]:
                run.append(self.text[u])
                continue
            if run:
                items.append("[" + "; ".join(run) + "]")
                run = []
            items.append(self.text[u])
        if run:
            items.append("[" + "; ".join(run) + "]")
        return " ++ ".join(items) if items else "[]"


def parse(text: str, fn: str) -> terms.Term | None:
    """The term of an input or output string, None unless it is a canonical term of `fn`."""
    try:
        term = terms.parse_term(TokenStream(text, "term"), fn)
    except BadInput:
        return None
    return term if terms.print_term(term) == text else None


def term_units(term: terms.Term, units: Units) -> list[int]:
    """A term as its unit ids."""
    out: list[int] = []
    for item in term.items:
        if isinstance(item, terms.Lit):
            out += [units.id(f"'{c}'", True) for c in item.letters]
        else:
            out.append(units.id(terms.print_item(item), False))
    return out


def padded(rows: Sequence[Sequence[int]], extra: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """[len(rows), longest + extra] ids, -1 padded (at least one column), and the lengths."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    out = np.full((len(rows), max(1, int(lengths.max(initial=0)) + extra)), -1, dtype=np.int64)
    for b, r in enumerate(rows):
        out[b, : len(r)] = r
    return out, lengths


@dataclass(frozen=True)
class Nodes:
    """What the machine reads of a node table (a batch's, or replicas of some of its inputs)."""

    b: np.ndarray  # [N] input of each node
    kind: np.ndarray
    side: np.ndarray
    depth: np.ndarray
    parent: np.ndarray  # node index, -1 for a root
    left: np.ndarray
    right: np.ndarray
    letter: np.ndarray  # unit id of the node's letter
    call: np.ndarray  # unit id of the call `fn T` on the node's subtree
    levels: list[np.ndarray]  # node indices by depth
    inputs: int

    def replicate(self, which: np.ndarray, start: np.ndarray) -> tuple[Nodes, np.ndarray]:
        """One copy of the nodes of input which[r] per r (`start`: each input's first node); and
        where each copy starts in the new table."""
        size = start[which + 1] - start[which]
        base = np.cumsum(size) - size
        r = np.repeat(np.arange(len(which)), size)
        idx = start[which][r] + np.arange(len(r)) - base[r]
        shift = base[r] - start[which][r]

        def moved(a: np.ndarray) -> np.ndarray:
            return np.where(a[idx] >= 0, a[idx] + shift, -1)

        depth = self.depth[idx]
        levels = [np.flatnonzero(depth == d) for d in range(len(self.levels))]
        out = Nodes(r, self.kind[idx], self.side[idx], depth, moved(self.parent), moved(self.left),
                    moved(self.right), self.letter[idx], self.call[idx], levels, len(which))  # fmt: skip
        return out, base


@dataclass(frozen=True)
class Outputs:
    """Model outputs as units: ids [B, W] (-1 padded), lengths, and whether each was a term."""

    texts: Sequence[str]
    U: np.ndarray
    n: np.ndarray
    ok: np.ndarray


class _Builder:
    """Collects node rows while walking the parsed inputs (one Python walk per input, once)."""

    def __init__(self, units: Units, fn: str) -> None:
        self.units, self.fn = units, fn
        self.cols: dict[str, list[int]] = {
            k: []
            for k in ("b", "item", "kind", "side", "depth", "size", "height", "parent", "left", "right",
                      "letter", "call", "ipos")
        }  # fmt: skip

    def add(self, **row: int) -> int:
        for k, v in row.items():
            self.cols[k].append(v)
        return len(self.cols["b"]) - 1

    def tree(
        self, t: Tree, b: int, item: int, side: int, depth: int, parent: int, pos: int
    ) -> tuple[int, int]:
        """Add t's nodes in preorder; (its node index, the token position after it)."""
        call = self.units.id(f"{self.fn} {print_tree(t, nested=True)}", False)
        base = dict(b=b, item=item, side=side, depth=depth, parent=parent, call=call, ipos=pos)
        if not isinstance(t, Branch):
            me = self.add(kind=LEAF, size=0, height=0, left=-1, right=-1, letter=-1, **base)
            return me, pos + 1
        me = self.add(
            kind=BRANCH, size=0, height=0, left=-1, right=-1, letter=self.units.id(f"'{t.c}'", True), **base
        )
        left, at = self.tree(t.left, b, item, LEFT, depth + 1, me, pos + 3)  # after `( Branch 'c'`
        right, at = self.tree(t.right, b, item, RIGHT, depth + 1, me, at)
        c = self.cols
        c["left"][me], c["right"][me] = left, right
        c["size"][me] = 1 + c["size"][left] + c["size"][right]
        c["height"][me] = 1 + max(c["height"][left], c["height"][right])
        return me, at + 1  # `)`

    def term(self, term: terms.Term, b: int) -> None:
        pos = 0
        for item, it in enumerate(term.items):
            if isinstance(it, terms.Lit):
                for k, ch in enumerate(it.letters):
                    letter = self.units.id(f"'{ch}'", True)
                    self.add(b=b, item=item, kind=LETTER, side=ROOT, depth=0, size=1, height=1, parent=-1,
                             left=-1, right=-1, letter=letter, call=letter, ipos=pos + 1 + 2 * k)  # fmt: skip
                pos += 2 * len(it.letters) + 1
            else:
                _, pos = self.tree(it.tree, b, item, ROOT, 0, -1, pos + 1)
            pos += 1  # `++`


class TreeBatch:
    """The node table of a batch of input terms of one traversal `fn` (`inorder`/`preorder`)."""

    def __init__(self, texts: Sequence[str], fn: str, units: Units | None = None) -> None:
        self.texts, self.fn = list(texts), fn
        self.units = units if units is not None else Units()
        build = _Builder(self.units, fn)
        parsed = [parse(x, fn) for x in self.texts]
        self.ok = np.array([p is not None for p in parsed], dtype=bool)  # inputs that are terms
        self.t = np.full(len(parsed), -1, dtype=np.int64)  # steps already taken (-1 unknown)
        self.n = np.zeros(len(parsed), dtype=np.int64)  # input tokens
        for b, p in enumerate(parsed):
            if p is not None:
                build.term(p, b)
                t = terms.infer_t(p)
                self.t[b] = -1 if t is None else t
                self.n[b] = len(tokenize(self.texts[b]))
        cols = {k: np.array(v, dtype=np.int64) for k, v in build.cols.items()}
        self.b, self.item, self.kind, self.side = cols["b"], cols["item"], cols["kind"], cols["side"]
        self.depth, self.size, self.height = cols["depth"], cols["size"], cols["height"]
        self.parent, self.left, self.right = cols["parent"], cols["left"], cols["right"]
        self.letter, self.call, self.ipos = cols["letter"], cols["call"], cols["ipos"]
        self.levels = [np.flatnonzero(self.depth == d) for d in range(int(self.depth.max(initial=-1)) + 1)]
        self.start = np.searchsorted(self.b, np.arange(len(parsed) + 1))  # nodes of b: start[b]:start[b+1]
        self.nodes = Nodes(self.b, self.kind, self.side, self.depth, self.parent, self.left, self.right,
                           self.letter, self.call, self.levels, len(parsed))  # fmt: skip
        self._outputs: dict[int, Outputs] = {}
        self.cache: dict[object, np.ndarray] = {}  # reference-derived features, per budget

    def __len__(self) -> int:
        return len(self.texts)

    def outputs(self, outs: Sequence[str]) -> Outputs:
        """A model's outputs as units; cached per list (pass the same list again)."""
        got = self._outputs.get(id(outs))
        if got is None or got.texts is not outs:
            parsed = [parse(m, self.fn) for m in outs]
            U, n = padded([term_units(p, self.units) if p is not None else [] for p in parsed], extra=1)
            got = Outputs(outs, U, n, np.array([p is not None for p in parsed], dtype=bool))
            self._outputs[id(outs)] = got
        return got
