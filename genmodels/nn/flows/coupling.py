"""Coupling transforms (Dinh et al. 2017; Durkan et al. 2019): the first ``split``
features pass unchanged and condition an element-wise map of the others.

With the :class:`~genmodels.nn.flows.univariate.Affine` map this is RealNVP's affine
coupling; with :class:`~genmodels.nn.flows.univariate.RQSpline` it is NSF's
rational-quadratic spline coupling. Both directions cost one network pass.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from genmodels.nn.flows.base import Transform
from genmodels.nn.mlp import MLP


class Coupling(Transform):
    """``z[:, :split] = x[:, :split]``; ``z[:, split:] = map(x[:, split:]; net(x[:, :split], c))``."""

    def __init__(self, dim: int, split: int, univariate, hidden: int = 64, depth: int = 2,
                 context: int = 0, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if not 0 <= split < dim:
            raise ValueError(f"split: got {split!r}; allowed: 0 <= split < dim = {dim}")
        self.split, self.map = int(split), univariate
        self.n_out = dim - self.split
        n_in, n_params = self.split + context, self.n_out * univariate.n_params
        if n_in:
            self.net = MLP(n_in, n_params, [hidden] * depth, zero_out=True, generator=generator)
        else:  # nothing to condition on (one feature, no context): learned constants
            self.net = None
            self.const = nn.Parameter(torch.zeros(n_params))

    def _params(self, xa: Tensor, context: Tensor | None) -> Tensor:
        shape = (xa.shape[0], self.n_out, self.map.n_params)
        if self.net is None:
            return self.const.expand(xa.shape[0], -1).view(shape)
        h = xa if context is None else torch.cat([xa, context], dim=1)
        return self.net(h).view(shape)

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        xa, xb = x[:, :self.split], x[:, self.split:]
        zb, ladj = self.map.forward(xb, self._params(xa, context))
        return torch.cat([xa, zb], dim=1), ladj.sum(dim=1)

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        za, zb = z[:, :self.split], z[:, self.split:]
        xb, ladj = self.map.inverse(zb, self._params(za, context))
        return torch.cat([za, xb], dim=1), ladj.sum(dim=1)
