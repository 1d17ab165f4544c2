"""The exact recursive task suite: `get(name, **options)` returns a Task; `names()` lists them.

A task name is a registered name (registry.py: the built-in tasks and any a plugin adds), a
`module:function` reference to a `@reference` function (tasks/custom.py), or the path of a JSONL or
Parquet file of input -> output pairs (tasks/pairs.py)."""

from __future__ import annotations

from behaviorlab import registry
from behaviorlab.errors import BadInput
from behaviorlab.tasks.base import Example, Option, SampleParams, Task
from behaviorlab.tasks.custom import function_task, import_reference, reference
from behaviorlab.tasks.pairs import is_pairs_file, pairs_task

__all__ = ["Example", "Option", "SampleParams", "Task", "get", "names", "reference", "task_class"]


def names() -> list[str]:
    """Task names in a fixed order (built-ins first)."""
    return registry.names("task")


def task_class(name: str) -> type[Task]:
    """The Task class for a name, a `module:function` reference or a pairs file; BadInput lists
    the registered names."""
    if name in registry.names("task"):
        return function_task(registry.load("task", name), name)
    if is_pairs_file(name):
        return pairs_task(name)
    if ":" in name and "/" not in name:
        return function_task(import_reference(name), name)
    raise BadInput(
        f"unknown task {name!r}; expected one of {', '.join(registry.names('task'))}, "
        "a module:function reference or a .jsonl/.parquet file of pairs"
    )


def get(name: str, **options: object) -> Task:
    """A configured task, e.g. `get("tree-inorder", steps=2)`; BadInput on bad names/options."""
    return task_class(name)(**options)
