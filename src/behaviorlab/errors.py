"""The one error type for bad input; the CLI turns it into a one-line message and exit code 2."""


class BadInput(ValueError):
    """User-facing error: names what was wrong and where. Shown as one line, exit code 2."""

    def one_line(self) -> str:
        """The message squeezed onto a single line."""
        return " ".join(str(self).split())
