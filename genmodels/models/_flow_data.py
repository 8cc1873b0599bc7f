"""How the ``flow`` model turns encoded rows into flow inputs and back.

* Continuous fields are robustly standardized (1%-99% quantile range, see
  :func:`robust_scale`) in float64 — so a column whose spread is 1e-8 of its level
  keeps its resolution — then passed through the tail map ``a * asinh(x / a)``
  (``a = 3``: the identity near the bulk, logarithmic beyond), which keeps heavy tails
  (Student-t, Cauchy-like) within reach of the flow.
* Discrete fields are uniformly dequantized: ``v = code + u``, ``u ~ U[0, 1)``, rescaled
  to unit variance. ``E_u log p(v)`` is a lower bound of ``log P(code)``.
* ``condition_columns`` fields leave the flow and become its *context*: one-hot codes
  (discrete) and standardized values (continuous), given to every transform.

The change of variables of every step is accounted for, so ``log_prob`` is in the
encoded units the model receives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from genmodels.models.base import Schema

TAIL = 3.0
SQRT12 = math.sqrt(12.0)
_Z99 = 2.3263478740408408  # standard normal 99% quantile


@dataclass(frozen=True)
class Layout:
    """Which encoded fields the flow transforms (continuous first, then discrete) and
    which are context; ``*_levels`` are the discrete fields' numbers of levels."""

    cont: tuple[int, ...]
    disc: tuple[int, ...]
    disc_levels: tuple[int, ...]
    ctx_cont: tuple[int, ...]
    ctx_disc: tuple[int, ...]
    ctx_levels: tuple[int, ...]

    @property
    def dim(self) -> int:
        return len(self.cont) + len(self.disc)

    @property
    def ctx(self) -> tuple[int, ...]:
        return tuple(sorted(self.ctx_cont + self.ctx_disc))

    @property
    def width(self) -> int:
        """Width of the context vector."""
        return len(self.ctx_cont) + sum(self.ctx_levels)

    @property
    def n_columns(self) -> int:
        """Columns of the training matrix: flow inputs, context, per-row log-Jacobian."""
        return self.dim + self.width + 1


def make_layout(schema: Schema, condition_columns: Sequence[str | int]) -> Layout:
    """Split ``schema`` by ``condition_columns``: field names or indices; a name also
    selects the codec's companion fields (``<name>__missing``, ``<name>__state``...)."""
    names = [f.name for f in schema.fields]
    ctx: set[int] = set()
    for col in condition_columns:
        if isinstance(col, str):
            hit = [j for j, n in enumerate(names) if n == col or n.startswith(f"{col}__")]
        else:
            hit = [int(col)] if 0 <= col < len(names) else []
        if not hit:
            shown = ", ".join(repr(n) for n in names[:20]) + (", ..." if len(names) > 20 else "")
            raise ValueError(f"condition_columns: {col!r} is not a field of the data; "
                             f"allowed: {shown} (or their indices)")
        ctx.update(hit)
    if len(ctx) == len(names):
        raise ValueError("condition_columns: got every column; leave at least one column "
                         "for the flow to model")

    def pick(kind: str, inside: bool) -> tuple[int, ...]:
        return tuple(j for j, f in enumerate(schema.fields)
                     if f.kind == kind and (j in ctx) == inside)

    disc, ctx_disc = pick("discrete", False), pick("discrete", True)
    return Layout(pick("continuous", False), disc, tuple(schema.fields[j].levels for j in disc),
                  pick("continuous", True), ctx_disc,
                  tuple(schema.fields[j].levels for j in ctx_disc))


def robust_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the centre and half-width of the 1%-99% quantile range, scaled so
    that it maps to the standard normal's (+-2.33): the std for normal data, the bulk
    for heavy tails (outliers do not inflate it) and for skewed or zero-inflated columns
    (their whole range fits the splines). Falls back on the mean and std when 98% of
    the values are equal, then on a floor of ``1e-12 * max(1, |centre|)``."""
    lo, hi = np.percentile(x, [1, 99], axis=0)
    spread = hi - lo
    center = np.where(spread > 0, (lo + hi) / 2, x.mean(axis=0))
    scale = np.where(spread > 0, spread / (2 * _Z99), x.std(axis=0))
    floor = 1e-12 * np.maximum(1.0, np.abs(center))
    return center, np.maximum(scale, floor)


def tail(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a * asinh(z / a)`` and its log-derivative, element-wise."""
    return TAIL * np.arcsinh(z / TAIL), -0.5 * np.log1p(np.square(z / TAIL))


