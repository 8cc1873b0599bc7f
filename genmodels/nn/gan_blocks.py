"""Networks of the ``gan`` model: CTGAN's residual generator and a packed critic.

The generator concatenates each block's output with its input (CTGAN's ``Residual``),
so the last layer sees the noise, the condition and every hidden representation.
Inputs more than ``WIDE`` times wider than the layers (long one-hot conditions, wide
rows) go through a linear projection first, so a 10,000-level column costs about
``levels * width`` weights, not ``levels^2`` or ``pac * levels * width``. The critic is
the shared :class:`~genmodels.nn.mlp.MLP` (LeakyReLU 0.2) over ``pac`` packed
rows (PacGAN): it scores a pack, not a row. Neither uses dropout (``nn.Dropout`` draws
from the global RNG); every weight is initialised from the ``generator`` handed in.
"""

from __future__ import annotations

import torch
from torch import nn

from genmodels.nn.mlp import MLP, linear

WIDE = 4  # inputs wider than WIDE * width are projected to width first


class ConcatResidual(nn.Module):
    """``x -> cat([relu(bn(linear(x))), x])``: ``(n, i) -> (n, i + o)``."""

    def __init__(self, i: int, o: int, generator: torch.Generator) -> None:
        super().__init__()
        self.fc = linear(i, o, generator)
        self.bn = nn.BatchNorm1d(o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=1)


class ResidualGenerator(nn.Module):
    """Noise + condition ``(n, in_dim)`` -> raw outputs ``(n, out_dim)`` (pre-activation).

    An input more than ``WIDE`` times wider than ``width`` (a long conditional vector)
    is first projected linearly to ``width`` values, so it is not carried through every
    concatenation to the output layer (``in_dim * out_dim`` weights otherwise)."""

    def __init__(self, in_dim: int, out_dim: int, width: int, depth: int,
                 generator: torch.Generator) -> None:
        super().__init__()
        self.proj = (linear(in_dim, width, generator, bias=False) if in_dim > WIDE * width
                     else None)
        blocks, dim = [], width if self.proj is not None else in_dim
        for _ in range(depth):
            blocks.append(ConcatResidual(dim, width, generator))
            dim += width
        self.blocks = nn.Sequential(*blocks)
        self.out = linear(dim, out_dim, generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.proj is not None:
            z = self.proj(z)
        return self.out(self.blocks(z))


class PackedCritic(nn.Module):
    """WGAN critic over packs of ``pac`` rows: ``(n, row_dim) -> (n // pac,)`` scores.

    ``n`` must be a multiple of ``pac``; consecutive rows form a pack. When a row is
    more than ``WIDE`` times wider than ``width`` (many one-hot levels), the first layer is factorized: a shared
    linear projection of each row to ``width`` values, then the packed MLP — the same
    function class with each slot's first-layer weights of rank <= ``width``, at a
    fraction of the cost (``row_dim * width + pac * width^2`` weights instead of
    ``pac * row_dim * width``)."""

    def __init__(self, row_dim: int, pac: int, width: int, depth: int,
                 generator: torch.Generator) -> None:
        super().__init__()
        self.pac = pac
        self.row_dim = row_dim
        self.proj = (linear(row_dim, width, generator, bias=False) if row_dim > WIDE * width
                     else None)
        inner = width if self.proj is not None else row_dim
        self.net = MLP(inner * pac, 1, [width] * depth, act="leaky_relu", generator=generator)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        if self.proj is not None:
            rows = self.proj(rows)
        return self.net(pack(rows, self.pac)).squeeze(1)


def pack(rows: torch.Tensor, pac: int) -> torch.Tensor:
    """``(n, d) -> (n // pac, pac * d)``: consecutive rows side by side (PacGAN)."""
    n, d = rows.shape
    if n % pac:
        raise ValueError(f"rows: {n} rows cannot be packed by pac={pac}; need a multiple of pac")
    return rows.reshape(n // pac, pac * d)
