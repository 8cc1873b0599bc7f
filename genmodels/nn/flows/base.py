"""The flow contract: small invertible transforms composed into a :class:`Flow`.

A :class:`Transform` maps data ``x`` towards the base space (``forward``) and back
(``inverse``); both return the result and ``log |det J|`` of the map they apply, per
row. A :class:`Flow` chains transforms and puts a standard normal at the end, so
``log p(x) = log N(f(x)) + log |det J_f(x)|``. ``context`` is an optional ``(n, c)``
tensor given to every transform (conditional flows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

_LOG_2PI = math.log(2.0 * math.pi)


class Transform(nn.Module):
    """An invertible map ``x: (n, d) -> z: (n, d)`` with a tractable Jacobian."""

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``x -> (z, log|det dz/dx|)``: ``(n, d)``, ``(n,)``."""
        raise NotImplementedError

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``z -> (x, log|det dx/dz|)``: ``(n, d)``, ``(n,)``."""
        raise NotImplementedError


class Permutation(Transform):
    """Reorders the features: ``z = x[:, perm]`` (volume preserving)."""

    def __init__(self, perm: Tensor) -> None:
        super().__init__()
        perm = torch.as_tensor(perm, dtype=torch.long)
        if not torch.equal(torch.sort(perm).values, torch.arange(perm.numel())):
            raise ValueError(f"perm: got {perm.tolist()}; allowed: a permutation of 0..d-1")
        self.register_buffer("perm", perm)
        self.register_buffer("inv_perm", torch.argsort(perm))

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return x[:, self.perm], x.new_zeros(x.shape[0])

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return z[:, self.inv_perm], z.new_zeros(z.shape[0])


class Composition(Transform):
    """Transforms applied in order (``forward``) and in reverse order (``inverse``)."""

    def __init__(self, transforms: Sequence[Transform]) -> None:
        super().__init__()
        self.transforms = nn.ModuleList(transforms)

    def forward(self, x: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        total = x.new_zeros(x.shape[0])
        for t in self.transforms:
            x, ladj = t(x, context)
            total = total + ladj
        return x, total

    def inverse(self, z: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        total = z.new_zeros(z.shape[0])
        for t in reversed(self.transforms):
            z, ladj = t.inverse(z, context)
            total = total + ladj
        return z, total


class Flow(nn.Module):
    """A normalizing flow: ``transform`` then a standard normal base in ``dim`` dims."""

    def __init__(self, transforms: Sequence[Transform], dim: int) -> None:
        super().__init__()
        self.transform = Composition(transforms)
        self.dim = int(dim)

    def log_prob(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        """Exact log-density of ``x: (n, d)``: ``(n,)``."""
        z, ladj = self.transform(x, context)
        return standard_normal_log_prob(z) + ladj

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        return self.log_prob(x, context)

    def sample(self, n: int, generator: torch.Generator,
               context: Tensor | None = None) -> Tensor:
        """``n`` draws ``(n, d)``; ``context`` is ``(n, c)`` for a conditional flow."""
        z = torch.randn(n, self.dim, generator=generator, dtype=self._dtype())
        x, _ = self.transform.inverse(z, context)
        return x

    def _dtype(self) -> torch.dtype:
        for p in self.parameters():
            return p.dtype
        return torch.get_default_dtype()


def standard_normal_log_prob(z: Tensor) -> Tensor:
    """``sum_j log N(z_j; 0, 1)`` per row: ``(n,)``."""
    return -0.5 * (z.square().sum(dim=1) + z.shape[1] * _LOG_2PI)


def soft_clamp(x: Tensor, bound: float) -> Tensor:
    """``bound * tanh(x / bound)``: ~identity near 0, never beyond ``±bound``."""
    return bound * torch.tanh(x / bound)
