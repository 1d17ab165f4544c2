"""Task-specific program families seeded from the recursion study, each containing the exact
reference algorithm and its shortcut variants (capped carry chains, length-dependent limits).

Families are written as program text so that what the search enumerates is what a reader sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from behaviorlab.metamodels.program import Program
from behaviorlab.metamodels.text import from_text
from behaviorlab.metamodels.tree_program import TreeProgram, tree_from_text
from behaviorlab.metamodels.tree_rules import ALL_STEPS

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
    p = from_text(f"program {name}\n{body}")
    assert isinstance(p, Program)
    return p


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


def tree_spec(task_key: str) -> tuple[str, int]:
    """(traversal, step budget) of a tree task key such as `tree-inorder/steps=2`."""
    name, _, rest = task_key.partition("/")
    opts = dict(part.split("=", 1) for part in rest.split("/") if "=" in part)
    steps = opts.get("steps", "all")
    return name.removeprefix("tree-"), ALL_STEPS if steps == "all" else int(steps)


def _tree(name: str, fn: str, steps: int | str, *rules: str, cap: int = 0) -> TreeProgram:
    body = "\n".join(f"  {r}" for r in rules)
    head = f"term {fn} steps {steps}" + (f" cap {cap}" if cap else "")
    return tree_from_text(f"program tree/{name}\n  {head}\n{body}")


def tree_family(task_key: str) -> Iterator[TreeProgram]:
    """Tree traversals: the reference reduction and the study's shortcuts on it — shallow
    reductions (the root unrolled, the rest copied), too few or too many steps, subtrees past a
    depth or above a size left unreduced, dropped or cut off, outputs capped at a number of
    letters and calls, and outputs or inputs cut at a length (learned positions)."""
    fn, k = tree_spec(task_key)
    own = "all" if k == ALL_STEPS else k
    yield _tree("reference", fn, own)
    yield _tree("identity", fn, own, "else keep")
    yield _tree("empty-list", fn, own, "else drop")
    for j in (1, 2, 3, "all"):
        if j != own:
            yield _tree(f"steps-{j}", fn, j)
    for d in range(1, 6):
        for mode in ("keep", "drop", "stop"):
            yield _tree(f"past-depth-{d}-{mode}", fn, own, f"if depth >= {d} then {mode}")
        yield _tree(f"drop-left-past-{d}", fn, own, f"if depth >= {d} then dropleft")
        yield _tree(f"drop-right-past-{d}", fn, own, f"if depth >= {d} then dropright")
    for size in range(2, 8):
        yield _tree(f"keep-size-{size}-up", fn, own, f"if size >= {size} and kind == branch then keep")
    for units in range(1, 13):  # a model that never writes more letters and calls than it saw
        yield _tree(f"unit-cap-{units}", fn, own, cap=units)
    for length in range(6, 62, 2):
        yield _tree(f"output-cap-{length}", fn, own, f"if opos >= {length} then stop")
        yield _tree(f"input-blind-{length}", fn, own, f"if ipos >= {length} then drop")


def generic_family(oracle: Callable[[str], str]) -> Iterator[Program]:
    """Any string task: copy the input, or the (opaque) reference answer."""
    yield _prog("tree/identity", "  else copy x[0]")
    yield _prog("tree/reference", "  else reference").bind(oracle)


def family_for(task_key: str, oracle: Callable[[str], str]) -> list[Program] | list[TreeProgram]:
    """All family members for a task key such as `binary-successor/natural`."""
    if task_key.startswith("binary-successor"):
        return list(reverse_family() if "reverse" in task_key else natural_family())
    if task_key.startswith("peano"):
        return list(peano_family())
    if task_key.startswith("tree-"):
        return list(tree_family(task_key))
    return list(generic_family(oracle))  # a task without a family of its own


def reference_name(task_key: str) -> str:
    """Name of the family member that is the exact reference algorithm."""
    if task_key.startswith("binary-successor"):
        return "reverse/reference" if "reverse" in task_key else "natural/reference"
    return "peano/reference" if task_key.startswith("peano") else "tree/reference"
