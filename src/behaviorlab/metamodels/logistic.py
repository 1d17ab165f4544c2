"""L2-regularised logistic regression by torch's LBFGS: the fit behind vote guards and failure risk.

`torch.optim.Optimizer` wraps `add_param_group` so that dynamo skips it, and that wrapper imports
`torch._dynamo` (and with it sympy and the compiler stack) on its first call: about 1.5 CPU-seconds,
more than every fit of an `explain` together. The optimizer here is torch's LBFGS with a plain
`add_param_group` for its single group of leaf tensors, so the iterates are torch's own, bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class _LBFGS(torch.optim.LBFGS):
    """torch's LBFGS without the dynamo-disabling wrapper around `add_param_group`."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        self.param_groups.append({**self.defaults, **param_group, "params": list(param_group["params"])})


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float, max_iter: int) -> tuple[np.ndarray, float]:
    """Weights [features] and bias minimising mean BCE-with-logits of `X @ w + b` against the 0/1
    labels `y`, plus `l2 · |w|²` (LBFGS with strong-Wolfe line search, from zeros; float64)."""
    Xt = torch.from_numpy(np.asarray(X, dtype=np.float64))
    yt = torch.from_numpy(np.asarray(y, dtype=np.float64))
    w = torch.zeros(Xt.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = _LBFGS([w, b], max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        w.grad = b.grad = None  # what `opt.zero_grad()` does, without its wrapper either
        loss = torch.nn.functional.binary_cross_entropy_with_logits(Xt @ w + b, yt) + l2 * (w @ w)
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy(), float(b.detach())
