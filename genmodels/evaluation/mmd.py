"""Maximum mean discrepancy with a Gaussian (RBF) kernel and the median heuristic.

Gretton, Borgwardt, Rasch, Schölkopf & Smola, "A Kernel Two-Sample Test", JMLR 13
(2012): ``MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y)`` with
``k(x, y) = exp(-|x - y|^2 / (2 sigma^2))`` and ``sigma`` the median distance between
the pooled points (their Section 8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genmodels.evaluation.distances import sq_dist_blocks

MEDIAN_POINTS = 1000
"""The median heuristic looks at the pairs among at most this many pooled points."""


@dataclass(frozen=True)
class MMDResult:
    """Biased (V-statistic) MMD^2, the kernel bandwidth and the rows used per side."""

    mmd2: float
    bandwidth: float
    n_real: int
    n_synth: int


def _spread(n: int, m: int) -> np.ndarray:
    """``min(n, m)`` evenly spaced indices of ``0..n-1`` (deterministic)."""
    return np.unique(np.linspace(0, n - 1, min(n, m)).astype(np.int64))


def median_bandwidth(x: np.ndarray, y: np.ndarray, max_points: int = MEDIAN_POINTS) -> float:
    """Median of the distances between distinct pooled points of ``x: (n, p)`` and
    ``y: (m, p)`` (at most ``max_points`` of them, evenly spread over each sample).
    When more than half the pairs coincide (discrete data), the median of the nonzero
    distances; 1.0 if every point is the same."""
    half = max(max_points // 2, 1)
    pooled = np.concatenate([x[_spread(len(x), half)], y[_spread(len(y), half)]])
    d2 = np.concatenate([block for _, block in sq_dist_blocks(pooled, pooled)])
    d = np.sqrt(d2[np.triu_indices(len(pooled), k=1)])
    med = float(np.median(d)) if d.size else 0.0
    if med <= 0:
        positive = d[d > 0]
        med = float(np.median(positive)) if positive.size else 1.0
    return med


def _kernel_mean(a: np.ndarray, b: np.ndarray, gamma: float) -> float:
    total = 0.0
    for _, d2 in sq_dist_blocks(a, b):
        d2 *= -gamma
        total += float(np.exp(d2, out=d2).sum())
    return total / (len(a) * len(b))


def mmd_rbf(real: np.ndarray, synth: np.ndarray, bandwidth: float | None = None) -> MMDResult:
    """Squared MMD between the rows of ``real: (n, p)`` and ``synth: (m, p)`` (biased
    V-statistic: the squared distance of the two empirical kernel mean embeddings).

    Range [0, 2]: 0 for identical samples (ideal), lower is better; two finite samples
    of one distribution give a small positive value, O(1/n). ``bandwidth`` defaults to
    the median heuristic (:func:`median_bandwidth`).
    """
    if len(real) == 0 or len(synth) == 0:
        raise ValueError("mmd_rbf: both samples need at least one row")
    sigma = median_bandwidth(real, synth) if bandwidth is None else float(bandwidth)
    if not sigma > 0:
        raise ValueError(f"bandwidth: got {bandwidth!r}; allowed: a positive number")
    gamma = 1.0 / (2.0 * sigma**2)
    mmd2 = (_kernel_mean(real, real, gamma) + _kernel_mean(synth, synth, gamma)
            - 2.0 * _kernel_mean(real, synth, gamma))
    return MMDResult(max(mmd2, 0.0), sigma, len(real), len(synth))
