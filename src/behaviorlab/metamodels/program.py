"""Shortcut programs: an ordered list of guarded rules applied at every output position.

A program is an abstract state machine in the RASP spirit: at output position i it reads features
of the input x (length n) and of the output so far, fires the first rule whose guard holds, and
performs its action (copy/flip an input token at i+offset, emit a token, stop). Programs are
immutable, hashable, printable (see text.py) and have a size in bits = description length; the
rule machine (machine.py) runs them on many inputs at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from behaviorlab.behaviors.tokens import detokenize, tokenize
from behaviorlab.metamodels.batch import Batch, Vocab
from behaviorlab.metamodels.context import Context, View
from behaviorlab.metamodels.features import gamma
from behaviorlab.metamodels.machine import decode
from behaviorlab.metamodels.rules import Rule

EXCEPTIONS_SUFFIX = "+patch"  # names of programs with exceptions; saved programs carry it, so it stays


@dataclass(frozen=True)
class Program:
    """A named decision list; `oracle` (not serialised) backs the opaque `reference` action.

    With a `view`, rules from index `view_at` on read `x[:head] + x[-tail:]` instead of x; the
    rules before it (exceptions to a windowed shortcut) still read the whole input. The first
    `exceptions` rules are exceptions patched onto the shortcut below them (see `shortcut`).
    """

    name: str
    rules: tuple[Rule, ...]
    oracle: Callable[[str], str] | None = field(default=None, compare=False, repr=False)
    view: View | None = None
    view_at: int = 0
    exceptions: int = 0

    @property
    def size_bits(self) -> float:
        """Description length |C(B)| in bits."""
        # One flag bit says whether a view line follows; a view costs its two small numbers
        # and the line it sits on.
        view = (
            0.0
            if self.view is None
            else (gamma(self.view[0]) + gamma(self.view[1] + 1) + gamma(self.view_at + 1))
        )
        marker = gamma(self.exceptions + 1) if self.exceptions else 0.0
        return 1.0 + view + marker + sum(r.bits() for r in self.rules)

    def uses_reference(self) -> bool:
        """Whether running needs the oracle."""
        return any(r.action.kind == "reference" for r in self.rules)

    def context(self, x: Sequence[str]) -> Context:
        """Build the decoding context, consulting the oracle only when a rule needs it."""
        ref: list[str] = []
        if self.uses_reference():
            if self.oracle is None:
                raise ValueError(f"program {self.name!r} uses `reference` but has no oracle bound")
            try:
                ref = tokenize(self.oracle(detokenize(x)))
            except ValueError:  # BadInput on gibberish: the reference has nothing to say
                ref = []
        return Context(x, ref)

    def batch(self, texts: Sequence[str], vocab: Vocab | None = None) -> Batch:
        """The inputs as a batch this program can run on (with reference outputs if it needs them)."""
        return Batch.of([self.context(tokenize(x)) for x in texts], vocab)

    def outputs(self, batch: Batch) -> list[str]:
        """Greedy decode of every input of a batch (at most 2n + 8 tokens each)."""
        return batch.texts(*decode(self, batch))

    def run(self, text: str) -> str:
        """Input string → output string."""
        return self.run_many([text])[0]

    def run_many(self, texts: Sequence[str]) -> list[str]:
        """Batch form, matching the `predict` signature."""
        return self.outputs(self.batch(texts))

    def bind(self, oracle: Callable[[str], str] | None) -> Program:
        """The same program with an oracle attached."""
        return replace(self, oracle=oracle)

    def renamed(self, name: str) -> Program:
        """The same rules under another name."""
        return replace(self, name=name)

    def with_view(self, view: View | None, name: str | None = None) -> Program:
        """The same rules, all reading a windowed input."""
        return replace(self, name=name or self.name, view=view, view_at=0)

    def without(self, k: int) -> Program:
        """Rule k dropped (the view and the exceptions marker keep their places)."""
        return replace(
            self,
            rules=self.rules[:k] + self.rules[k + 1 :],
            view_at=self.view_at - (k < self.view_at),
            exceptions=self.exceptions - (k < self.exceptions),
        )

    def replacing(self, k: int, rule: Rule) -> Program:
        """Rule k replaced."""
        return replace(self, rules=self.rules[:k] + (rule,) + self.rules[k + 1 :])

    def prepending(self, rules: Sequence[Rule], name: str) -> Program:
        """Exceptions in front; they read the whole input even when the rest is windowed."""
        return replace(
            self,
            name=name,
            rules=tuple(rules) + self.rules,
            view_at=self.view_at + len(rules) if self.view is not None else 0,
            exceptions=self.exceptions + len(rules),
        )

    @property
    def label(self) -> str:
        """Name for tables: the shortcut's name, and how many exceptions sit on top of it."""
        k = self.exceptions
        return self.name if not k else f"{self.shortcut().name} + {k} exception{'s' * (k > 1)}"

    def shortcut(self) -> Program:
        """The program without its exceptions: the shortcut they were patched onto."""
        k = self.exceptions
        return replace(
            self,
            name=self.name.removesuffix(EXCEPTIONS_SUFFIX),
            rules=self.rules[k:],
            view_at=max(self.view_at - k, 0),
            exceptions=0,
        )
