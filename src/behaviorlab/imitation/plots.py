"""PNG plots of an experiment (matplotlib): content, style and algorithm agreement against the
imitation-data amount, against the base size, and local vs broad at equal data size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behaviorlab.rundir import figure_file

PLOTS = "plots"
PANELS = (  # (title, how a row gives the value)
    ("content, all skills (exact match)", lambda r: r["content"]["all"]["estimate"]),
    ("style: template adherence", lambda r: r["style"]["template"]["estimate"]),
    (
        "algorithm: program agreement with the teacher",
        lambda r: (r.get("algorithm") or {}).get("program_agreement", {}).get("estimate"),
    ),
)


def _panels(
    ax_row: Any,
    series: dict[str, tuple[list[Any], list[dict[str, Any]]]],
    teacher: dict[str, Any],
    xlabel: str,
) -> None:
    for ax, (title, get) in zip(ax_row, PANELS, strict=True):
        for label, (xs, rows) in series.items():
            ys = [get(r) for r in rows]
            ax.plot(xs, [float("nan") if y is None else y for y in ys], marker="o", label=label)
        bound = get(teacher)
        if bound is not None:
            ax.axhline(bound, ls="--", color="grey", label="teacher (2nd sample)")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylim(-0.02, 1.02)
    ax_row[0].legend(fontsize=7)


def write_plots(results: dict[str, Any], out: Path) -> list[Path]:
    """amount.png, base.png and local-vs-broad.png in OUT/plots/; the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {r["name"]: r for r in results["rows"]}
    teacher = results["rows"][0]
    folder = out / PLOTS
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    sweeps = results["sweeps"]
    figs = {
        "amount": (
            {
                s: ([rows[n]["amount"] for n in ns], [rows[n] for n in ns])
                for s, ns in sweeps["amount"].items()
            },
            "imitation examples",
        ),
        "base": (
            {"local": ([rows[n]["base"] for n in sweeps["base"]], [rows[n] for n in sweeps["base"]])},
            "base",
        ),
    }
    for key, (series, xlabel) in figs.items():
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
        _panels(axes, series, teacher, xlabel)
        if key == "amount":
            for ax in axes:
                ax.set_xscale("log", base=2)
        fig.tight_layout()
        written.append(figure_file(folder, key))
        fig.savefig(written[-1], dpi=90)
        plt.close(fig)
    pair = [rows[n] for n in sweeps["local_vs_broad"]]
    if pair:
        skills = [s for s in results["skills"]["all"] if s in pair[0]["content"]]
        fig, ax = plt.subplots(figsize=(7, 3.4))
        width = 0.8 / (len(pair) + 1)
        for k, r in enumerate([*pair, teacher]):
            ax.bar(
                [i + k * width for i in range(len(skills))],
                [r["content"][s]["estimate"] or 0 for s in skills],
                width,
                label=r["name"],
            )
        ax.set_xticks([i + width * len(pair) / 2 for i in range(len(skills))], skills)
        ax.set_ylabel("content (exact match)")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7)
        fig.tight_layout()
        written.append(figure_file(folder, "local-vs-broad"))
        fig.savefig(written[-1], dpi=90)
        plt.close(fig)
    return written
