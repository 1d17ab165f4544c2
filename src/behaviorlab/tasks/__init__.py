"""The exact recursive task suite: `get(name, **options)` returns a Task; `names()` lists them."""

from __future__ import annotations

from behaviorlab.errors import BadInput
from behaviorlab.tasks.base import Example, Option, SampleParams, Task
from behaviorlab.tasks.binary import BinarySuccessor
from behaviorlab.tasks.peano import PeanoAdd
from behaviorlab.tasks.traversal import TreeInorder, TreePreorder

__all__ = ["Example", "Option", "SampleParams", "Task", "get", "names", "task_class"]

_REGISTRY: dict[str, type[Task]] = {
    cls.name: cls for cls in (PeanoAdd, BinarySuccessor, TreePreorder, TreeInorder)
}


def names() -> list[str]:
    """Task names in a fixed order."""
    return list(_REGISTRY)


def task_class(name: str) -> type[Task]:
    """The Task class for a name; BadInput lists the valid names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise BadInput(f"unknown task {name!r}; expected one of {', '.join(_REGISTRY)}") from None


def get(name: str, **options: object) -> Task:
    """A configured task, e.g. `get("tree-inorder", steps=2)`; BadInput on bad names/options."""
    return task_class(name)(**options)
