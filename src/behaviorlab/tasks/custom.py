"""Your own task without forking: a Python function is the reference.

Mark a function with `@reference(alphabet=...)` and name it `module:function` wherever a task name
goes (`[data] task = "mylab.tasks:reverse"`, `explain --model --task mylab.tasks:reverse`), or
register it from a plugin. Inputs and outputs are space-separated tokens; inputs are drawn as random
token sequences of the sampled size unless the decorator gives a sampler `(rng, size) -> input`:

    @reference(alphabet="a b c", sizes=(1, 6))
    def reverse(x: str) -> str:
        return " ".join(reversed(x.split()))
"""

from __future__ import annotations

import importlib
import os
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from behaviorlab.errors import BadInput
from behaviorlab.tasks.base import Example, SampleParams, Task
from behaviorlab.tasks.tokenize import lex

Reference = Callable[[str], str]
Sampler = Callable[[random.Random, int], str]


@dataclass(frozen=True)
class ReferenceSpec:
    """What a task needs besides its reference function."""

    alphabet: tuple[str, ...]  # input tokens
    outputs: tuple[str, ...] = ()  # further tokens only outputs use
    sizes: tuple[int, int] = (1, 8)  # default input lengths (tokens)
    size_limit: int = 64
    sample: Sampler | None = None
    description: str = ""


def _tokens(value: str | Sequence[str]) -> tuple[str, ...]:
    return tuple(value.split()) if isinstance(value, str) else tuple(value)


def check_tokens(tokens: Sequence[str], where: str) -> tuple[str, ...]:
    """Tokens a vocabulary can hold: each one lexeme (no spaces, brackets or `;` inside)."""
    bad = [t for t in tokens if [x for x, _ in lex(t)] != [t]]
    if bad:
        raise BadInput(f"{where}: tokens {bad[:5]} contain spaces, brackets or ';' (a token is one word)")
    if not tokens:
        raise BadInput(f"{where}: no tokens")
    return tuple(dict.fromkeys(tokens))


def reference(
    *,
    alphabet: str | Sequence[str],
    outputs: str | Sequence[str] = (),
    sizes: tuple[int, int] = (1, 8),
    size_limit: int = 64,
    sample: Sampler | None = None,
    description: str = "",
) -> Callable[[Reference], Reference]:
    """Mark `fn(input) -> output` as a task's reference: its input tokens, any tokens only outputs
    use, default input sizes, and an optional sampler `(rng, size) -> input`."""
    spec = ReferenceSpec(_tokens(alphabet), _tokens(outputs), sizes, size_limit, sample, description)

    def mark(fn: Reference) -> Reference:
        fn.behaviorlab_task = spec  # type: ignore[attr-defined]
        return fn

    return mark


class TokenTask(Task):
    """A task over space-separated tokens from a fixed set: parse checks them, `length` is the size."""

    meta_keys: ClassVar[tuple[str, ...]] = ("length",)
    inputs: ClassVar[tuple[str, ...]]  # tokens an input may use
    tokens: ClassVar[tuple[str, ...]]  # every token inputs and outputs use, in vocabulary order

    def grammar_tokens(self) -> tuple[str, ...]:
        return self.tokens

    def parse(self, text: str) -> list[str]:
        """The input's tokens; BadInput names the first token the task does not know."""
        toks = [(m.group(), m.start()) for m in re.finditer(r"\S+", text)]
        if not toks:
            raise BadInput(f"{self.label}: empty input")
        for tok, at in toks:
            if tok not in self.inputs:
                known = " ".join(self.inputs)
                raise BadInput(f"{self.label}: unknown token {tok!r} at {at}; inputs use {known}")
        return [t for t, _ in toks]

    def print(self, obj: object) -> str:
        return " ".join(str(t) for t in obj) if isinstance(obj, list | tuple) else str(obj)

    def meta(self, text: str) -> dict[str, int]:
        return {"length": self.size_of(text)}

    def size_of(self, text: str) -> int:
        return len(text.split())

    def checked_output(self, out: str, where: str) -> str:
        """An output respelled canonically; BadInput when it uses a token outside the vocabulary."""
        toks = out.split()
        unknown = sorted(set(toks) - set(self.tokens))
        if unknown:
            raise BadInput(f"{self.label}: {where} gives tokens {unknown} outside the task's tokens")
        return " ".join(toks)


class FunctionTask(TokenTask):
    """A task whose reference is a Python function (see `reference`); built by `function_task`."""

    fn: ClassVar[Reference]
    spec: ClassVar[ReferenceSpec]

    def solve(self, text: str) -> str:
        canonical = self.print(self.parse(text))
        return self.checked_output(type(self).fn(canonical), f"the reference on {canonical!r}")

    def draw(self, rng: random.Random, params: SampleParams) -> Example:
        size = rng.randint(params.min_size, params.max_size)
        if self.spec.sample is not None:
            x = self.print(self.parse(self.spec.sample(rng, size)))
        else:
            x = " ".join(rng.choice(self.inputs) for _ in range(size))
        return Example(x, self.solve(x), self.meta(x))


def function_task(fn: Any, name: str) -> type[Task]:
    """A Task class for a `@reference` function (or a Task class itself, returned as it is)."""
    if isinstance(fn, type) and issubclass(fn, Task):
        return fn
    spec = getattr(fn, "behaviorlab_task", None)
    if not callable(fn) or not isinstance(spec, ReferenceSpec):
        raise BadInput(
            f"task {name}: not a Task class nor a function marked with "
            "@behaviorlab.tasks.reference(alphabet=...)"
        )
    inputs = check_tokens(spec.alphabet, f"task {name}: alphabet")
    outputs = tuple(t for t in check_tokens(spec.outputs, name) if t not in inputs) if spec.outputs else ()
    attrs = {
        "name": name,
        "description": spec.description or (fn.__doc__ or f"reference {name}").strip().splitlines()[0],
        "default_sizes": spec.sizes,
        "size_limit": spec.size_limit,
        "inputs": inputs,
        "tokens": inputs + outputs,
        "fn": staticmethod(fn),
        "spec": spec,
    }
    return type(f"FunctionTask[{name}]", (FunctionTask,), attrs)


def import_reference(ref: str) -> Any:
    """The object `module:attr` names; the current directory is searched too (like `python -m`)."""
    module, _, attr = ref.partition(":")
    try:
        try:
            found = importlib.import_module(module)
        except ModuleNotFoundError:
            if os.getcwd() in sys.path:
                raise
            sys.path.insert(0, os.getcwd())
            found = importlib.import_module(module)
        return getattr(found, attr)
    except (ImportError, AttributeError) as e:
        raise BadInput(f"task {ref}: cannot import it: {type(e).__name__}: {e}") from None
