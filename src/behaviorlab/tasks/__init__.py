"""The exact recursive task suite: `get(name, **options)` returns a Task; `names()` lists them.

Tasks come from the registry (registry.py): the built-in ones, and any a plugin package adds."""

from __future__ import annotations

from behaviorlab import registry
from behaviorlab.errors import BadInput
from behaviorlab.tasks.base import Example, Option, SampleParams, Task

__all__ = ["Example", "Option", "SampleParams", "Task", "get", "names", "task_class"]


def names() -> list[str]:
    """Task names in a fixed order (built-ins first)."""
    return registry.names("task")


def task_class(name: str) -> type[Task]:
    """The Task class for a name; BadInput lists the valid names."""
    cls = registry.load("task", name)
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise BadInput(f"task {name!r}: {registry.entries('task')[name].target} is not a Task subclass")
    return cls


def get(name: str, **options: object) -> Task:
    """A configured task, e.g. `get("tree-inorder", steps=2)`; BadInput on bad names/options."""
    return task_class(name)(**options)
