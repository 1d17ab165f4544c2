"""The Task interface every task family implements, plus shared option and sampling checks."""

from __future__ import annotations

import operator
import random
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol, TypedDict, Unpack

from behaviorlab.errors import BadInput
from behaviorlab.tasks.tokenize import Vocab

SHAPES: tuple[str, ...] = ("random", "balanced", "left-spine", "right-spine")


@dataclass(frozen=True)
class Example:
    """One input/output pair in canonical syntax, with integer metadata for failure analysis."""

    input: str
    output: str
    meta: dict[str, int]

    def to_dict(self) -> dict[str, object]:
        """Plain dict (the jsonl form)."""
        return {"input": self.input, "output": self.output, "meta": dict(self.meta)}


class Learnable(Protocol):
    """What training and evaluation need of a data source (a Task, or recorded data)."""

    @property
    def key(self) -> str:
        """Summary key, e.g. `binary-successor/reverse`."""
        ...

    @property
    def vocab(self) -> Vocab:
        """Token ids for inputs and outputs."""
        ...


@dataclass(frozen=True)
class Option:
    """A task option with a closed set of values; strings like "2" or "0" match ints 2 or 0."""

    name: str
    choices: tuple[object, ...]
    default: object
    help: str

    def convert(self, task: str, value: object) -> object:
        """The matching choice for `value`, or BadInput listing the valid choices."""
        for choice in self.choices:
            if type(value) is type(choice) and value == choice:
                return choice
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value) == str(choice):
                return choice
        valid = ", ".join(str(c) for c in self.choices)
        raise BadInput(f"{task}: option {self.name} must be one of {valid}; got {value!r}")


class Ranges(TypedDict, total=False):
    """Sampler settings a caller may give (sizes and depths inclusive; None: the task's default)."""

    min_size: int | None
    max_size: int | None
    min_depth: int | None
    max_depth: int | None
    edge_fraction: float
    repeat_letters: bool
    shape: str


@dataclass(frozen=True)
class SampleParams:
    """Validated sampler settings (sizes and depths inclusive)."""

    min_size: int
    max_size: int
    min_depth: int | None
    max_depth: int | None
    edge_fraction: float
    repeat_letters: bool
    shape: str


