"""Element-wise monotonic maps whose parameters come from a conditioner network.

Each map takes ``x: (n, k)`` and unconstrained parameters ``(n, k, n_params)`` and
returns ``(y, log |dy/dx|)`` element-wise. All-zero parameters give the identity, so a
flow whose conditioners end in a zero layer starts as the identity (a stable start).

* :class:`Affine`: ``y = x * exp(s) + t``, ``s`` soft-clamped to ``±scale_bound``.
* :class:`RQSpline`: monotonic rational-quadratic spline on ``[-bound, bound]``
  (Durkan et al. 2019), identity outside (linear tails of slope 1), so heavy tails pass
  through unchanged instead of producing NaNs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from genmodels.nn.flows.base import soft_clamp


class Affine:
    """``y = x * exp(s) + t`` with ``s = soft_clamp(raw, scale_bound)``; 2 parameters."""

    n_params = 2

    def __init__(self, scale_bound: float = 3.0) -> None:
        if not scale_bound > 0:
            raise ValueError(f"scale_bound: got {scale_bound!r}; allowed: a number > 0")
        self.scale_bound = float(scale_bound)

    def _split(self, params: Tensor) -> tuple[Tensor, Tensor]:
        return params[..., 0], soft_clamp(params[..., 1], self.scale_bound)

    def forward(self, x: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self._split(params)
        return x * torch.exp(log_scale) + shift, log_scale

    def inverse(self, y: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self._split(params)
        return (y - shift) * torch.exp(-log_scale), -log_scale


class RQSpline:
    """Monotonic rational-quadratic spline with ``bins`` bins on ``[-bound, bound]``.

    Parameters: ``bins`` widths, ``bins`` heights (softmax), ``bins - 1`` interior
    derivatives (softplus, shifted so that 0 gives slope 1); boundary slopes are 1 so
    the map joins the identity tails smoothly. A minimum bin size ``min_bin`` (fraction
    of the interval) and slope ``min_derivative`` keep the Jacobian bounded.
    """

    def __init__(self, bins: int = 8, bound: float = 5.0, min_bin: float = 1e-3,
                 min_derivative: float = 1e-3) -> None:
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
            raise ValueError(f"bins: got {bins!r}; allowed: an integer >= 2")
        if not bound > 0:
            raise ValueError(f"bound: got {bound!r}; allowed: a number > 0")
        if not 0 < min_bin * bins < 1:
            raise ValueError(f"min_bin: got {min_bin!r}; allowed: 0 < min_bin < 1 / bins")
        self.bins, self.bound = bins, float(bound)
        self.min_bin, self.min_derivative = float(min_bin), float(min_derivative)
        # softplus(raw + offset) + min_derivative == 1 at raw == 0
        self._offset = math.log(math.expm1(1.0 - min_derivative))
        self._cum = torch.triu(torch.ones(bins, bins + 1), diagonal=1)  # sizes -> knots

    @property
    def n_params(self) -> int:
        return 3 * self.bins - 1

    def _knots(self, params: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Knot x positions, knot y positions and slopes at the knots, each ``(…, K+1)``."""
        k, b = self.bins, self.bound
        raw = params[..., :2 * k].unflatten(-1, (2, k))
        e = torch.exp(raw - raw.detach().amax(dim=-1, keepdim=True))  # softmax, in few ops
        scale = (1 - self.min_bin * k) * 2 * b / e.sum(dim=-1, keepdim=True)
        steps = torch.arange(k + 1, dtype=e.dtype, device=e.device) * (self.min_bin * 2 * b) - b
        knots = (e @ self._cum.to(e)) * scale + steps  # (…, 2, K+1), from -b to b
        cw, ch = knots.unbind(dim=-2)
        d_in = F.softplus(params[..., 2 * k:] + self._offset) + self.min_derivative
        return cw, ch, F.pad(d_in, (1, 1), value=1.0)

    def _locate(self, v: Tensor, by: Tensor, cw: Tensor, ch: Tensor, slopes: Tensor):
        """The bin of ``v`` in knots ``by``: ``x0, width, y0, height, d0, d1`` (each like v)."""
        idx = (v.unsqueeze(-1) >= by[..., 1:-1]).sum(dim=-1, keepdim=True)
        idx = torch.cat([idx, idx + 1], dim=-1)
        x0, x1 = cw.gather(-1, idx).unbind(dim=-1)
        y0, y1 = ch.gather(-1, idx).unbind(dim=-1)
        d0, d1 = slopes.gather(-1, idx).unbind(dim=-1)
        return x0, x1 - x0, y0, y1 - y0, d0, d1

    def forward(self, x: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        inside = x.abs() < self.bound
        xc = x.clamp(-self.bound, self.bound)
        cw, ch, slopes = self._knots(params)
        x0, w, y0, h, d0, d1 = self._locate(xc, cw, cw, ch, slopes)
        s = h / w
        xi = ((xc - x0) / w).clamp(0, 1)
        t = xi * (1 - xi)
        denom = s + (d0 + d1 - 2 * s) * t
        y = y0 + h * (s * xi.square() + d0 * t) / denom
        num = s.square() * (d1 * xi.square() + 2 * s * t + d0 * (1 - xi).square())
        ladj = torch.log(num) - 2 * torch.log(denom)
        return torch.where(inside, y, x), ladj * inside

    def inverse(self, y: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
        inside = y.abs() < self.bound
        yc = y.clamp(-self.bound, self.bound)
        cw, ch, slopes = self._knots(params)
        x0, w, y0, h, d0, d1 = self._locate(yc, ch, cw, ch, slopes)
        s = h / w
        dy = yc - y0
        c2 = d0 + d1 - 2 * s
        a = h * (s - d0) + dy * c2
        b = h * d0 - dy * c2
        c = -s * dy
        disc = (b.square() - 4 * a * c).clamp_min(0)
        xi = ((2 * c) / (-b - torch.sqrt(disc))).clamp(0, 1)
        x = x0 + xi * w
        t = xi * (1 - xi)
        denom = s + c2 * t
        num = s.square() * (d1 * xi.square() + 2 * s * t + d0 * (1 - xi).square())
        ladj = 2 * torch.log(denom) - torch.log(num)
        return torch.where(inside, x, y), ladj * inside
