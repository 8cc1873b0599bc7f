"""What a task's ``training_step`` receives: modules, the noise generator and ``step``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.nn.utils import clip_grads_with_norm_

from genmodels.training.distributed import DistInfo, average_gradients


class NonFinite(Exception):  # noqa: N818 - internal signal, turned into TrainingDiverged
    """The loss or the gradients of one optimizer step were NaN/Inf."""

    def __init__(self, what: str, name: str) -> None:
        super().__init__(f"{what} of {name!r}")
        self.what, self.name = what, name


@dataclass
class OptSlot:
    """One optimizer, the parameters it updates and how their gradients are synced."""

    optimizer: torch.optim.Optimizer
    params: list[torch.nn.Parameter]
    manual_sync: bool = False


@dataclass
class StepContext:
    """Handed to ``task.training_step(batch, ctx)`` at every step.

    ``ctx.module(name)`` is the module to call for the forward pass (wrapped in DDP
    and/or ``torch.compile`` when the run asks for it); ``ctx.step(name, loss)`` zeroes
    that optimizer's gradients, back-propagates ``loss``, syncs, checks for NaN/Inf,
    clips and steps. ``ctx.generator`` is the seeded torch.Generator for all noise
    (on ``ctx.device``). ``step_index``/``epoch`` count from 0; ``total_steps`` and
    ``steps_per_epoch`` are those of the whole run (for warm-ups and annealing).
    """

    generator: torch.Generator
    device: torch.device
    dist: DistInfo
    grad_clip: float | None
    modules_: dict[str, torch.nn.Module]
    slots: dict[str, OptSlot]
    step_index: int = 0
    epoch: int = 0
    total_steps: int = 0
    steps_per_epoch: int = 0
    bad_loss: str | None = None
    grad_norms: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def rank(self) -> int:
        return self.dist.rank

    @property
    def world_size(self) -> int:
        return self.dist.world_size

    def module(self, name: str) -> torch.nn.Module:
        """The (possibly DDP-wrapped / compiled) module ``name`` for forward passes."""
        try:
            return self.modules_[name]
        except KeyError:
            raise ValueError(f"ctx.module: unknown module {name!r}; "
                             f"allowed: {', '.join(self.modules_)}") from None

    def optimizer(self, name: str) -> torch.optim.Optimizer:
        return self._slot(name).optimizer

    def step(self, name: str, loss: torch.Tensor, *, retain_graph: bool = False) -> None:
        """Zero grads, backward ``loss`` (a scalar), sync, check finite, clip, step."""
        slot = self._slot(name)
        for p in slot.params:  # = optimizer.zero_grad(set_to_none=True), without its
            p.grad = None      # profiler hooks (3 % of a small model's step)
        finite_loss = math.isfinite(loss.item())
        if not finite_loss and not self.dist.active:
            raise NonFinite("loss", name)
        loss.backward(retain_graph=retain_graph)
        if slot.manual_sync:
            average_gradients(slot.params, self.dist)
        grads = [p.grad for p in slot.params if p.grad is not None]
        if not grads:
            return
        norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))  # = L2 of all
        if not math.isfinite(norm.item()):
            raise NonFinite("gradients", name)
        if self.grad_clip is not None:
            clip_grads_with_norm_(slot.params, self.grad_clip, norm, foreach=True)
        slot.optimizer.step()
        self.grad_norms[name] = norm
        if not finite_loss:  # DDP: every rank stops together at the end of this step
            self.bad_loss = name

    def _slot(self, name: str) -> OptSlot:
        try:
            return self.slots[name]
        except KeyError:
            raise ValueError(f"ctx.step: unknown optimizer {name!r}; "
                             f"allowed: {', '.join(self.slots)}") from None


def describe_params(modules: dict[str, torch.nn.Module]) -> dict[str, Any]:
    """Parameter counts per module: a cheap fingerprint of the network's shape."""
    return {k: int(sum(p.numel() for p in m.parameters())) for k, m in modules.items()}