class Task(ABC):
    """A task: datatype, reference function, parser/printer, sampler, and a vocabulary."""

    name: ClassVar[str]
    description: ClassVar[str]
    option_specs: ClassVar[tuple[Option, ...]] = ()
    meta_keys: ClassVar[tuple[str, ...]]
    default_sizes: ClassVar[tuple[int, int]]
    size_limit: ClassVar[int]  # largest size the sampler will draw (keeps recursion shallow)
    has_trees: ClassVar[bool] = False

    def __init__(self, **options: object) -> None:
        self.options: dict[str, object] = self.resolve_options(options)
        self.key: str = self.make_key()
        self.vocab: Vocab = Vocab(self.grammar_tokens(), self.label)

    @classmethod
    def resolve_options(cls, given: dict[str, object]) -> dict[str, object]:
        """Fill defaults and validate; None means "not given"."""
        specs = {o.name: o for o in cls.option_specs}
        unknown = sorted(k for k, v in given.items() if k not in specs and v is not None)
        if unknown:
            valid = ", ".join(specs) or "none"
            raise BadInput(f"{cls.name}: unknown option {', '.join(unknown)}; valid options: {valid}")
        resolved: dict[str, object] = {}
        for name, spec in specs.items():
            value = given.get(name)
            resolved[name] = spec.default if value is None else spec.convert(cls.name, value)
        return resolved

    @property
    def label(self) -> str:
        """Name used in error messages, e.g. `binary-successor (reverse)`."""
        return self.name

    def make_key(self) -> str:
        """Summary key; tasks with options override (e.g. `binary-successor/reverse`)."""
        return self.name

    def __repr__(self) -> str:
        return f"<Task {self.key}>"

    @abstractmethod
    def grammar_tokens(self) -> tuple[str, ...]:
        """Tokens inputs and outputs can use, in a fixed order (ids follow this order)."""

    @abstractmethod
    def parse(self, text: str) -> object:
        """Parse a canonical input; BadInput names the position and what was expected."""

    def parse_output(self, text: str) -> object:
        """Parse a canonical output (same grammar as inputs unless a task says otherwise)."""
        return self.parse(text)

    @abstractmethod
    def print(self, obj: object) -> str:
        """Canonical string of a parsed input or output object."""

    @abstractmethod
    def solve(self, text: str) -> str:
        """Canonical output for an input, by the reference function."""

    @abstractmethod
    def meta(self, text: str) -> dict[str, int]:
        """Failure-analysis metadata of an input (keys: `meta_keys`)."""

    @abstractmethod
    def size_of(self, text: str) -> int:
        """The quantity `min_size`/`max_size` refer to."""

    @abstractmethod
    def draw(self, rng: random.Random, params: SampleParams) -> Example:
        """One random example under validated parameters."""

    def answer_bound(self, text: str) -> int:
        """The most tokens an answer to `text` can have: the reference output's length for a valid
        input, and for any other string of the grammar's tokens, twice its length plus 4 (tasks
        whose outputs are bounded by their input's length say so more tightly)."""
        try:
            return len(self.vocab.tokenize(self.solve(text)))
        except BadInput:
            return 2 * len(self.vocab.tokenize(text)) + 4

    def describe(self) -> str:
        """One line for `tasks list`."""
        return self.description

    def sample(self, n: int, seed: int, **ranges: Unpack[Ranges]) -> list[Example]:
        """`n` random examples; the same seed gives the same list in any process."""
        return list(self.stream(n, seed, **ranges))

    def stream(self, n: int, seed: int, **ranges: Unpack[Ranges]) -> Iterator[Example]:
        """The examples of `sample`, one at a time (bounded memory for any n); checks run first."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise BadInput(f"{self.label}: n must be a non-negative integer; got {n!r}")
        unknown = set(ranges) - set(Ranges.__annotations__)
        if unknown:
            raise BadInput(f"{self.label}: unknown sampling option(s) {sorted(unknown)}")
        params = self.check_params(
            ranges.get("min_size"),
            ranges.get("max_size"),
            ranges.get("min_depth"),
            ranges.get("max_depth"),
            ranges.get("edge_fraction", 0.0),
            ranges.get("repeat_letters", True),
            ranges.get("shape", "random"),
        )
        try:
            rng = random.Random(operator.index(seed))  # numpy ints welcome; floats/str are not
        except TypeError:
            raise BadInput(f"{self.label}: seed must be an integer; got {seed!r}") from None
        return (self.draw(rng, params) for _ in range(n))

    def check_params(
        self,
        min_size: int | None,
        max_size: int | None,
        min_depth: int | None,
        max_depth: int | None,
        edge_fraction: float,
        repeat_letters: bool,
        shape: str,
    ) -> SampleParams:
        """Validate sampler settings, filling size defaults (a lone bound stretches the other)."""
        lo_default, hi_default = self.default_sizes
        lo = min_size if min_size is not None else min(lo_default, max_size or lo_default)
        hi = max_size if max_size is not None else max(hi_default, lo)
        if not 1 <= lo <= hi <= self.size_limit:
            raise BadInput(
                f"{self.label}: size range must satisfy 1 <= min_size <= max_size <="
                f" {self.size_limit}; got {lo}..{hi}"
            )
        if not 0.0 <= edge_fraction <= 1.0:
            raise BadInput(f"{self.label}: edge_fraction must be in [0, 1]; got {edge_fraction}")
        if not self.has_trees:
            for flag, given in (
                ("min_depth", min_depth is not None),
                ("max_depth", max_depth is not None),
                ("shape", shape != "random"),
                ("repeat_letters", not repeat_letters),
            ):
                if given:
                    raise BadInput(f"{self.label}: {flag} applies only to tree tasks")
        if shape not in SHAPES:
            raise BadInput(f"{self.label}: shape must be one of {', '.join(SHAPES)}; got {shape!r}")
        if min_depth is not None and max_depth is not None and min_depth > max_depth:
            raise BadInput(f"{self.label}: min_depth {min_depth} > max_depth {max_depth}")
        return SampleParams(lo, hi, min_depth, max_depth, edge_fraction, repeat_letters, shape)
