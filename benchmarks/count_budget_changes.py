"""How many SmolLM2 answers the explain --model answer budget changes (issue 21): a count, not a timing.

    .venv/bin/python benchmarks/count_budget_changes.py [--n 40] [--spec smollm2]

The same distinct binary-successor inputs (natural order, sizes 1-8, drawn as explain draws them,
demonstrations excluded) are asked after the same 8 demonstrations twice: with the budget explain
uses now (the task's longest answer in the model's tokens, plus a margin) and with the one it used
before (4 x (2 x input tokens + 4) + 8, per input; the old code took the longest input of a batch,
so its budget was at least this). Answers can differ only where one budget cut an answer short.
"""

from __future__ import annotations

import argparse
import time
from itertools import groupby

import torch

from behaviorlab import lm
from behaviorlab.lm.base import Completion
from behaviorlab.lm.fewshot import FewShotModel
from behaviorlab.metamodels.on_model import answer_budget, canonical_for, model_task
from behaviorlab.tasks.dataset import derive_seed


def main() -> None:
    """Ask both ways; print the count of changed answers and of answers that hit each budget."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=40, help="distinct inputs to ask")
    ap.add_argument("--spec", default="smollm2", help="model spec (lm.load)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # as explain --model
    model, task = lm.load(args.spec), model_task("binary-successor", "natural")
    demos = [(e.input, e.output) for e in task.sample(8, derive_seed(0, "demos"), min_size=1, max_size=8)]
    shown = {x for x, _ in demos}
    drawn = task.sample(4 * args.n, derive_seed(0, "inputs"), min_size=1, max_size=8, edge_fraction=0.25)
    xs = [x for x in dict.fromkeys(e.input for e in drawn) if x not in shown][: args.n]
    canon = canonical_for(task)
    new = FewShotModel(model, demos, canon, budget=answer_budget(model, task))
    old = FewShotModel(model, demos, canon)  # no budget: 4 x the caller's + 8, the old rule

    t0 = time.process_time()
    now = dict(zip(xs, new.generate(xs, 0), strict=True))
    t1 = time.process_time()
    before: dict[str, Completion] = {}
    for width, group in groupby(sorted(xs, key=lambda x: len(x.split())), key=lambda x: len(x.split())):
        same = list(group)
        before.update(zip(same, old.generate(same, 2 * width + 4), strict=True))
    t2 = time.process_time()
    changed = [x for x in xs if now[x].text != before[x].text]
    print(
        f"{len(xs)} inputs; answers changed by the budget: {len(changed)}; "
        f"ended at the new budget: {sum(c.finish == 'length' for c in now.values())}, "
        f"at the old: {sum(c.finish == 'length' for c in before.values())}; "
        f"CPU new {t1 - t0:.1f} s, old {t2 - t1:.1f} s"
    )
    for x in changed:
        print(f"  {x!r}: now {now[x].text!r}, before {before[x].text!r}")


if __name__ == "__main__":
    main()
