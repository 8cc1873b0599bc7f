"""Exponential moving average of weights and the learning-rate schedule."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch


class EMA:
    """Shadow copies of every floating-point parameter and buffer of some modules,
    updated as ``shadow = decay * shadow + (1 - decay) * live`` after every step."""

    def __init__(self, modules: dict[str, torch.nn.Module], decay: float) -> None:
        self.decay = decay
        self.names = list(modules)
        self._live = {k: _float_tensors(m) for k, m in modules.items()}
        self.shadow = {k: [t.detach().clone() for t in ts] for k, ts in self._live.items()}
        self._flat_live = [t for k in self.names for t in self._live[k]]
        self._flat_shadow = [t for k in self.names for t in self.shadow[k]]

    @torch.no_grad()
    def update(self) -> None:
        if self._flat_live:
            torch._foreach_lerp_(self._flat_shadow, self._flat_live, 1.0 - self.decay)

    @contextmanager
    def swapped(self) -> Iterator[None]:
        """Inside the block the modules hold the EMA weights; afterwards the live ones."""
        with torch.no_grad():
            saved = [t.detach().clone() for t in self._flat_live]
            for live, sh in zip(self._flat_live, self._flat_shadow, strict=True):
                live.copy_(sh)
        try:
            yield
        finally:
            with torch.no_grad():
                for live, s in zip(self._flat_live, saved, strict=True):
                    live.copy_(s)

    @torch.no_grad()
    def copy_to_modules(self) -> None:
        for live, sh in zip(self._flat_live, self._flat_shadow, strict=True):
            live.copy_(sh)

    def state(self) -> dict[str, list[torch.Tensor]]:
        return {k: [t.detach().cpu().clone() for t in v] for k, v in self.shadow.items()}

    @torch.no_grad()
    def load(self, state: dict[str, list[torch.Tensor]]) -> None:
        for k in self.names:
            for sh, t in zip(self.shadow[k], state[k], strict=True):
                sh.copy_(t)


def _float_tensors(module: torch.nn.Module) -> list[torch.Tensor]:
    out = [p.data for p in module.parameters()]
    out += [b for b in module.buffers() if b.is_floating_point()]
    return out


def lr_factor(step: int, *, schedule: str, warmup: int, total: int) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based): linear warmup over
    ``warmup`` steps, then constant or a cosine decay to 0 at ``total``."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "cosine":
        progress = min(max(step - warmup, 0) / max(total - warmup, 1), 1.0)
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0