def untail(y: np.ndarray) -> np.ndarray:
    """Inverse of :func:`tail`; ``|y|`` is capped at 60 (7e8 robust stds) to stay finite."""
    return TAIL * np.sinh(np.clip(y, -60.0, 60.0) / TAIL)


class Preprocessor:
    """Encoded rows <-> flow inputs, given a :class:`Layout` and fitted center/scale of
    every continuous field (flow and context, in field order)."""

    def __init__(self, layout: Layout, center: np.ndarray, scale: np.ndarray) -> None:
        self.layout, self.center, self.scale = layout, center, scale
        self.cont_all = sorted(layout.cont + layout.ctx_cont)
        self.disc_width = np.asarray(layout.disc_levels, dtype=np.float64) / SQRT12
        # log |d y / d v| of the dequantized discrete fields: a constant
        self.disc_ladj = float(-np.log(self.disc_width).sum()) if layout.disc else 0.0

    @classmethod
    def fit(cls, layout: Layout, x: np.ndarray) -> Preprocessor:
        cont_all = sorted(layout.cont + layout.ctx_cont)
        center, scale = robust_scale(x[:, cont_all])
        return cls(layout, center, scale)

    def _standard(self, x: np.ndarray, idx: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        pos = [self.cont_all.index(j) for j in idx]
        z = (x[:, list(idx)] - self.center[pos]) / self.scale[pos]
        y, ladj = tail(z)
        return y, ladj.sum(axis=1) - np.log(self.scale[pos]).sum()

    def context(self, x: np.ndarray) -> np.ndarray:
        """Context vectors ``(n, width)``: standardized continuous, one-hot discrete."""
        lay = self.layout
        parts = [self._standard(x, lay.ctx_cont)[0]] if lay.ctx_cont else []
        for j, k in zip(lay.ctx_disc, lay.ctx_levels, strict=True):
            parts.append(np.eye(k)[x[:, j].astype(np.int64)])
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(x), 0))

    def matrix(self, x: np.ndarray) -> np.ndarray:
        """Training matrix ``(n, dim + width + 1)`` float64: standardized continuous
        flow fields, discrete codes, the context vector and the log-Jacobian of the
        continuous part (the discrete part's is :attr:`disc_ladj`, a constant)."""
        lay = self.layout
        y_cont, ladj = self._standard(x, lay.cont) if lay.cont else (
            np.zeros((len(x), 0)), np.zeros(len(x)))
        return np.concatenate([y_cont, x[:, list(lay.disc)], self.context(x), ladj[:, None]],
                              axis=1)

    def in_range(self, y: np.ndarray) -> np.ndarray:
        """``(n,)`` bool: every dequantized discrete value of ``y: (n, dim)`` falls in a
        level (``0 <= code + u < K``); a draw outside belongs to no level."""
        nc = len(self.layout.cont)
        if not self.layout.disc:
            return np.ones(len(y), dtype=bool)
        half = np.asarray(self.layout.disc_levels, dtype=np.float64) / 2
        v = y[:, nc:] * self.disc_width
        return ((v >= -half) & (v < half)).all(axis=1)

    def decode(self, y: np.ndarray, out: np.ndarray) -> None:
        """Write flow outputs ``y: (n, dim)`` back into the encoded rows ``out``."""
        lay = self.layout
        nc = len(lay.cont)
        if nc:
            pos = [self.cont_all.index(j) for j in lay.cont]
            out[:, list(lay.cont)] = untail(y[:, :nc]) * self.scale[pos] + self.center[pos]
        if lay.disc:
            levels = np.asarray(lay.disc_levels, dtype=np.float64)
            v = y[:, nc:] * self.disc_width + levels / 2
            out[:, list(lay.disc)] = np.clip(np.floor(v), 0, levels - 1)
