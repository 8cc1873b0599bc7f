"""Precision, recall, density and coverage of a generated sample.

Naeem, Oh, Uh, Choi & Yoo, "Reliable Fidelity and Diversity Metrics for Generative
Models", ICML 2020 (reference code: clovaai/generative-evaluation-prdc). Each point
owns a ball reaching its k-th nearest neighbour in its own sample; precision and
density ask whether synthetic points fall in real balls (fidelity), recall and
coverage whether the real points are reached by the synthetic sample (diversity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genmodels.evaluation.distances import pairwise_distances, sq_dist_blocks

K = 5
"""Nearest neighbours defining the balls (the paper's default)."""


@dataclass(frozen=True)
class PRDCResult:
    """The four figures, ``k`` and the rows used per side."""

    precision: float
    recall: float
    density: float
    coverage: float
    k: int
    n_real: int
    n_synth: int


def _radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance of each row to its k-th nearest other row (the same arithmetic as
    :func:`pairwise_distances`, so ball membership is decided consistently)."""
    out = np.empty(len(x))
    for start, d2 in sq_dist_blocks(x, x):
        out[start:start + len(d2)] = np.partition(d2, k, axis=1)[:, k]  # index 0: itself
    return np.sqrt(out)


def prdc(real: np.ndarray, synth: np.ndarray, k: int = K) -> PRDCResult:
    """PRDC of ``synth: (m, p)`` against ``real: (n, p)`` (Euclidean, strict ``<`` as
    in the reference code, so a ball of radius 0 — a point with ``k`` exact twins —
    holds nothing).

    * precision: share of synthetic points inside some real k-NN ball; [0, 1], higher
      is better (1 = every sample looks real).
    * recall: share of real points inside some synthetic k-NN ball; [0, 1], higher is
      better (1 = the whole real support is produced).
    * density: mean number of real balls holding a synthetic point, over k; [0, k],
      about 1 when the distributions match, < 1 for samples off the data, > 1 for
      samples crowding dense regions.
    * coverage: share of real points whose ball holds some synthetic point; [0, 1],
      higher is better (1 = no real region is missed).
    """
    n, m = len(real), len(synth)
    if not 1 <= k < min(n, m):
        raise ValueError(f"k: got {k}; allowed: 1 <= k < min(rows) = {min(n, m)}")
    real_radii, synth_radii = _radii(real, k), _radii(synth, k)
    d = pairwise_distances(real, synth)  # (n, m)
    in_real_ball = d < real_radii[:, None]
    precision = float(in_real_ball.any(axis=0).mean())
    density = float(in_real_ball.sum(axis=0).mean() / k)
    recall = float((d < synth_radii[None, :]).any(axis=1).mean())
    coverage = float((d.min(axis=1) < real_radii).mean())
    return PRDCResult(precision, recall, density, coverage, k, n, m)
