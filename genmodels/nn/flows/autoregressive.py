"""Masked autoregressive transforms (Papamakarios et al. 2017; Durkan et al. 2019):
feature ``i``'s element-wise map is conditioned on the features before it in ``order``
through one MADE pass.

The density direction (``forward``) is one pass; the sampling direction (``inverse``)
takes ``d`` passes, one per feature. With the affine map this is MAF; with the
rational-quadratic spline it is autoregressive NSF.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from genmodels.nn.flows.base import Transform
from genmodels.nn.flows.nets import MADE


class MaskedAutoregressive(Transform):
    """``z_i = map(x_i; made(x_{<i}, c)_i)`` for the features ``i`` in ``order``."""

    def __init__(self, order: Sequence[int], univariate, hidden: int = 64, depth: int = 2,
                 context: int = 0, generator: torch.Generator | None = None) -> None:
        super().__init__()
        order = [int(o) for o in order]
        if sorted(order) != list(range(len(order))):
            raise ValueError(f"order: got {order}; allowed: a permutation of 0..d-1")
        self.map, self.dim = univariate, len(order)
        self.made = MADE(order, univariate.n_params, hidden, depth, context, generator)

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        z, ladj = self.map.forward(x, self.made(x, context))
        return z, ladj.sum(dim=1)

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x = z
        for _ in range(self.dim):  # pass i fixes the feature of rank i
            x, ladj = self.map.inverse(z, self.made(x, context))
        return x, ladj.sum(dim=1)
