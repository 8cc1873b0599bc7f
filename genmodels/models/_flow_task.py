"""The ``flow`` model's training task (for the shared Trainer) and its scoring.

A training row is ``[continuous flow inputs | discrete codes | context | log-Jacobian]``
(:meth:`~genmodels.models._flow_data.Preprocessor.matrix`); each step dequantizes the
codes with fresh uniform noise from the step's generator and minimises the negative
log-likelihood in encoded units.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import qmc

from genmodels.models._flow_data import SQRT12, Layout, Preprocessor
from genmodels.nn.flows import Flow

_VAL_CHUNK = 8192


class FlowTask:
    """Maximum likelihood for a :class:`~genmodels.nn.flows.Flow` (Trainer task)."""

    def __init__(self, flow: Flow, layout: Layout, disc_ladj: float) -> None:
        self.flow, self.disc_ladj = flow, float(disc_ladj)
        self.nc, self.dim, self.width = len(layout.cont), layout.dim, layout.width
        levels = torch.tensor(layout.disc_levels, dtype=torch.float32)
        self.half, self.inv_width = levels / 2, SQRT12 / levels

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"flow": self.flow}

    def optimizers(self, lr: float, weight_decay: float) -> dict[str, torch.optim.Optimizer]:
        from genmodels.training.optim import adamw

        return {"flow": adamw(self.flow.parameters(), lr=lr, weight_decay=weight_decay)}

    def inputs(self, batch: torch.Tensor, u: torch.Tensor | None):
        """Flow inputs ``(b, dim)``, context ``(b, width)`` or None, log-Jacobian ``(b,)``;
        ``u: (b, n_discrete)`` is the dequantization noise in [0, 1)."""
        y = batch[:, :self.dim]
        if u is not None:
            codes = batch[:, self.nc:self.dim]
            disc = (codes + u - self.half.to(batch)) * self.inv_width.to(batch)
            y = torch.cat([batch[:, :self.nc], disc], dim=1)
        context = batch[:, self.dim:self.dim + self.width] if self.width else None
        return y, context, batch[:, -1] + self.disc_ladj

    def _noise(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor | None:
        if self.dim == self.nc:
            return None
        return torch.rand((batch.shape[0], self.dim - self.nc), generator=generator,
                          device=batch.device, dtype=batch.dtype)

    def training_step(self, batch: torch.Tensor, ctx) -> dict[str, float]:
        y, context, ladj = self.inputs(batch, self._noise(batch, ctx.generator))
        loss = -(ctx.module("flow")(y, context) + ladj).mean()
        ctx.step("flow", loss)
        return {"nll": float(loss.detach())}

    def validation_loss(self, data: torch.Tensor, generator: torch.Generator) -> float:
        total = 0.0
        for lo in range(0, data.shape[0], _VAL_CHUNK):
            batch = data[lo:lo + _VAL_CHUNK]
            y, context, ladj = self.inputs(batch, self._noise(batch, generator))
            total += float((self.flow.log_prob(y, context) + ladj).sum())
        return -total / data.shape[0]


def dequant_points(n_points: int, n_fields: int) -> np.ndarray:
    """``(n_points, n_fields)`` deterministic quasi-random points of ``[0, 1)^k`` (Halton,
    unscrambled, the all-zero first point skipped): the same for every row."""
    return qmc.Halton(d=n_fields, scramble=False).random(n_points + 1)[1:]


@torch.no_grad()
def score(flow: Flow, layout: Layout, prep: Preprocessor, x: np.ndarray, samples: int,
          chunk: int) -> np.ndarray:
    """``log p(x)`` of the flow part in encoded units, ``(n,)`` float64: exact for
    continuous fields, the mean over ``samples`` dequantization points for discrete ones
    (an estimate of the lower bound ``E_u log p(code + u)``). A function of each row
    alone: the points do not depend on the batch."""
    task = FlowTask(flow, layout, prep.disc_ladj)
    data = torch.from_numpy(prep.matrix(x).astype(np.float32))
    n_disc = layout.dim - len(layout.cont)
    points = torch.from_numpy(dequant_points(samples, n_disc).astype(np.float32)) if n_disc else None
    out = np.empty(len(x))
    for lo in range(0, len(x), chunk):
        batch = data[lo:lo + chunk]
        if points is None:
            y, context, ladj = task.inputs(batch, None)
            out[lo:lo + chunk] = (flow.log_prob(y, context) + ladj).double().numpy()
            continue
        acc = torch.zeros(batch.shape[0], dtype=torch.float64)
        for u in points:
            y, context, ladj = task.inputs(batch, u.expand(batch.shape[0], -1))
            acc += (flow.log_prob(y, context) + ladj).double()
        out[lo:lo + chunk] = (acc / len(points)).numpy()
    return out
