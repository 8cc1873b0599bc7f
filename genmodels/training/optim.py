"""Optimizers the deep models share: AdamW, and Muon for the hidden matrices of the
language models (with AdamW for everything else, as one optimizer object)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

# the quintic Newton-Schulz coefficients of Muon (Keller Jordan et al., 2024), as in
# torch.optim.Muon
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def adamw(params: Any, **kwargs: Any) -> torch.optim.Optimizer:
    """AdamW with the fused kernel where this torch build has it (one kernel for every
    tensor: several times faster than ``foreach`` on CPU for small networks), else
    ``foreach``. Same update rule either way."""
    try:
        return torch.optim.AdamW(params, fused=True, **kwargs)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(params, foreach=True, **kwargs)


def orthogonalize(g: torch.Tensor, steps: int = 5, eps: float = 1e-7) -> torch.Tensor:
    """The nearest semi-orthogonal matrix to ``g: (m, n)``, roughly (``U V^T`` of its SVD,
    singular values pushed into ~[0.7, 1.2]) by ``steps`` quintic Newton-Schulz
    iterations, in ``g``'s dtype."""
    a, b, c = NS_COEFFICIENTS
    x = g.T if g.shape[0] > g.shape[1] else g
    x = x / x.norm().clamp(min=eps)  # spectral norm <= Frobenius norm <= 1
    for _ in range(steps):
        gram = x @ x.T
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if g.shape[0] > g.shape[1] else x


class Muon(torch.optim.Optimizer):
    """Muon: SGD with Nesterov momentum whose update of each 2-D weight is orthogonalised
    (Newton-Schulz), scaled by ``sqrt(max(1, rows / cols))``, with decoupled weight decay
    — the update rule of ``torch.optim.Muon``. Ours runs the iterations in the weights'
    dtype: torch's casts to bfloat16, which CPUs without bfloat16 matrix units multiply
    about 5x slower than float32 (measured here), so on this machine torch's version
    doubled a small transformer's step time, ours adds ~25 %."""

    def __init__(self, params: Iterable[Any], lr: float = 0.02, weight_decay: float = 0.0,
                 momentum: float = 0.95, ns_steps: int = 5) -> None:
        if not lr > 0:
            raise ValueError(f"lr: got {lr!r}; allowed: a positive number")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum: got {momentum!r}; allowed: a number in [0, 1)")
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
                                  "ns_steps": ns_steps})
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon: parameters must be matrices, got shape "
                                     f"{tuple(p.shape)}; give the others to AdamW")

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:  # noqa: ARG002 - torch's signature
        for group in self.param_groups:
            lr, wd, mu = group["lr"], group["weight_decay"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                buf = state["momentum_buffer"]
                buf.lerp_(p.grad, 1 - mu)
                update = orthogonalize(p.grad.lerp(buf, mu), group["ns_steps"])  # Nesterov
                if wd:
                    p.mul_(1 - lr * wd)
                p.add_(update, alpha=-lr * math.sqrt(max(1.0, p.shape[0] / p.shape[1])))


class Optimizers:
    """Several optimizers stepped as one (e.g. Muon for matrices, AdamW for the rest):
    what the Trainer needs of an optimizer — ``param_groups``, ``step``, ``zero_grad``,
    ``state_dict`` and ``load_state_dict``."""

    def __init__(self, *optimizers: torch.optim.Optimizer) -> None:
        self.optimizers = list(optimizers)

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return [g for o in self.optimizers for g in o.param_groups]

    def step(self) -> None:
        for o in self.optimizers:
            o.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        for o in self.optimizers:
            o.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        return {str(i): o.state_dict() for i, o in enumerate(self.optimizers)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if sorted(state) != [str(i) for i in range(len(self.optimizers))]:
            raise ValueError(f"optimizer state: expected {len(self.optimizers)} optimizers, "
                             f"got keys {sorted(state)}")
        for i, o in enumerate(self.optimizers):
            o.load_state_dict(state[str(i)])
