"""Reading the LM optimizer comparison: curves, steps and time to a target loss, best settings,
the table and the plots. Pure functions over the per-run records `bench_lm_optimizers.py` writes.

A record: {"optimizer", "lr", "knob", "value", "seed", "rows": [{step, monitor_loss, win_rate,
hessian_*}], "times": [[step, wall_s, cpu_s]], ...}. Time is measured from the first step's start.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Point = tuple[str, float, str, float]  # optimizer, lr, knob name, knob value
Record = dict[str, Any]


def point_of(r: Record) -> Point:
    """The grid point of a run (everything but its seed)."""
    return (r["optimizer"], r["lr"], r["knob"], r["value"])


def curve(r: Record) -> list[tuple[int, float]]:
    """(step, validation loss) of one run, in step order."""
    return [
        (int(x["step"]), float(x["monitor_loss"])) for x in r["rows"] if x.get("monitor_loss") is not None
    ]


def crossing(points: Sequence[tuple[float, float]], target: float) -> float | None:
    """The first x where y falls to `target`, linearly interpolated between logged points."""
    prev: tuple[float, float] | None = None
    for x, y in points:
        if y <= target:
            if prev is None or prev[1] == y:
                return x
            (x0, y0) = prev
            return x0 + (x - x0) * (y0 - target) / (y0 - y)
        prev = (x, y)
    return None


def to_target(r: Record, target: float) -> dict[str, float | None]:
    """Steps, wall and CPU seconds until the validation loss first reaches `target` (None: never)."""
    c = curve(r)
    step = crossing([(s, v) for s, v in c], target)
    if step is None:
        return {"steps": None, "wall": None, "cpu": None}
    times = {int(s): (w, cpu) for s, w, cpu in r["times"]}
    steps = sorted(times)

    def at(col: int) -> float:
        # Time is logged at every logged step: interpolate between the two around `step`.
        pts = [(float(s), times[s][col]) for s in steps]
        for (s0, t0), (s1, t1) in zip(pts, pts[1:], strict=False):
            if s0 <= step <= s1:
                return t0 + (t1 - t0) * (step - s0) / max(s1 - s0, 1e-9)
        return pts[-1][1]

    return {"steps": step, "wall": at(0), "cpu": at(1)}


def final_loss(r: Record) -> float:
    """The validation loss at the end of the budget."""
    return curve(r)[-1][1]


def by_point(records: list[Record]) -> dict[Point, list[Record]]:
    """Records grouped by grid point, each group in seed order."""
    groups: dict[Point, list[Record]] = defaultdict(list)
    for r in records:
        groups[point_of(r)].append(r)
    return {k: sorted(v, key=lambda r: r["seed"]) for k, v in groups.items()}


def best_points(records: list[Record]) -> dict[str, Point]:
    """Per optimizer, the point with the lowest mean final loss over the seeds every point has run
    (all seeds for a full grid; seed 0 when only the best point was replicated)."""
    groups = by_point(records)
    best: dict[str, Point] = {}
    for opt in sorted({p[0] for p in groups}):
        pts = {p: rs for p, rs in groups.items() if p[0] == opt}
        common = set.intersection(*({r["seed"] for r in rs} for rs in pts.values()))
        scored = {
            p: statistics.mean(final_loss(r) for r in rs if r["seed"] in common) for p, rs in pts.items()
        }
        best[opt] = min(scored, key=lambda p: (scored[p], p))
    return best


def spread(xs: Sequence[float | None]) -> str:
    """`mean [min, max]` over seeds, or what fraction reached when some did not."""
    got = [x for x in xs if x is not None]
    if not got:
        return f"never (0/{len(xs)})"
    text = (
        f"{statistics.mean(got):.0f} [{min(got):.0f}, {max(got):.0f}]"
        if max(got) >= 10
        else (f"{statistics.mean(got):.2f} [{min(got):.2f}, {max(got):.2f}]")
    )
    return text if len(got) == len(xs) else f"{text} ({len(got)}/{len(xs)} reached)"


def win_rates(r: Record) -> list[float]:
    """Logged win rates after the first Hessian estimate (before it, h = 0 clips everything)."""
    return [
        float(x["win_rate"]) for x in r["rows"] if x.get("win_rate") is not None and x.get("hessian_updates")
    ]


def loss_at(r: Record, step: float) -> float:
    """The validation loss at `step`, linearly interpolated between logged steps."""
    c = curve(r)
    for (s0, v0), (s1, v1) in zip(c, c[1:], strict=False):
        if s0 <= step <= s1:
            return v0 + (v1 - v0) * (step - s0) / (s1 - s0)
    return c[-1][1]


def _steps_and_ratio(
    groups: dict[Point, list[Record]], p: Point, adam: Point, target: float
) -> tuple[str, str]:
    """Steps to `target` over p's seeds, and their mean over AdamW's mean ('—' if none reached)."""
    steps = [to_target(r, target)["steps"] for r in groups[p]]
    ref = [to_target(r, target)["steps"] for r in groups[adam]]
    got, ref_got = [s for s in steps if s is not None], [s for s in ref if s is not None]
    ratio = f"{statistics.mean(got) / statistics.mean(ref_got):.2f}" if got and ref_got else "—"
    return spread(steps), ratio


def summarise(records: list[Record]) -> tuple[float, list[dict[str, Any]]]:
    """The target (the highest final loss among AdamW's best-point seeds: every seed reached it)
    and one table row per optimizer's best point. A second, looser target, AdamW's loss at half
    its budget (again the highest over seeds), shows the race before the end-of-schedule plateau."""
    groups, best = by_point(records), best_points(records)
    if "adamw" not in best:
        raise SystemExit("no AdamW results: the target is AdamW's final loss")
    adam = best["adamw"]
    target = max(final_loss(r) for r in groups[adam])
    half = max(r["steps"] for r in groups[adam]) / 2
    mid_target = max(loss_at(r, half) for r in groups[adam])
    rows = []
    for opt, p in best.items():
        rs = groups[p]
        hit = [to_target(r, target) for r in rs]
        wins = [w for r in rs for w in win_rates(r)]
        last = [r["rows"][-1] for r in rs]
        steps, ratio = _steps_and_ratio(groups, p, adam, target)
        mid_steps, mid_ratio = _steps_and_ratio(groups, p, adam, mid_target)
        rows.append(
            {
                "optimizer": opt,
                "setting": f"lr {p[1]:g}, {p[2]} {p[3]:g}",
                "seeds": len(rs),
                "steps": steps,
                "ratio": ratio,
                "mid_steps": mid_steps,
                "mid_ratio": mid_ratio,
                "mid_target": mid_target,
                "wall": spread([h["wall"] for h in hit]),
                "cpu": spread([h["cpu"] for h in hit]),
                "final": _loss_spread(rs),
                "win_rate": f"{statistics.mean(wins):.2f} [{min(wins):.2f}, {max(wins):.2f}]"
                if wins
                else "—",
                "hessian_mean": _mean_of(last, "hessian_mean"),
                "hessian_max": _mean_of(last, "hessian_max"),
            }
        )
    return target, rows


def _loss_spread(rs: list[Record]) -> str:
    xs = [final_loss(r) for r in rs]
    return f"{statistics.mean(xs):.4f} [{min(xs):.4f}, {max(xs):.4f}]"


def _mean_of(rows: list[dict[str, Any]], key: str) -> str:
    xs = [float(r[key]) for r in rows if r.get(key) is not None and math.isfinite(float(r[key]))]
    return f"{statistics.mean(xs):.3g}" if xs else "—"


def grid_table(records: list[Record]) -> list[str]:
    """Every grid point: seeds run, mean final validation loss and win rate (the tuning record)."""
    lines = [
        "| optimizer | lr | knob | seeds | final val loss (mean) | win rate, first → last logged |",
        "|---|---|---|---|---|---|",
    ]
    for p, rs in sorted(by_point(records).items()):
        mean = statistics.mean(final_loss(r) for r in rs)
        wins = [win_rates(r) for r in rs if win_rates(r)]
        trend = (
            f"{statistics.mean(w[0] for w in wins):.2f} → {statistics.mean(w[-1] for w in wins):.2f}"
            if wins
            else "—"
        )
        lines.append(f"| {p[0]} | {p[1]:g} | {p[2]} {p[3]:g} | {len(rs)} | {mean:.4f} | {trend} |")
    return lines


def plot(records: list[Record], target: float, out: Path) -> list[Path]:
    """Validation loss against step and against wall time for each optimizer's best point (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups, best = by_point(records), best_points(records)
    colours = {"adamw": "tab:blue", "sophia-g": "tab:orange", "sophia-h": "tab:green"}
    paths = []
    for axis, label in (("step", "step"), ("wall", "wall time (s, shared 2-core box)")):
        fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
        for opt, p in best.items():
            for i, r in enumerate(groups[p]):
                times = {int(s): w for s, w, _ in r["times"]}
                xs = [s if axis == "step" else times.get(s, math.nan) for s, _ in curve(r)]
                ys = [v for _, v in curve(r)]
                name = f"{opt} (lr {p[1]:g}, {p[2]} {p[3]:g})" if i == 0 else None
                ax.plot(xs, ys, color=colours.get(opt), alpha=0.8, lw=1.2, label=name)
        ax.axhline(target, color="grey", ls="--", lw=0.8, label=f"target {target:.3f} (AdamW's final)")
        ax.set_xlabel(label)
        ax.set_ylabel("validation loss (nats/byte)")
        lows = [v for p in best.values() for r in groups[p] for _, v in curve(r)]
        ax.set_ylim(min(lows) - 0.03, min(max(lows), target + 0.8) + 0.03)  # the early drop is off-scale
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = out / f"lm_optimizers_loss_vs_{axis}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths
