"""The one error type for bad input; the CLI turns it into a one-line message and exit code 2."""


class BadInput(ValueError):
    """User-facing error: names what was wrong and where. Shown as one line, exit code 2."""

    def one_line(self) -> str:
        """The message squeezed onto a single line."""
        return " ".join(str(self).split())


class Interrupted(BadInput):
    """Ctrl-C during a long job: the job is marked interrupted and can be resumed (exit 130)."""

    def __init__(self, out: object, step: int, checkpoint_step: int | None, note: str = "") -> None:
        self.out, self.step, self.checkpoint_step = out, step, checkpoint_step
        kept = "no checkpoint yet" if checkpoint_step is None else f"last checkpoint: step {checkpoint_step}"
        super().__init__(f"{out}: interrupted at step {step}; {kept}{note}")
