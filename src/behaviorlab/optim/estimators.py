"""Curvature estimators for Sophia, independent of any particular model.

A model hands over `logits_fn() -> (logits [N, V], targets [N])`: a fresh forward with the graph
attached, already restricted to the non-padding output positions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

from behaviorlab.errors import BadInput

Probe = Literal["rademacher", "gaussian"]
LogitsFn = Callable[[], tuple[Tensor, Tensor]]


class HessianEstimator(Protocol):
    """Refreshes an optimizer's Hessian-diagonal EMA every `every` steps."""

    every: int

    def due(self, step: int) -> bool:
        """Whether training step `step` (counted from 0) is followed by an estimate."""
        ...

    def update(
        self, optimizer: Any, params: list[Tensor], logits_fn: LogitsFn, generator: torch.Generator
    ) -> dict[str, float]:
        """Estimate, feed the optimizer, zero the grads; return scalar diagnostics."""
        ...


def _check_every(every: int) -> None:
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise BadInput(f"every must be an integer >= 1, got {every!r}")


def _due(every: int, step: int) -> bool:
    # The official loop estimates when iter % k == k - 1, after that iteration's normal step.
    return step % every == every - 1


def probe_like(t: Tensor, kind: Probe, generator: torch.Generator) -> Tensor:
    """A random probe shaped like `t`: Rademacher (±1, equally likely) or standard Gaussian."""
    if kind == "rademacher":
        bits = torch.randint(0, 2, t.shape, generator=generator, device=t.device, dtype=t.dtype)
        return bits.mul_(2).sub_(1)
    if kind == "gaussian":
        return torch.randn(t.shape, generator=generator, device=t.device, dtype=t.dtype)
    raise BadInput(f"probe must be 'rademacher' or 'gaussian', got {kind!r}")


@contextmanager
def hvp_safe_attention() -> Iterator[None]:
    """Run a forward whose graph must support double backward (Hessian-vector products).

    The fused scaled-dot-product-attention kernels have no double backward; the math one does.
    """
    with sdpa_kernel([SDPBackend.MATH]):
        yield


def _grads(loss: Tensor, params: Sequence[Tensor], create_graph: bool) -> list[Tensor]:
    """d loss / d params, with zeros for parameters the loss does not touch."""
    gs = torch.autograd.grad(loss, list(params), create_graph=create_graph, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for g, p in zip(gs, params, strict=True)]


def hutchinson_diag(
    grads: Sequence[Tensor],
    params: Sequence[Tensor],
    generator: torch.Generator,
    probe: Probe = "rademacher",
    n_probes: int = 1,
) -> list[Tensor]:
    """Mean over probes of u ⊙ (H u), from gradients built with `create_graph=True`."""
    live = [i for i, g in enumerate(grads) if g.requires_grad]
    est: list[Tensor | None] = [None] * len(params)
    for k in range(n_probes):
        us = [probe_like(params[i], probe, generator) for i in live]
        hvps = torch.autograd.grad(
            [grads[i] for i in live],
            [params[i] for i in live],
            grad_outputs=us,
            retain_graph=k < n_probes - 1,
            allow_unused=True,
        )
        for i, u, hu in zip(live, us, hvps, strict=True):
            if hu is None:
                continue
            if n_probes == 1:
                est[i] = hu.mul_(u)  # the HVP buffer is ours: reuse it, skip a pass
            else:
                acc = est[i]
                if acc is None:
                    acc = est[i] = torch.zeros_like(params[i])
                acc.addcmul_(u, hu, value=1.0 / n_probes)
    return [torch.zeros_like(p) if e is None else e for e, p in zip(est, params, strict=True)]


class GNBEstimator:
    """Gauss-Newton-Bartlett: g⊙g of the mean CE against labels sampled from the model's softmax."""

    def __init__(self, every: int = 10, clip_grad_norm: float | None = 1.0):
        _check_every(every)
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise BadInput(f"clip_grad_norm must be > 0 or None, got {clip_grad_norm!r}")
        self.every = every
        self.clip_grad_norm = clip_grad_norm

    def due(self, step: int) -> bool:
        """Official schedule: step % every == every - 1."""
        return _due(self.every, step)

    def update(
        self, optimizer: Any, params: list[Tensor], logits_fn: LogitsFn, generator: torch.Generator
    ) -> dict[str, float]:
        """Sample labels, backprop, clip (as the official loop), `update_hessian()`, zero grads."""
        logits, _ = logits_fn()
        with torch.no_grad():
            probs = torch.softmax(logits.detach().float(), dim=-1)
            sampled = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        loss = F.cross_entropy(logits, sampled)
        grads = _grads(loss, params, create_graph=False)
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        norm = float("nan")
        if self.clip_grad_norm is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(params, self.clip_grad_norm))
        accepted = optimizer.update_hessian()
        for p in params:
            p.grad = None
        return {
            "hessian_loss": float(loss.detach()),
            "hessian_grad_norm": norm,
            "hessian_accepted": float(bool(accepted)),
        }


class HutchinsonEstimator:
    """Hutchinson: ĥ = u ⊙ (H u) of the true-label CE, via a Hessian-vector product."""

    def __init__(self, every: int = 10, probe: Probe = "rademacher", n_probes: int = 1):
        _check_every(every)
        if probe not in ("rademacher", "gaussian"):
            raise BadInput(f"probe must be 'rademacher' or 'gaussian', got {probe!r}")
        if n_probes < 1:
            raise BadInput(f"n_probes must be >= 1, got {n_probes!r}")
        self.every = every
        self.probe: Probe = probe
        self.n_probes = n_probes

    def due(self, step: int) -> bool:
        """Official schedule: step % every == every - 1."""
        return _due(self.every, step)

    def update(
        self, optimizer: Any, params: list[Tensor], logits_fn: LogitsFn, generator: torch.Generator
    ) -> dict[str, float]:
        """Fresh forward, HVP, `optimizer.update_hessian(h_hats, params)`, zero grads."""
        with hvp_safe_attention():
            logits, targets = logits_fn()
        loss = F.cross_entropy(logits, targets)
        stats = self._estimate(optimizer, params, loss, generator, keep_grads=False)
        for p in params:
            p.grad = None
        return stats

    def update_from_loss(
        self, optimizer: Any, params: list[Tensor], loss: Tensor, generator: torch.Generator
    ) -> dict[str, float]:
        """Fused variant: estimate from the training loss itself and leave its gradient in `.grad`.

        Saves the extra forward/backward of `update`; call it instead of `loss.backward()` on
        due steps, then `optimizer.step()` as usual. Run that forward under
        `hvp_safe_attention()` if the model uses scaled-dot-product attention.
        """
        return self._estimate(optimizer, params, loss, generator, keep_grads=True)

    def _estimate(
        self,
        optimizer: Any,
        params: list[Tensor],
        loss: Tensor,
        generator: torch.Generator,
        keep_grads: bool,
    ) -> dict[str, float]:
        grads = _grads(loss, params, create_graph=True)
        h_hats = hutchinson_diag(grads, params, generator, self.probe, self.n_probes)
        if keep_grads:
            for p, g in zip(params, grads, strict=True):
                p.grad = g.detach()
        accepted = optimizer.update_hessian(h_hats, params=params)
        return {"hessian_loss": float(loss.detach()), "hessian_accepted": float(bool(accepted))}
