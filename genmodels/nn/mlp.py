"""MLPs, residual blocks, categorical embeddings and conditioning inputs — written once.

Every layer is created without touching torch's global RNG (``skip_init``) and then
initialised from the ``generator`` handed in, with torch's default scheme (Kaiming
uniform weights, uniform biases): the same generator state gives the same weights,
and building a network never changes another model's random stream.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils import skip_init

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "silu": nn.SiLU,
               "gelu": nn.GELU, "tanh": nn.Tanh, "elu": nn.ELU}
NORMS = (None, "layer", "batch")


def _generator(generator: torch.Generator | None) -> torch.Generator:
    return generator if generator is not None else torch.Generator().manual_seed(0)


def activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: got {name!r}; allowed: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


@torch.no_grad()
def init_linear_(layer: nn.Linear, generator: torch.Generator, *, zero: bool = False) -> nn.Linear:
    """torch's default Linear init (``reset_parameters``) drawn from ``generator``;
    ``zero=True`` zeroes weight and bias (a residual branch or flow that starts as identity)."""
    if zero:
        layer.weight.zero_()
        if layer.bias is not None:
            layer.bias.zero_()
        return layer
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    if layer.bias is not None:
        bound = 1.0 / math.sqrt(layer.in_features) if layer.in_features > 0 else 0.0
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return layer


def linear(in_features: int, out_features: int, generator: torch.Generator | None = None, *,
           bias: bool = True, zero: bool = False) -> nn.Linear:
    """An ``nn.Linear`` initialised from ``generator`` (never the global RNG)."""
    layer = skip_init(nn.Linear, in_features, out_features, bias=bias)
    return init_linear_(layer, _generator(generator), zero=zero)


def _norm(kind: str | None, width: int) -> nn.Module:
    if kind not in NORMS:
        raise ValueError(f"norm: got {kind!r}; allowed: None, 'layer', 'batch'")
    if kind == "layer":
        return nn.LayerNorm(width)
    if kind == "batch":
        return nn.BatchNorm1d(width)
    return nn.Identity()


class ResidualBlock(nn.Module):
    """``x + W2 act(W1 norm(x))`` on ``(n, width)``; ``zero_last`` starts it as identity."""

    def __init__(self, width: int, hidden: int | None = None, *, act: str = "relu",
                 norm: str | None = "layer", zero_last: bool = False,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        g = _generator(generator)
        hidden = hidden or width
        self.norm = _norm(norm, width)
        self.fc1 = linear(width, hidden, g)
        self.act = activation(act)
        self.fc2 = linear(hidden, width, g, zero=zero_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.act(self.fc1(self.norm(x))))


class MLP(nn.Module):
    """``(n, in_features) -> (n, out_features)``.

    Plain: Linear-[norm]-act per entry of ``hidden``, then a Linear out. Residual
    (``residual=True``): a Linear in to ``hidden[0]``, one :class:`ResidualBlock` per
    entry of ``hidden`` (widths must be equal), then norm-act-Linear out.
    ``zero_out`` starts the output layer at zero (useful for flow conditioners)."""

    def __init__(self, in_features: int, out_features: int, hidden: Sequence[int] = (256, 256),
                 *, act: str = "relu", norm: str | None = None, residual: bool = False,
                 zero_out: bool = False, generator: torch.Generator | None = None) -> None:
        super().__init__()
        hidden = list(hidden)
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: got {v!r}; allowed: a positive integer")
        if any(not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(f"hidden: got {hidden!r}; allowed: positive integer widths")
        g = _generator(generator)
        self.in_features, self.out_features = in_features, out_features
        layers: list[nn.Module] = []
        if residual and hidden:
            if len(set(hidden)) != 1:
                raise ValueError(f"hidden: a residual MLP needs equal widths, got {hidden}")
            width = hidden[0]
            layers.append(linear(in_features, width, g))
            layers += [ResidualBlock(width, act=act, norm=norm or "layer", generator=g)
                       for _ in hidden]
            layers += [_norm(norm or "layer", width), activation(act)]
            last = width
        else:
            last = in_features
            for h in hidden:
                layers += [linear(last, h, g), _norm(norm, h), activation(act)]
                last = h
        layers.append(linear(last, out_features, g, zero=zero_out))
        self.net = nn.Sequential(*[m for m in layers if not isinstance(m, nn.Identity)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CategoricalEmbedding(nn.Module):
    """Integer codes of several discrete fields ``(n, k)`` -> concatenated embeddings
    ``(n, sum(dims))``. ``dim=None`` picks ``min(32, ceil(1.6 * levels ** 0.56))`` per
    field (fastai's rule of thumb)."""

    def __init__(self, levels: Sequence[int], dim: int | None = None,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        g = _generator(generator)
        self.levels = [int(k) for k in levels]
        self.dims = [dim or min(32, math.ceil(1.6 * k ** 0.56)) for k in self.levels]
        self.tables = nn.ModuleList()
        for k, d in zip(self.levels, self.dims, strict=True):
            emb = skip_init(nn.Embedding, k, d)
            with torch.no_grad():
                nn.init.normal_(emb.weight, generator=g)
            self.tables.append(emb)
        self.out_features = sum(self.dims)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        codes = codes.long()
        return torch.cat([t(codes[:, i]) for i, t in enumerate(self.tables)], dim=1)


def seeded_dropout(x: torch.Tensor, p: float, generator: torch.Generator | None, *,
                   shared: Sequence[int] = ()) -> torch.Tensor:
    """Inverted dropout with masks drawn from ``generator`` (no global RNG; off when it is
    None or ``p <= 0``). Dimensions in ``shared`` get one mask value along their length:
    ``shared=(1,)`` on ``(b, t, c)`` is "locked" dropout, the same mask at every step."""
    if p <= 0 or generator is None:
        return x
    shape = [1 if d in shared else n for d, n in enumerate(x.shape)]
    keep = torch.rand(shape, generator=generator, device=x.device, dtype=x.dtype) >= p
    return x * keep / (1.0 - p)


def one_hot(codes: torch.Tensor, levels: Sequence[int]) -> torch.Tensor:
    """Codes ``(n, k)`` (float or int) of fields with ``levels`` -> one-hot ``(n, sum(levels))``
    float32, in one scatter (not one op per field)."""
    levels = [int(k) for k in levels]
    out = torch.zeros((codes.shape[0], sum(levels)), dtype=torch.float32, device=codes.device)
    if not levels:
        return out
    starts = torch.tensor([0, *levels[:-1]], device=codes.device).cumsum(0)
    return out.scatter_(1, codes.long() + starts, 1.0)


class FieldInput(nn.Module):
    """An encoded table row ``(n, d)`` -> network input: continuous fields as they are,
    discrete fields (codes) one-hot, or embedded when ``embed_dim`` is set (for fields
    with more than ``max_one_hot`` levels). Column order: continuous, then discrete."""

    def __init__(self, kinds: Sequence[str], levels: Sequence[int], *,
                 embed_dim: int | None = None, max_one_hot: int = 64,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        kinds, levels = list(kinds), [int(k) for k in levels]
        self.cont = [i for i, k in enumerate(kinds) if k == "continuous"]
        disc = [i for i, k in enumerate(kinds) if k == "discrete"]
        use_emb = embed_dim is not None
        self.hot = [i for i in disc if not use_emb or levels[i] <= max_one_hot]
        self.emb_idx = [i for i in disc if i not in self.hot]
        self.hot_levels = [levels[i] for i in self.hot]
        self.embed = (CategoricalEmbedding([levels[i] for i in self.emb_idx], embed_dim, generator)
                      if self.emb_idx else None)
        self.out_features = (len(self.cont) + sum(self.hot_levels)
                             + (self.embed.out_features if self.embed else 0))
        # column indices and one-hot offsets as buffers: no list -> tensor work per call
        starts = [0]
        for k in self.hot_levels[:-1]:
            starts.append(starts[-1] + k)
        for name, values in (("cont_index", self.cont), ("hot_index", self.hot),
                             ("emb_index", self.emb_idx), ("hot_starts", starts)):
            self.register_buffer(name, torch.tensor(values, dtype=torch.long), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [x.index_select(1, self.cont_index)] if self.cont else []
        if self.hot:
            codes = x.index_select(1, self.hot_index).long() + self.hot_starts
            parts.append(x.new_zeros((x.shape[0], sum(self.hot_levels)), dtype=torch.float32)
                         .scatter_(1, codes, 1.0))
        if self.embed is not None:
            parts.append(self.embed(x.index_select(1, self.emb_index)))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


class ConditionalMLP(nn.Module):
    """An MLP that also reads a conditioning vector: ``f(x, c) = MLP(cat[x, c])``.
    ``(n, in_features), (n, cond_features) -> (n, out_features)``."""

    def __init__(self, in_features: int, cond_features: int, out_features: int,
                 hidden: Sequence[int] = (256, 256), **kwargs) -> None:
        super().__init__()
        self.cond_features = cond_features
        self.mlp = MLP(in_features + cond_features, out_features, hidden, **kwargs)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.cond_features:
            if cond is None:
                raise ValueError("cond: this network is conditional; pass the condition vector")
            x = torch.cat([x, cond], dim=1)
        return self.mlp(x)
