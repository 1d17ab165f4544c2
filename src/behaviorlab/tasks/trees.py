"""Binary letter trees: datatype, traversals, printer, parser, and shape samplers."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from behaviorlab.tasks._stream import TokenStream
from behaviorlab.tasks.tokenize import LETTERS

T = TypeVar("T")

# Nesting bound: parsing, printing and traversing recurse once per level.
MAX_DEPTH = 200


@dataclass(frozen=True)
class Leaf:
    """The empty tree."""


@dataclass(frozen=True)
class Branch:
    """A node with a letter `c` ('a'..'z', unquoted) and two subtrees."""

    c: str
    left: Tree
    right: Tree


Tree = Leaf | Branch


def preorder(t: Tree) -> list[str]:
    """preorder Leaf = [];  preorder (Branch c l r) = [c] ++ preorder l ++ preorder r."""
    match t:
        case Leaf():
            return []
        case Branch(c, left, right):
            return [c, *preorder(left), *preorder(right)]
    raise TypeError(f"not a tree: {t!r}")


def inorder(t: Tree) -> list[str]:
    """inorder Leaf = [];  inorder (Branch c l r) = inorder l ++ [c] ++ inorder r."""
    match t:
        case Leaf():
            return []
        case Branch(c, left, right):
            return [*inorder(left), c, *inorder(right)]
    raise TypeError(f"not a tree: {t!r}")


TRAVERSALS = {"preorder": preorder, "inorder": inorder}


def size(t: Tree) -> int:
    """Number of Branch nodes."""
    return 0 if isinstance(t, Leaf) else 1 + size(t.left) + size(t.right)


def depth(t: Tree) -> int:
    """Branch nodes on the longest root-to-leaf path."""
    return 0 if isinstance(t, Leaf) else 1 + max(depth(t.left), depth(t.right))


def print_tree(t: Tree, nested: bool = False) -> str:
    """`Leaf` or `Branch 'c' L R`, with Branch subtrees (and a nested Branch) in parentheses."""
    if isinstance(t, Leaf):
        return "Leaf"
    body = f"Branch '{t.c}' {print_tree(t.left, True)} {print_tree(t.right, True)}"
    return f"({body})" if nested else body


def parse_subtree(stream: TokenStream, where: str, level: int = 1) -> Tree:
    """`Leaf` or `( Branch 'c' T T )`: the form of a subtree or a call argument."""
    tok = stream.expect({"Leaf", "("}, f"Leaf or ( {where}")
    if tok == "Leaf":
        return Leaf()
    if level > MAX_DEPTH:
        stream.fail(f"a tree at most {MAX_DEPTH} levels deep", stream.pos - 1)
    tree = parse_branch(stream, level)
    stream.expect({")"}, f") closing Branch '{tree.c}'")
    return tree


def parse_branch(stream: TokenStream, level: int = 1) -> Branch:
    """`Branch 'c' T T` (no outer parentheses)."""
    stream.expect({"Branch"}, "Branch")
    letter = stream.expect(LETTERS, "a quoted letter 'a'..'z'")
    c = letter[1]
    left = parse_subtree(stream, f"(the left subtree of Branch '{c}')", level + 1)
    right = parse_subtree(stream, f"(the right subtree of Branch '{c}')", level + 1)
    return Branch(c, left, right)


def parse_tree(text: str, label: str = "tree") -> Tree:
    """A whole tree in canonical form: `Leaf` or an unparenthesised `Branch ...`."""
    stream = TokenStream(text, label)
    tree: Tree
    if stream.peek() == "Leaf":
        stream.take()
        tree = Leaf()
    elif stream.peek() == "Branch":
        tree = parse_branch(stream)
    else:
        stream.fail("Leaf or Branch")
    stream.expect_end()
    return tree


# --- shapes -------------------------------------------------------------------------------------
# Exact counting makes "random" uniform over all shapes of a size within a depth range.


@cache
def count_at_most(n: int, h: int) -> int:
    """Number of tree shapes with n Branches and depth <= h."""
    if h < 0:
        return 0
    if n == 0:
        return 1
    if h >= n:  # no depth limit in effect: the Catalan number
        return math.comb(2 * n, n) // (n + 1)
    return sum(count_at_most(k, h - 1) * count_at_most(n - 1 - k, h - 1) for k in range(n))


def count_exact(n: int, h: int) -> int:
    """Number of tree shapes with n Branches and depth exactly h."""
    return count_at_most(n, h) - (count_at_most(n, h - 1) if h > 0 else 0)


def min_depth_for(n: int) -> int:
    """The smallest depth a tree of n Branches can have (a balanced tree)."""
    return n.bit_length()


def pick_weighted(rng: random.Random, weights: list[tuple[int, T]]) -> T:
    """Choose an item with probability proportional to its integer weight (exact for big ints)."""
    r = rng.randrange(sum(w for w, _ in weights))
    for w, item in weights:
        if r < w:
            return item
        r -= w
    raise AssertionError("weights exhausted")


def uniform_shape(rng: random.Random, n: int, h: int, exact: bool) -> Tree:
    """A uniformly random shape with n Branches and depth exactly h (or <= h); letters 'a'."""
    if n == 0:
        return Leaf()
    # (weight, (left size, left depth bound, left exact?, right exact?)) for each way to split.
    splits: list[tuple[int, tuple[int, int, bool, bool]]] = []
    for k in range(n):
        r = n - 1 - k
        below, at_most = h - 1, count_at_most
        if exact:  # one child has depth exactly h-1; split on whether the left one does
            splits.append((count_exact(k, below) * at_most(r, below), (k, below, True, False)))
            weight = at_most(k, below - 1) * count_exact(r, below)
            splits.append((weight, (k, below - 1, False, True)))
        else:
            splits.append((at_most(k, below) * at_most(r, below), (k, below, False, False)))
    k, left_h, left_exact, right_exact = pick_weighted(rng, [s for s in splits if s[0] > 0])
    left = uniform_shape(rng, k, left_h, left_exact)
    return Branch("a", left, uniform_shape(rng, n - 1 - k, h - 1, right_exact))


def balanced_shape(rng: random.Random, n: int) -> Tree:
    """A minimum-depth shape; the odd node goes left or right at random."""
    if n == 0:
        return Leaf()
    half, extra = divmod(n - 1, 2)
    k = half + extra if extra and rng.random() < 0.5 else half
    return Branch("a", balanced_shape(rng, k), balanced_shape(rng, n - 1 - k))


def spine_shape(n: int, side: str) -> Tree:
    """A degenerate chain of n Branches going left or right."""
    tree: Tree = Leaf()
    for _ in range(n):
        tree = Branch("a", tree, Leaf()) if side == "left" else Branch("a", Leaf(), tree)
    return tree


def relabel(t: Tree, letters: list[str]) -> Tree:
    """Assign letters to the Branches in preorder (consumes `letters` from the front)."""
    if isinstance(t, Leaf):
        return t
    c = letters.pop(0)
    left = relabel(t.left, letters)
    return Branch(c, left, relabel(t.right, letters))
