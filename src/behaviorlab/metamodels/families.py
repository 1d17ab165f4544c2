"""Task-specific program families seeded from the recursion study, each containing the exact
reference algorithm and its shortcut variants (capped carry chains, length-dependent limits).

Families are written as program text so that what the search enumerates is what a reader sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from behaviorlab.metamodels.program import Program
from behaviorlab.metamodels.text import from_text

_NATURAL_CORE = """\
  if i - n >= 1 then stop
  if i - n == 0 and n - run(1) >= 1 then stop
  if i == 0 and n - run(1) == 0 then emit 1
  if i - n + run(1) <= -2 then copy x[0]
  if i - n + run(1) == -1 then flip x[0]
  else emit 0"""

_REVERSE_CORE = """\
  if i - lead(X1) <= -1 then emit XO
  if i - lead(X1) == 0 and x[0] == O1 then emit XO
  if i - lead(X1) == 0 then flip x[0]
  if i - n <= -1 then copy x[0]
  if i - n == 0 and n - lead(X1) == 1 then copy x[-1]
  else stop"""


def _prog(name: str, *blocks: str) -> Program:
    body = "\n".join(b for b in blocks if b)
    return from_text(f"program {name}\n{body}")


def _natural_overflow(c: int, mode: str) -> str:
    """What a model that tracks carry runs only up to c does on longer runs."""
    g = f"run(1) >= {c + 1}"
    if mode == "copy":
        return f"  if {g} then copy x[0]"
    # "flip": the boundary is counted c back from the end, so a 1 gets flipped to 0.
    return "\n".join(
        [
            f"  if {g} and i - n >= 0 then stop",
            f"  if {g} and i - n <= {-c - 2} then copy x[0]",
            f"  if {g} and i - n == {-c - 1} then flip x[0]",
            f"  if {g} then emit 0",
        ]
    )


def _natural_core(extend: bool) -> str:
    if extend:
        return _NATURAL_CORE
    # All-ones inputs handled like the rest: no extra output position.
    return _NATURAL_CORE.replace("  if i - n >= 1 then stop\n", "").replace(
        "i - n == 0 and n - run(1) >= 1", "i - n >= 0"
    )


def natural_family(max_cap: int = 8, max_len: int = 16) -> Iterator[Program]:
    """Natural-order successor: copy prefix, flip one bit, zero the carry run."""
    for extend in (True, False):
        core = _natural_core(extend)
        tag = "" if extend else "-noextend"
        yield _prog(f"natural/reference{tag}" if extend else "natural/no-length-extension", core)
        for c in range(1, max_cap + 1):
            for mode in ("copy", "flip"):
                yield _prog(f"natural/carry-cap{c}-{mode}{tag}", _natural_overflow(c, mode), core)
        for length in range(2, max_len + 1):
            yield _prog(f"natural/length-cap{length}{tag}", f"  if n >= {length + 1} then copy x[0]", core)
    for length in range(2, max_len + 1):  # never writes more than `length` tokens
        yield _prog(f"natural/output-cap{length}", f"  if i >= {length} then stop", _natural_core(True))


def reverse_family(max_cap: int = 8, max_len: int = 16) -> Iterator[Program]:
    """Reverse-order successor: leading X1s → XO, first non-X1 → X1, then copy."""
    yield _prog("reverse/reference", _REVERSE_CORE)
    for c in range(1, max_cap + 1):
        g = f"lead(X1) >= {c + 1}"
        yield _prog(f"reverse/carry-cap{c}-copy", f"  if {g} then copy x[0]", _REVERSE_CORE)
        emit_x1 = "\n".join(
            [
                f"  if {g} and i <= {c - 1} then emit XO",
                f"  if {g} and i == {c} then emit X1",
                f"  if {g} then copy x[0]",
            ]
        )
        yield _prog(f"reverse/carry-cap{c}-emit-x1", emit_x1, _REVERSE_CORE)
    for length in range(2, max_len + 1):
        yield _prog(f"reverse/length-cap{length}", f"  if n >= {length + 1} then copy x[0]", _REVERSE_CORE)
        yield _prog(f"reverse/output-cap{length}", f"  if i >= {length} then stop", _REVERSE_CORE)


def peano_family() -> Iterator[Program]:
    """Peano addition: emit some count of S, then I."""
    for base in ("count(S)", "first(+)"):
        for offset in range(-2, 4):
            for cap in (None, 4, 6, 8, 10, 12):
                cap_rule = f"  if i >= {cap} then emit I" if cap is not None else ""
                name = (
                    "peano/reference"
                    if (base, offset, cap) == ("count(S)", 0, None)
                    else f"peano/{base.split('(')[0]}{offset:+d}" + (f"-cap{cap}" if cap else "")
                )
                yield _prog(
                    name,
                    "  if prev == I then stop",
                    cap_rule,
                    f"  if i - {base} <= {offset} then emit S",
                    "  else emit I",
                )


def tree_family(oracle: Callable[[str], str]) -> Iterator[Program]:
    """Tree steps: copy the term, give up with `[]`, or the (opaque) reference reduction."""
    yield _prog("tree/identity", "  else copy x[0]")
    yield _prog("tree/empty-list", "  if i == 0 then emit [", "  if i == 1 then emit ]", "  else stop")
    yield _prog("tree/reference", "  else reference").bind(oracle)


def family_for(task_key: str, oracle: Callable[[str], str]) -> list[Program]:
    """All family members for a task key such as `binary-successor/natural`."""
    if task_key.startswith("binary-successor"):
        return list(reverse_family() if "reverse" in task_key else natural_family())
    if task_key.startswith("peano"):
        return list(peano_family())
    return list(tree_family(oracle))


def reference_name(task_key: str) -> str:
    """Name of the family member that is the exact reference algorithm."""
    if task_key.startswith("binary-successor"):
        return "reverse/reference" if "reverse" in task_key else "natural/reference"
    return "peano/reference" if task_key.startswith("peano") else "tree/reference"
