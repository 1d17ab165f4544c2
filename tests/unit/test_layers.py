"""Each stage imports only from stages before it (the order CONTRIBUTING.md lists), and no two
modules import each other."""

from __future__ import annotations

import ast
import functools
import re
import sys
from pathlib import Path

import behaviorlab

ROOT = Path(behaviorlab.__file__).parent
CONTRIBUTING = Path(__file__).resolve().parents[2] / "CONTRIBUTING.md"
BEGIN, END = "<!-- imports:begin -->", "<!-- imports:end -->"


def _stages() -> list[str]:
    """The stages as CONTRIBUTING.md lists them ("1. `errors.py`, `io.py` — …"), in import order."""
    text = CONTRIBUTING.read_text(encoding="utf-8")
    listing = text.split("Stages in import order", 1)[1].split("\n## ", 1)[0]
    out = []
    for line in listing.splitlines():
        found = re.match(r"\d+\. (.*?) — ", line)
        if found:
            names = re.findall(r"`([^`]+)`", found.group(1))
            out.append(" ".join(n.removesuffix("/").removesuffix(".py") for n in names))
    return out


# Pipeline order; a module may import from its own stage or any stage listed before it.
STAGES = _stages()
RANK = {name: i for i, stage in enumerate(STAGES) for name in stage.split()}
# The package root only hands the notebook entry points on (lazily): it is the facade, not a stage.
FACADE = {"__init__"}


def _stage(module: str) -> str:
    return module.split(".")[0]


def _imports(path: Path) -> set[str]:
    """behaviorlab modules a file imports, at top level or inside functions (`from pkg import mod`
    counts as importing the submodule)."""
    known = _modules()
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("behaviorlab"):
            base = node.module.removeprefix("behaviorlab").removeprefix(".")
            for alias in node.names:
                sub = f"{base}.{alias.name}" if base else alias.name
                out.add(sub if sub in known else base)
        elif isinstance(node, ast.Import):
            out.update(
                a.name.removeprefix("behaviorlab.") for a in node.names if a.name.startswith("behaviorlab.")
            )
    return out


@functools.cache
def _modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in ROOT.rglob("*.py")
    }


def test_every_import_points_to_an_earlier_stage() -> None:
    wrong = []
    for module, path in _modules().items():
        if module in FACADE:
            continue
        assert _stage(module) in RANK, f"{module}: add its folder to STAGES (and CONTRIBUTING.md)"
        for target in _imports(path):
            if RANK[_stage(target)] > RANK[_stage(module)]:
                wrong.append(f"{module} -> {target}")
    assert not wrong, wrong


def test_no_two_modules_import_each_other() -> None:
    mods = _modules()
    graph = {m: {t for t in _imports(p) if t in mods} for m, p in mods.items()}
    loops = sorted({tuple(sorted((a, b))) for a, ts in graph.items() for b in ts if a in graph.get(b, set())})
    assert not loops, loops


def test_every_module_and_every_lazy_import_resolves() -> None:
    """Imports inside functions are not checked by mypy here (missing imports are ignored):
    every `behaviorlab.*` module named anywhere in the package must exist."""
    import importlib.util

    repo = Path(__file__).resolve().parents[2]
    files = {**_modules(), **{str(p): p for d in ("tests", "benchmarks") for p in (repo / d).rglob("*.py")}}
    missing = sorted(
        f"{m} -> {t}"
        for m, p in files.items()
        for t in _imports(p)
        if importlib.util.find_spec(f"behaviorlab.{t}") is None
    )
    assert not missing, missing


def imports_block() -> str:
    """Per stage, the earlier stages its modules import (read from the code), as a text block."""
    mods = {m: p for m, p in _modules().items() if m not in FACADE}
    uses: dict[int, set[int]] = {i: set() for i in range(len(STAGES))}
    for module, path in mods.items():
        for target in _imports(path):
            if _stage(target) in RANK and RANK[_stage(target)] < RANK[_stage(module)]:
                uses[RANK[_stage(module)]].add(RANK[_stage(target)])
    width = max(len(s) for s in STAGES)
    lines = [
        f"{STAGES[i]:<{width}}  <- "
        + (" | ".join(STAGES[j].split()[0] for j in sorted(used)) or "(standard library)")
        for i, used in uses.items()
    ]
    return "```\n" + "\n".join(lines) + "\n```"


def test_contributing_shows_the_real_import_graph() -> None:
    text = CONTRIBUTING.read_text(encoding="utf-8")
    shown = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert shown == imports_block(), (
        "run `python tests/unit/test_layers.py` to rewrite CONTRIBUTING.md's block"
    )


if __name__ == "__main__":  # rewrite the block in CONTRIBUTING.md from the code
    text = CONTRIBUTING.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    CONTRIBUTING.write_text(head + BEGIN + "\n" + imports_block() + "\n" + END + rest.split(END, 1)[1])
    sys.exit(0)
