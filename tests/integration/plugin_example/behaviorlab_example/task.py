"""A task is its reference function, with the tokens inputs use."""

from behaviorlab.tasks import reference


@reference(alphabet="a b c", sizes=(1, 6))
def reverse(x: str) -> str:
    """Reverse a string of a, b and c."""
    return " ".join(reversed(x.split()))
