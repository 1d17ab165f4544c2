"""TensorBoard: scalars as event-file series, tables as text, artifacts by path (optional extra
`behaviorlab[track]`; imported only when the sink is opened)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from behaviorlab.outdir import claim_folder
from behaviorlab.rundir import TENSORBOARD
from behaviorlab.validate import file_name


def _markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


class TensorBoardSink:
    """Event files in RUN/tensorboard (or DIR/RUN_NAME when `dir` is given)."""

    def __init__(self, run_dir: Path, run: str, options: Mapping[str, Any]) -> None:
        from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

        base = options.get("dir")
        # Under DIR: a folder named after the run that is ours or new (see files.FileSink).
        self.logdir = (
            claim_folder(Path(base) / file_name(run), "event files") if base else run_dir / TENSORBOARD
        )
        self.writer = SummaryWriter(log_dir=str(self.logdir))

    def log_scalar(self, name: str, value: float, step: int) -> None:
        self.writer.add_scalar(name, value, step)

    def log_table(self, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self.writer.add_text(name, _markdown(rows), 0)

    def log_artifact(self, path: Path) -> None:
        self.writer.add_text("artifacts", str(Path(path).resolve()), 0)

    def close(self) -> None:
        self.writer.close()
