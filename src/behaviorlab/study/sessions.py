"""What a study cost, across the invocations that made it: each session's wall time, the runs it
trained and kept, and the load it ran under, kept in OUT/study_sessions.json (interrupted sessions
too), so a resumed or re-read study still says how long its runs took in all."""

from __future__ import annotations

import json
import os
import shlex
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from behaviorlab.io import atomic_write_json
from behaviorlab.rundir import STUDY, STUDY_SESSIONS, SUMMARY
from behaviorlab.study.grid import SEEDS


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def earlier_sessions(out: Path) -> list[dict[str, Any]]:
    """The sessions recorded in OUT; a study.json written before sessions were kept counts as one."""
    for name in (STUDY_SESSIONS, STUDY):
        try:
            data = json.loads((out / name).read_text())
        except (OSError, ValueError):
            continue
        if name == STUDY_SESSIONS and isinstance(data, list):
            return [s for s in data if isinstance(s, dict)]
        if name == STUDY and isinstance(data, dict):
            if isinstance(data.get("sessions"), list):
                return list(data["sessions"])
            if data.get("seconds") is not None:  # one earlier session; which runs it trained is unknown
                return [
                    {
                        "seconds": data["seconds"],
                        "runs_trained": None,
                        "runs_kept": None,
                        "load": data.get("load"),
                        "workers": data.get("workers"),
                        "backend": data.get("backend"),
                        "interrupted": False,
                    }
                ]
    return []


class Session:
    """One invocation of a study: started now, with `kept` of its runs already finished."""

    def __init__(
        self, out: Path, earlier: list[dict[str, Any]], kept: int, backend: str, workers: int | None
    ):
        self.out, self.earlier, self.kept = out, earlier, kept
        self.backend, self.workers = backend, workers
        self.t0, self.started = time.perf_counter(), datetime.now(UTC).isoformat(timespec="seconds")
        self.load_before, self.finished = _load(), 0
        self.loads: list[float] = []

    def run_finished(self) -> None:
        """Count a run trained in this session and sample the load (what shared the cores)."""
        self.finished += 1
        self.loads.append(os.getloadavg()[0])

    def minutes_left(self, to_run: int) -> float:
        """Estimated minutes until `to_run` runs of this session are done, at this session's pace."""
        elapsed = time.perf_counter() - self.t0
        return elapsed / max(self.finished, 1) * (to_run - self.finished) / 60

    def close(self, interrupted: bool = False) -> list[dict[str, Any]]:
        """Append this session to OUT/study_sessions.json; every session so far. A session that only
        re-read finished runs is not one: it ran nothing."""
        loads = self.loads
        this = {
            "started": self.started,
            "seconds": round(time.perf_counter() - self.t0, 1),
            "runs_trained": self.finished,
            "runs_kept": self.kept,
            "load": {
                "before": self.load_before,
                "after": _load(),
                # The 1-minute load average each time a run finished.
                "mean_1min": round(sum(loads) / len(loads), 2) if loads else None,
                "max_1min": round(max(loads), 2) if loads else None,
                "cores": os.cpu_count(),
            },
            "workers": self.workers,
            "backend": self.backend,
            "interrupted": interrupted,
        }
        sessions = [*self.earlier, this] if self.finished or interrupted else list(self.earlier)
        atomic_write_json(self.out / STUDY_SESSIONS, sessions)
        return sessions


def trained_earlier(run_dir: Path, row: dict[str, Any]) -> bool:
    """Whether a run's training finished before the call that recorded its row (an interrupted
    study resumed): the row's CPU seconds then leave the training out."""
    try:
        summary = json.loads((run_dir / SUMMARY).read_text())
    except (OSError, ValueError):
        return False
    trained = summary.get("train_seconds_this_session") if isinstance(summary, dict) else None
    wall = row.get("wall_seconds")
    return trained is not None and wall is not None and float(wall) < float(trained)


def cost(
    sessions: Sequence[dict[str, Any]], runs: Sequence[dict[str, Any]], out: Path | None = None
) -> dict[str, Any]:
    """study.json's cost fields: wall time over sessions, CPU seconds over runs, and the load, workers
    and backend of the session that trained the most runs (the one the numbers ran under)."""
    main = max(sessions, key=lambda s: s.get("runs_trained") or 0) if sessions else {}
    return {
        "seconds": round(sum(float(s.get("seconds") or 0.0) for s in sessions), 1),
        # Summed over runs (a resumed study counts the recorded cost of the runs it kept).
        "cpu_seconds": round(sum(float(r.get("cpu_seconds") or 0.0) for r in runs), 1),
        "load": main.get("load"),
        "workers": main.get("workers"),
        "backend": main.get("backend"),
        "sessions": list(sessions),
        # Runs whose CPU seconds miss their training (it finished in an earlier, interrupted session).
        "cpu_partial": [r["name"] for r in runs if out is not None and trained_earlier(out / r["name"], r)],
    }


def command(
    study: str, out: Path, quick: bool, seeds: tuple[int, ...], backend: str, only: str | None = None
) -> str:
    """The command line that runs (or finishes) this study as it was asked for."""
    parts = ["behaviorlab", "study", study, "--out", str(out)]
    if quick:
        parts.append("--quick")
    if seeds != tuple(range(len(seeds))):
        parts.append(f"(seeds {', '.join(map(str, seeds))}: run_study(seeds=...))")
    elif len(seeds) != len(SEEDS):
        parts += ["--seeds", str(len(seeds))]
    if backend != "local":
        parts += ["--backend", backend]
    if only is not None:
        parts += ["--cells", shlex.quote(only)]
    return " ".join(parts)
