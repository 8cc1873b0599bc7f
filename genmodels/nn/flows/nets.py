"""MADE, the conditioner network of the autoregressive flows (Germain et al. 2015).

Coupling transforms use the shared :class:`genmodels.nn.mlp.MLP`. Every layer here is
built with the shared :func:`genmodels.nn.mlp.linear` (initialised from the generator
handed in, never the global RNG); the output layer starts at zero so each transform
starts as the identity.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genmodels.nn.mlp import linear


class MaskedLinear(nn.Module):
    """A linear layer whose weight is multiplied by a fixed 0/1 ``mask: (out, in)``."""

    def __init__(self, mask: Tensor, generator: torch.Generator | None = None, *,
                 zero: bool = False) -> None:
        super().__init__()
        self.linear = linear(mask.shape[1], mask.shape[0], generator, zero=zero)
        self.register_buffer("mask", mask.to(self.linear.weight.dtype), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.linear.weight * self.mask, self.linear.bias)


def made_degrees(order: Sequence[int], hidden: int, depth: int) -> list[Tensor]:
    """Degrees of the input layer (``order`` + 1) and of ``depth`` hidden layers."""
    d = len(order)
    deg_in = torch.as_tensor(order, dtype=torch.long) + 1
    base = torch.arange(hidden) % max(d - 1, 1) + (1 if d > 1 else 0)
    return [deg_in] + [base.clone() for _ in range(depth)]


class MADE(nn.Module):
    """Masked MLP: ``x: (n, d) -> (n, d, n_params)`` where feature ``i``'s parameters
    depend only on the features earlier in ``order`` and on ``context: (n, c)``, which
    feeds the first hidden layer unmasked."""

    def __init__(self, order: Sequence[int], n_params: int, hidden: int, depth: int,
                 context: int = 0, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth: got {depth!r}; allowed: an integer >= 1")
        self.d, self.p = len(order), int(n_params)
        degrees = made_degrees(order, hidden, depth)
        self.layers = nn.ModuleList(
            MaskedLinear((b[:, None] >= a[None, :]).float(), generator)
            for a, b in zip(degrees[:-1], degrees[1:], strict=True))
        deg_out = degrees[0].repeat_interleave(self.p)  # output unit i*p+k -> feature i
        self.out = MaskedLinear((deg_out[:, None] > degrees[-1][None, :]).float(), generator,
                                zero=True)
        self.context = linear(context, hidden, generator) if context else None

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        h = self.layers[0](x)
        if self.context is not None:
            h = h + self.context(context)
        h = F.relu(h)
        for layer in self.layers[1:]:
            h = F.relu(layer(h))
        return self.out(h).view(x.shape[0], self.d, self.p)
