"""``independent``: every field on its own — the baseline every other model must beat.

Continuous field: a histogram density, uniform inside each bin. The bins cover the
training ``[min, max]``; every bin gets a pseudo-count so that an empty bin inside the
range is not impossible (half an observation spread over all bins); beyond the range,
exponential tails with the scale of one bin width hold half an observation each side.
This soft widening gives a held-out point just outside the training range a small
density instead of ``-inf`` (a point far outside gets a very low but finite one).
Discrete field: level frequencies plus a pseudo-count ``alpha`` per level (codes
``0..K-1`` only).
"""

from __future__ import annotations

import logging
import math
from typing import Any, ClassVar

import numpy as np

from genmodels.models._stats import state_array
from genmodels.models.base import Capabilities, Model, Param, nonneg_number, register

logger = logging.getLogger(__name__)

MAX_AUTO_BINS = 128
_BIN_PSEUDO = 0.5  # observations spread over the bins
_TAIL_PSEUDO = 0.5  # observations in each exponential tail


def _nonneg_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def auto_bins(col: np.ndarray) -> int:
    """Freedman–Diaconis bin count for ``col: (n,)``, between 1 and ``MAX_AUTO_BINS``
    (Sturges where the interquartile range is 0)."""
    n = col.size
    span = float(col.max() - col.min())
    if span <= 0:
        return 1
    q75, q25 = np.percentile(col, [75, 25])
    width = 2.0 * (q75 - q25) * n ** (-1.0 / 3.0)
    bins = math.ceil(span / width) if width > 0 else math.ceil(math.log2(n)) + 1
    return int(min(max(bins, 1), MAX_AUTO_BINS))


@register
class Independent(Model):
    """Product of per-field marginals: histograms (continuous) and smoothed frequencies."""

    name: ClassVar[str] = "independent"
    description: ClassVar[str] = "independent marginals (histograms, smoothed frequencies): the baseline"
    capabilities: ClassVar[Capabilities] = Capabilities(
        exact_likelihood=True, conditional=True, inputs="mixed")
    params: ClassVar[dict[str, Param]] = {
        "bins": Param(0, int, _nonneg_int, "an integer >= 0",
                      f"histogram bins per continuous field; 0 = Freedman–Diaconis, at most {MAX_AUTO_BINS}"),
        "alpha": Param(0.5, float, nonneg_number, "a number >= 0",
                       "pseudo-count added to every level of a discrete field"),
    }

    # ------------------------------------------------------------------ fit
    def _fit(self, x: np.ndarray, rng: np.random.Generator, *, budget: float | None,
             callbacks: tuple) -> None:
        n = x.shape[0]
        self.edges_: dict[int, np.ndarray] = {}
        self.weights_: dict[int, np.ndarray] = {}  # bin masses, then the two tails
        self.probs_: dict[int, np.ndarray] = {}
        for j, f in enumerate(self.schema_.fields):
            col = x[:, j]
            if f.kind == "discrete":
                counts = np.bincount(col.astype(np.int64), minlength=f.levels)
                alpha = self.config["alpha"]
                self.probs_[j] = (counts + alpha) / (n + f.levels * alpha)
                continue
            bins = self.config["bins"] or auto_bins(col)
            lo, hi = float(col.min()), float(col.max())
            if hi <= lo:  # a constant column: one narrow bin around the value
                half = 1e-3 * max(1.0, abs(lo))
                lo, hi = lo - half, hi + half
            edges = np.linspace(lo, hi, bins + 1)
            counts = np.histogram(col, bins=edges)[0].astype(np.float64)
            mass = np.r_[counts + _BIN_PSEUDO / bins, _TAIL_PSEUDO, _TAIL_PSEUDO]
            self.edges_[j] = edges
            self.weights_[j] = mass / mass.sum()

    # ------------------------------------------------------------------ sample
    def _sample(self, n: int, rng: np.random.Generator,
                condition: dict[int, float] | None) -> np.ndarray:
        condition = condition or {}
        for j, v in condition.items():
            if j in self.probs_ and self.probs_[j][int(v)] <= 0:
                raise ValueError(
                    f"condition: level {int(v)} of {self.schema_.fields[j].name!r} has probability 0 "
                    "under the model (never seen in training and alpha=0)")
        out = np.empty((n, len(self.schema_)))
        for j in range(len(self.schema_)):
            if j in condition:
                out[:, j] = condition[j]
            elif j in self.probs_:
                p = self.probs_[j]
                out[:, j] = np.minimum(np.searchsorted(np.cumsum(p), rng.random(n) * p.sum(),
                                                       side="right"), p.size - 1)
            else:
                out[:, j] = self._sample_histogram(j, n, rng)
        return out

    def _sample_histogram(self, j: int, n: int, rng: np.random.Generator) -> np.ndarray:
        edges, w = self.edges_[j], self.weights_[j]
        bins = edges.size - 1
        width = edges[1] - edges[0]
        comp = np.minimum(np.searchsorted(np.cumsum(w), rng.random(n) * w.sum(), side="right"),
                          w.size - 1)
        u = rng.random(n)
        inner = edges[np.minimum(comp, bins - 1)] + u * width
        excess = -width * np.log1p(-u)  # exponential with scale one bin width
        return np.where(comp < bins, inner, np.where(comp == bins, edges[0] - excess, edges[-1] + excess))

    # ------------------------------------------------------------------ density
    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(x.shape[0])
        with np.errstate(divide="ignore"):
            for j, p in self.probs_.items():
                out += np.log(p[x[:, j].astype(np.int64)])
            for j in self.edges_:
                out += self._log_histogram(j, x[:, j])
        return out

    def _log_histogram(self, j: int, col: np.ndarray) -> np.ndarray:
        edges, w = self.edges_[j], self.weights_[j]
        bins = edges.size - 1
        width = edges[1] - edges[0]
        idx = np.clip(np.searchsorted(edges, col, side="right") - 1, 0, bins - 1)
        inner = np.log(w[idx] / width)
        below = np.log(w[bins] / width) - (edges[0] - col) / width
        above = np.log(w[bins + 1] / width) - (col - edges[-1]) / width
        return np.where(col < edges[0], below, np.where(col > edges[-1], above, inner))

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        out: dict[str, np.ndarray] = {}
        for j, p in self.probs_.items():
            out[f"field{j}.probs"] = p
        for j, edges in self.edges_.items():
            out[f"field{j}.edges"] = edges
            out[f"field{j}.weights"] = self.weights_[j]
        return out

    def load_state(self, state: dict[str, np.ndarray], extra: dict[str, Any]) -> None:
        self.edges_, self.weights_, self.probs_ = {}, {}, {}
        for j, f in enumerate(self.schema_.fields):
            if f.kind == "discrete":
                self.probs_[j] = state_array(state, f"field{j}.probs", (f.levels,))
            else:
                self.edges_[j] = state_array(state, f"field{j}.edges", (-1,))
                self.weights_[j] = state_array(state, f"field{j}.weights", (self.edges_[j].size + 1,))
