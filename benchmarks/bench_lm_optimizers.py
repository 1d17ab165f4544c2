"""AdamW vs Sophia-G vs Sophia-H where Sophia's claim was made: language-model pre-training on
real text (a byte-level decoder-only model on the Python documentation, configs/lm-pydocs.toml).

The grid is `configs/sweep-lm-optimizers.toml` (also runnable with `behaviorlab sweep`): each
optimizer gets 3 learning rates × 3 values of its second knob (AdamW beta2, Sophia-G rho with
the official bs = tokens-per-batch convention, Sophia-H gamma), 3 seeds each, the same token
budget and warm-up + cosine schedule. Each run logs the validation loss every `eval_every` steps;
this script also records wall and process CPU time at each logged step.

    python benchmarks/bench_lm_optimizers.py                   # the full grid: 81 runs
    python benchmarks/bench_lm_optimizers.py --search coordinate --steps 200   # 21 runs

`--search coordinate` tunes by coordinate search instead of the full grid: every lr at the knob's
middle value (seed 0), then the other knob values at the best lr (seed 0), then the best point
with every seed. Results are cached one JSON per run under --out, so an interrupted or repeated
invocation resumes; the table, the grid record and two plots (loss vs step, vs wall time) are
written there and printed. The target is AdamW's final validation loss (the highest over its
best point's seeds, so every AdamW seed reaches it).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from _lm_analysis import Point, Record, best_points, final_loss, grid_table, plot, summarise

from behaviorlab.sweep.spec import SweepRun, load_sweep
from behaviorlab.train.config import ExperimentConfig

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ROOT / "configs" / "sweep-lm-optimizers.toml"
KNOB = {"adamw": "beta2", "sophia-g": "rho", "sophia-h": "gamma"}


def point(cfg: ExperimentConfig) -> Point:
    """(optimizer, lr, knob, value) of a config."""
    o = cfg.optim
    value = {"adamw": o.resolved_betas()[1], "sophia-g": o.rho, "sophia-h": o.gamma}[o.name]
    return (o.name, o.lr, KNOB[o.name], value)


def run_key(p: Point, seed: int) -> str:
    """The cache file name of one run."""
    return f"{p[0]}-lr{p[1]:g}-{p[2]}{p[3]:g}-seed{seed}"


def one(cfg_json: str) -> Record:
    """Train one config in a temporary directory; the metrics rows plus time at each logged step."""
    import tempfile

    import pyarrow.parquet as pq

    from behaviorlab.train import train

    cfg = ExperimentConfig.model_validate_json(cfg_json)
    times: list[list[float]] = []
    t0 = c0 = 0.0

    def on_step(step: int) -> None:
        nonlocal t0, c0
        if not times:  # start the clocks at the first step: startup (data, model) is not training
            t0, c0 = time.perf_counter(), time.process_time()
            times.append([0, 0.0, 0.0])
        if step % cfg.train.eval_every == 0 or step == cfg.train.steps:
            times.append([step, time.perf_counter() - t0, time.process_time() - c0])

    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = train(cfg, Path(d) / "run", progress=False, on_step=on_step)
        rows = pq.read_table(Path(d) / "run" / "metrics.parquet").to_pylist()
    p = point(cfg)
    return {
        "optimizer": p[0],
        "lr": p[1],
        "knob": p[2],
        "value": p[3],
        "seed": cfg.train.seed,
        "steps": summary["steps"],
        "tokens": summary["tokens"],
        "rows": rows,
        "times": times,
        "warnings": sorted(
            {str(w.message).split(": ", 1)[-1] for w in caught if "win rate" in str(w.message)}
        ),
    }


def runs_by_point(sweep_file: Path, steps: int | None) -> dict[Point, dict[int, SweepRun]]:
    """The sweep's runs keyed by grid point and seed; `steps` shortens the budget (warm-up 10%)."""
    out: dict[Point, dict[int, SweepRun]] = {}
    for run in load_sweep(sweep_file).runs:
        cfg = run.config
        if steps is not None:
            tc = cfg.train.model_copy(
                update={"steps": steps, "warmup": steps // 10, "checkpoint_every": steps}
            )
            cfg = cfg.model_copy(update={"train": tc})
        out.setdefault(point(cfg), {})[cfg.train.seed] = SweepRun(run.overrides, cfg)
    return out


def execute(jobs: list[tuple[Point, int, SweepRun]], out: Path, workers: int) -> None:
    """Run what is not cached yet, interleaved: jobs alternate between optimizers in rotation."""
    todo = [(p, s, r) for p, s, r in jobs if not (out / f"{run_key(p, s)}.json").is_file()]
    by_opt: dict[str, list[tuple[Point, int, SweepRun]]] = {}
    for job in todo:
        by_opt.setdefault(job[0][0], []).append(job)
    order: list[tuple[Point, int, SweepRun]] = []
    for i in range(max((len(v) for v in by_opt.values()), default=0)):
        names = list(by_opt)
        names = names[i % len(names) :] + names[: i % len(names)]
        order += [by_opt[n][i] for n in names if i < len(by_opt[n])]
    if not order:
        return
    print(f"{len(order)} runs to do ({len(jobs) - len(order)} cached)", flush=True)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(one, r.config.model_dump_json()): (p, s) for p, s, r in order}
        for fut in futures:
            p, s = futures[fut]
            rec = fut.result()
            (out / f"{run_key(p, s)}.json").write_text(json.dumps(rec))
            print(f"  {run_key(p, s)}: final val loss {final_loss(rec):.4f}", flush=True)


