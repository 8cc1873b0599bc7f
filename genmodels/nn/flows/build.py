"""Ready-made flows by name: RealNVP, MAF, NSF (coupling) and NSF (autoregressive)."""

from __future__ import annotations

import torch

from genmodels.nn.flows.autoregressive import MaskedAutoregressive
from genmodels.nn.flows.base import Flow, Permutation, Transform
from genmodels.nn.flows.coupling import Coupling
from genmodels.nn.flows.linear import LULinear
from genmodels.nn.flows.univariate import Affine, RQSpline

KINDS = ("realnvp", "maf", "nsf", "nsf_ar")


def build_flow(kind: str, dim: int, *, generator: torch.Generator, n_layers: int = 4,
               hidden: int = 64, depth: int = 2, bins: int = 8, bound: float = 5.0,
               context: int = 0, lu: bool = False) -> Flow:
    """A flow on ``dim`` features, weights initialised from ``generator``.

    Coupling kinds (``realnvp``, ``nsf``) permute the features before each layer (a
    random permutation for ``dim > 3``, else a reversal) so every feature is
    transformed; autoregressive kinds (``maf``, ``nsf_ar``) alternate the natural and
    reversed orders. ``lu`` adds a learned :class:`LULinear` before each layer.
    ``context`` is the width of the conditioning vector given to every layer.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: got {kind!r}; allowed: {', '.join(KINDS)}")
    if dim < 1:
        raise ValueError(f"dim: got {dim!r}; allowed: an integer >= 1")
    univariate = Affine() if kind in ("realnvp", "maf") else RQSpline(bins, bound)
    layers: list[Transform] = []
    for i in range(n_layers):
        if lu and dim > 1:
            layers.append(LULinear(dim))
        if kind in ("realnvp", "nsf"):
            if dim > 1:
                layers.append(Permutation(_permutation(dim, i, generator)))
            layers.append(Coupling(dim, dim // 2, univariate, hidden, depth, context, generator))
        else:
            order = list(range(dim)) if i % 2 == 0 else list(range(dim))[::-1]
            layers.append(MaskedAutoregressive(order, univariate, hidden, depth, context,
                                                  generator))
    return Flow(layers, dim)


def _permutation(dim: int, i: int, generator: torch.Generator) -> torch.Tensor:
    if dim > 3:
        return torch.randperm(dim, generator=generator)
    return torch.arange(dim).flip(0) if i % 2 == 0 else torch.arange(dim)
