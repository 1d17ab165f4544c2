"""What a teacher is asked: skills (an exact task, how its inputs become query text, how invalid
queries look) grouped in families. `synthetic`: `successor: 1 0 1 1`, `add: S I + I`,
`reverse: t a b l e`; `next-number`: "What is the next number after 865?" for a real chat model."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from behaviorlab import tasks
from behaviorlab.errors import BadInput
from behaviorlab.tasks.base import Example, SampleParams, Task

LETTERS = tuple("abcdefghijklmnopqrstuvwxyz")
# Tokens spliced into a valid input to make an invalid one (kept only when it no longer parses).
_CORRUPT = ("0", "1", "S", "I", "+", "a", "e", "x")


class LetterReverse(Task):
    """reverse: a word as spaced lowercase letters -> the letters in reverse order."""

    name = "letter-reverse"
    description = "a word as spaced letters -> the same letters reversed"
    meta_keys = ("length",)
    default_sizes = (2, 6)
    size_limit = 16

    def grammar_tokens(self) -> tuple[str, ...]:
        return LETTERS

    def parse(self, text: str) -> list[str]:
        letters = text.split()
        bad = next((i for i, t in enumerate(letters) if t not in LETTERS), None)
        if bad is not None or not letters:
            where = f"at token {bad + 1} ({letters[bad]!r})" if bad is not None else "empty"
            raise BadInput(f"{self.name}: {where}: expected lowercase letters a..z")
        return letters

    def print(self, obj: object) -> str:
        return " ".join(obj) if isinstance(obj, list) else str(obj)

    def solve(self, text: str) -> str:
        return " ".join(reversed(self.parse(text)))

    def meta(self, text: str) -> dict[str, int]:
        return {"length": len(self.parse(text))}

    def size_of(self, text: str) -> int:
        return len(self.parse(text))

    def draw(self, rng: random.Random, params: SampleParams) -> Example:
        text = " ".join(rng.choice(LETTERS) for _ in range(rng.randint(params.min_size, params.max_size)))
        return Example(text, self.solve(text), self.meta(text))


class DecimalSuccessor(Task):
    """A decimal number as spaced digits -> its successor (what `next-number` questions ask)."""

    name = "decimal-successor"
    description = "a decimal number as spaced digits -> its successor"
    meta_keys = ("length",)
    default_sizes = (1, 3)
    size_limit = 9

    def grammar_tokens(self) -> tuple[str, ...]:
        return tuple("0123456789")

    def parse(self, text: str) -> int:
        digits = text.split()
        if not digits or any(d not in "0123456789" or len(d) != 1 for d in digits) or digits[0] == "0":
            raise BadInput(f"{self.name}: {text!r}: expected spaced digits without a leading zero")
        return int("".join(digits))

    def print(self, obj: object) -> str:
        return " ".join(str(obj))

    def solve(self, text: str) -> str:
        return self.print(self.parse(text) + 1)

    def meta(self, text: str) -> dict[str, int]:
        return {"length": len(text.split())}

    def size_of(self, text: str) -> int:
        return len(text.split())

    def draw(self, rng: random.Random, params: SampleParams) -> Example:
        digits = rng.randint(params.min_size, params.max_size)
        text = self.print(rng.randint(10 ** (digits - 1) if digits > 1 else 1, 10**digits - 1))
        return Example(text, self.solve(text), self.meta(text))


class DecimalPredecessor(DecimalSuccessor):
    """A decimal number above one as spaced digits -> its predecessor."""

    name = "decimal-predecessor"
    description = "a decimal number above one as spaced digits -> its predecessor"

    def solve(self, text: str) -> str:
        value = self.parse(text)
        if value < 2:
            raise BadInput(f"{self.name}: {text!r}: the numbers here start at 1; 1 has no predecessor")
        return self.print(value - 1)

    def draw(self, rng: random.Random, params: SampleParams) -> Example:
        digits = rng.randint(params.min_size, params.max_size)
        text = self.print(rng.randint(10 ** (digits - 1) if digits > 1 else 2, 10**digits - 1))
        return Example(text, self.solve(text), self.meta(text))


@dataclass(frozen=True)
class Skill:
    """One task a teacher answers: its exact task, its query text and its input sizes."""

    name: str
    task: Any  # a behaviorlab Task: parse, solve, sample
    sizes: tuple[int, int]
    template: str  # the query text, `{x}` standing for the task input

    def query(self, x: str) -> str:
        """The query text of a task input."""
        return self.template.format(x=x, compact=x.replace(" ", ""))

    def inputs(self, n: int, seed: int, sizes: tuple[int, int] | None = None) -> list[str]:
        """`n` task inputs drawn in a size range (default: the skill's own)."""
        lo, hi = sizes or self.sizes
        return [e.input for e in self.task.sample(n, seed, min_size=lo, max_size=hi)]

    def valid(self, x: str) -> bool:
        """Whether a task input parses."""
        try:
            self.task.parse(x)
        except BadInput:
            return False
        return True

    def invalid(self, rng: random.Random) -> str:
        """A task input that does not parse: a valid one with a token spliced in or replaced."""
        for _ in range(100):
            toks = self.inputs(1, rng.randrange(2**31))[0].split()
            i = rng.randrange(len(toks) + 1)
            if rng.random() < 0.5 and i < len(toks):
                toks[i] = rng.choice(_CORRUPT)
            else:
                toks.insert(i, rng.choice(_CORRUPT))
            if not self.valid(" ".join(toks)):
                return " ".join(toks)
        raise BadInput(f"{self.name}: could not corrupt an input into an invalid one")


@dataclass(frozen=True)
class Family:
    """Skills asked in one query format, and how to read a query back into (skill, task input)."""

    name: str
    skills: dict[str, Skill]
    pattern: str  # regex with groups `skill` (optional) and `x`
    spaced: bool = False  # the query writes the input's tokens without spaces (`865` for `8 6 5`)

    def split(self, query: str) -> tuple[Skill, str] | None:
        """The skill and canonical task input a query asks about (None for text in no known format)."""
        m = re.fullmatch(self.pattern, query.strip())
        if m is None:
            return None
        name = m.groupdict().get("skill") or next(iter(self.skills))
        skill = self.skills.get(name)
        x = m.group("x").strip()
        return None if skill is None else (skill, " ".join(x) if self.spaced else x)


SYNTHETIC = Family(
    "synthetic",
    {
        "successor": Skill(
            "successor", tasks.get("binary-successor", order="natural"), (1, 10), "successor: {x}"
        ),
        "add": Skill("add", tasks.get("peano-add"), (1, 10), "add: {x}"),
        "reverse": Skill("reverse", LetterReverse(), (2, 6), "reverse: {x}"),
    },
    r"(?P<skill>[a-z]+): (?P<x>.*)",
)
NEXT_NUMBER = Family(
    "next-number",
    {
        "next": Skill("next", DecimalSuccessor(), (1, 3), "What is the next number after {compact}?"),
        "previous": Skill(
            "previous", DecimalPredecessor(), (1, 3), "What is the previous number before {compact}?"
        ),
    },
    r"What is the (?P<skill>next|previous) number (?:after|before) (?P<x>\S*)\?",
    spaced=True,
)
FAMILIES = {f.name: f for f in (SYNTHETIC, NEXT_NUMBER)}


def family(name: str) -> Family:
    """A family by name; BadInput lists the known ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise BadInput(f"unknown task family {name!r}; expected one of {', '.join(FAMILIES)}") from None