def load_records(out: Path, grid: dict[Point, dict[int, SweepRun]]) -> list[Record]:
    """Cached records of this grid's runs (other files in the folder are ignored)."""
    names = {run_key(p, s) for p, seeds in grid.items() for s in seeds}
    return [json.loads(f.read_text()) for f in sorted(out.glob("*.json")) if f.stem in names]


def coordinate(grid: dict[Point, dict[int, SweepRun]], out: Path, workers: int) -> None:
    """lr at the knob's middle value, then the knob at the best lr, then every seed at the best."""
    seeds = sorted({s for v in grid.values() for s in v})
    first = seeds[0]
    mids = {}
    for opt in KNOB:
        values = sorted({p[3] for p in grid if p[0] == opt})
        mids[opt] = values[len(values) // 2] if values else None
    stage_a = [(p, first, v[first]) for p, v in grid.items() if p[3] == mids[p[0]]]
    execute(stage_a, out, workers)
    best_lr = {opt: p[1] for opt, p in best_points(load_records(out, grid)).items()}
    stage_b = [(p, first, v[first]) for p, v in grid.items() if p[1] == best_lr.get(p[0])]
    execute(stage_b, out, workers)
    best = best_points([r for r in load_records(out, grid) if r["seed"] == first])
    execute([(p, s, grid[p][s]) for p in best.values() for s in seeds], out, workers)


def report(records: list[Record], out: Path, args: argparse.Namespace, seconds: float) -> str:
    """The markdown the run prints and saves: budget, table, grid record, plots."""
    target, rows = summarise(records)
    c = next(iter(next(iter(runs_by_point(args.sweep, args.steps).values())).values())).config
    tokens = max(r["tokens"] for r in records)
    lines = [
        f"budget {c.train.steps} steps × batch {c.train.batch_size} ({tokens / 1e6:.2f}M tokens), warm-up "
        f"{c.train.warmup}, cosine to {c.train.min_lr_ratio}× lr; validation loss every {c.train.eval_every} "
        f"steps on {c.train.eval_examples} held-out chunks; {len(records)} runs ({args.search} search), "
        f"{seconds / 60:.1f} min this invocation",
        f"target = AdamW's final validation loss {target:.4f} nats/byte (highest of its best point's seeds)",
        "",
        "| optimizer | best setting | seeds | steps to target, mean [min, max] | ÷ AdamW | wall s to target "
        "| CPU s to target | final val loss | win rate (logged, after 1st estimate) | hessian mean / max |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['optimizer']} | {r['setting']} | {r['seeds']} | {r['steps']} | {r['ratio']} | {r['wall']} "
            f"| {r['cpu']} | {r['final']} | {r['win_rate']} | {r['hessian_mean']} / {r['hessian_max']} |"
        )
    lines += [
        "",
        f"looser target: AdamW's loss at half its budget, {rows[0]['mid_target']:.4f} (highest of its seeds)",
        "",
        "| optimizer | steps to it, mean [min, max] | ÷ AdamW |",
        "|---|---|---|",
        *[f"| {r['optimizer']} | {r['mid_steps']} | {r['mid_ratio']} |" for r in rows],
    ]
    lines += ["", "Every point run (the tuning record):", "", *grid_table(records)]
    warned = sorted({w for r in records for w in r["warnings"]})
    lines += ["", f"win-rate warnings: {len(warned)} distinct", *[f"- {w}" for w in warned[:12]]]
    for path in plot(records, target, out):
        lines.append(f"plot: {path}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sweep", type=Path, default=SWEEP)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-lm-optimizers")
    ap.add_argument("--search", choices=["grid", "coordinate"], default="grid")
    ap.add_argument("--steps", type=int, help="shorter budget than the sweep's (warm-up 10%%)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--report-only", action="store_true", help="no training: tabulate what is cached")
    args = ap.parse_args()
    grid = runs_by_point(args.sweep, args.steps)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if not args.report_only:
        if args.search == "grid":
            execute([(p, s, r) for p, v in grid.items() for s, r in v.items()], args.out, args.workers)
        else:
            coordinate(grid, args.out, args.workers)
    records = load_records(args.out, grid)
    text = report(records, args.out, args, time.perf_counter() - t0)
    (args.out / "report.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
