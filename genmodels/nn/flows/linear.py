"""An invertible linear layer in LU form (Kingma & Dhariwal 2018; Durkan et al. 2019):
``z = x W^T + b`` with ``W = L U``, ``L`` unit lower-triangular, ``U`` upper-triangular
with a positive diagonal ``exp(s)``. ``log |det W| = sum(s)``; it mixes all features,
which a permutation cannot. Starts as the identity.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from genmodels.nn.flows.base import Transform, soft_clamp


class LULinear(Transform):
    """Learned invertible ``d x d`` linear map; ``log_diag`` soft-clamped to ``±bound``."""

    def __init__(self, dim: int, bound: float = 5.0) -> None:
        super().__init__()
        self.dim, self.bound = int(dim), float(bound)
        self.lower = nn.Parameter(torch.zeros(dim, dim))
        self.upper = nn.Parameter(torch.zeros(dim, dim))
        self.log_diag = nn.Parameter(torch.zeros(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.register_buffer("eye", torch.eye(dim), persistent=False)

    def _factors(self) -> tuple[Tensor, Tensor, Tensor]:
        s = soft_clamp(self.log_diag, self.bound)
        lower = torch.tril(self.lower, -1) + self.eye
        upper = torch.triu(self.upper, 1) + torch.diag(torch.exp(s))
        return lower, upper, s

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        lower, upper, s = self._factors()
        z = x @ (lower @ upper).T + self.bias
        return z, s.sum().expand(x.shape[0])

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        lower, upper, s = self._factors()
        y = (z - self.bias).T
        y = torch.linalg.solve_triangular(lower, y, upper=False, unitriangular=True)
        x = torch.linalg.solve_triangular(upper, y, upper=True)
        return x.T, (-s.sum()).expand(z.shape[0])
