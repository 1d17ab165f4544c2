"""tree-preorder and tree-inorder: end-to-end traversal or k reduction steps of a traversal term."""

from __future__ import annotations

import random
from functools import cache
from typing import ClassVar

from behaviorlab.errors import BadInput
from behaviorlab.tasks import terms
from behaviorlab.tasks._stream import TokenStream
from behaviorlab.tasks.base import Example, Option, SampleParams, Task
from behaviorlab.tasks.tokenize import LETTERS, lex
from behaviorlab.tasks.trees import (
    MAX_DEPTH,
    Branch,
    Leaf,
    Tree,
    balanced_shape,
    count_exact,
    depth,
    min_depth_for,
    pick_weighted,
    print_tree,
    relabel,
    spine_shape,
    uniform_shape,
)

ALPHABET = [chr(c) for c in range(ord("a"), ord("z") + 1)]


def shape_depths(shape: str, n: int) -> range:
    """The depths a tree of n Branches can have in a given shape family."""
    if shape == "random":
        return range(min_depth_for(n), n + 1)
    if shape == "balanced":
        return range(min_depth_for(n), min_depth_for(n) + 1)
    return range(n, n + 1)  # spines


@cache
def feasible_sizes(shape: str, lo: int, hi: int, dlo: int, dhi: int) -> tuple[int, ...]:
    """Sizes in lo..hi for which `shape` admits a depth in dlo..dhi."""
    return tuple(n for n in range(lo, hi + 1) if any(dlo <= d <= dhi for d in shape_depths(shape, n)))


class TreeTraversal(Task):
    """Shared machinery; subclasses fix the traversal function."""

    fn: ClassVar[str]
    has_trees = True
    option_specs = (
        Option("steps", (1, 2, 3, "all"), "all", "reductions per example; all = normal form"),
        Option("start", (None, 0), None, "0 forces inputs to be step-0 terms"),
    )
    meta_keys = (
        "length",
        "output_length",
        "size",
        "depth",
        "t",
        "pending_calls",
        "remaining_steps",
    )
    default_sizes = (1, 6)
    size_limit = MAX_DEPTH

    @property
    def label(self) -> str:
        return f"{self.name} (steps={self.options['steps']})"

    def make_key(self) -> str:
        steps = self.options["steps"]
        suffix = "/start=0" if self.options["start"] == 0 and steps != "all" else ""
        return f"{self.name}/steps={steps}{suffix}"

    def grammar_tokens(self) -> tuple[str, ...]:
        return ("(", ")", "[", "]", ";", "++", "Branch", "Leaf", self.fn, *LETTERS)

    def parse(self, text: str) -> terms.Term:
        return terms.parse_term(TokenStream(text, self.label), self.fn)

    def print(self, obj: object) -> str:
        if isinstance(obj, terms.Term):
            return terms.print_term(obj)
        if isinstance(obj, Leaf | Branch):
            return print_tree(obj)
        raise TypeError(f"{self.name} cannot print {obj!r}")

    def reduce(self, term: terms.Term) -> terms.Term:
        """The reference answer for a parsed input term."""
        steps = self.options["steps"]
        if steps == "all":
            return terms.normal_form(term)
        assert isinstance(steps, int)
        return terms.run(term, steps)

    def solve(self, text: str) -> str:
        return terms.print_term(self.reduce(self.parse(text)))

    def meta(self, text: str) -> dict[str, int]:
        term = self.parse(text)
        return self.term_meta(term, terms.infer_t(term))

    def term_meta(self, term: terms.Term, t: int | None) -> dict[str, int]:
        """Metadata of an input term when t is known (-1 for t and depth when it is not)."""
        text = terms.print_term(term)
        return {
            "length": len(lex(text)),
            "output_length": len(lex(terms.print_term(self.reduce(term)))),
            "size": terms.term_size(term),
            "depth": -1 if t is None else t + terms.pending_depth(term),
            "t": -1 if t is None else t,
            "pending_calls": sum(isinstance(i, terms.Call) for i in term.items),
            "remaining_steps": terms.steps_to_normal(term),
        }

    def size_of(self, text: str) -> int:
        return terms.term_size(self.parse(text))

    def draw(self, rng: random.Random, params: SampleParams) -> Example:
        tree = self.draw_tree(rng, params)
        term0 = terms.start(self.fn, tree)
        fixed_start = self.options["steps"] == "all" or self.options["start"] == 0
        # depth + 1 steps reach the normal form, so t < that keeps the input unfinished.
        t = 0 if fixed_start else rng.randrange(depth(tree) + 1)
        term = terms.run(term0, t)
        # Metadata comes from the input text alone (t is inferred), so equal inputs agree on it.
        meta = self.term_meta(term, terms.infer_t(term))
        return Example(terms.print_term(term), terms.print_term(self.reduce(term)), meta)

    def draw_tree(self, rng: random.Random, params: SampleParams) -> Tree:
        """A random tree under the size, depth, shape, edge and letter settings."""
        shape = params.shape
        if rng.random() < params.edge_fraction:
            shape = rng.choice(("left-spine", "right-spine"))
        dlo = params.min_depth if params.min_depth is not None else 0
        dhi = params.max_depth if params.max_depth is not None else MAX_DEPTH
        sizes = feasible_sizes(shape, params.min_size, params.max_size, dlo, dhi)
        if not sizes:
            raise BadInput(
                f"{self.label}: no {shape} tree has size {params.min_size}..{params.max_size}"
                f" and depth {dlo}..{dhi}"
            )
        if not params.repeat_letters and params.max_size > len(ALPHABET):
            raise BadInput(f"{self.label}: distinct letters allow at most 26 nodes")
        n = rng.choice(sizes)
        if shape == "random":
            heights = [h for h in shape_depths(shape, n) if dlo <= h <= dhi]
            # Integer weights: exact for huge counts and identical on every platform.
            h = pick_weighted(rng, [(count_exact(n, h), h) for h in heights])
            tree = uniform_shape(rng, n, h, exact=True)
        elif shape == "balanced":
            tree = balanced_shape(rng, n)
        else:
            tree = spine_shape(n, shape.removesuffix("-spine"))
        if params.repeat_letters:
            letters = [rng.choice(ALPHABET) for _ in range(n)]
        else:
            letters = rng.sample(ALPHABET, n)
        return relabel(tree, letters)


class TreePreorder(TreeTraversal):
    """Preorder traversal of a letter-labelled binary tree."""

    name = "tree-preorder"
    fn = "preorder"
    description = "preorder of a binary letter tree; options steps (1|2|3|all), start (0)"


class TreeInorder(TreeTraversal):
    """Inorder traversal of a letter-labelled binary tree."""

    name = "tree-inorder"
    fn = "inorder"
    description = "inorder of a binary letter tree; options steps (1|2|3|all), start (0)"
