"""Conditional sampling of the Gaussian copula's latents (used by ``copula``).

A condition on a continuous value outside every atom fixes its latent to a point; a
condition on a discrete level, or on a continuous value inside an atom's band (e.g. an
amount of exactly 0), confines its latent to an interval — the rows that have that
value, not the single latent point at the band's centre. The interval latents are
drawn from their Gaussian conditional given the point latents, truncated to the box
formed by the intervals:

* one interval: exact inverse-CDF draws of a univariate truncated normal;
* several: exact rejection in vectorized batches until ``n`` rows are accepted;
* when rejection accepts fewer than ``MIN_ACCEPTANCE`` of the rows, a Gibbs sampler
  of the truncated multivariate normal instead: ``n`` independent chains started from
  the univariate truncated marginals, ``GIBBS_SWEEPS`` sweeps each — an approximation
  (burn-in is finite), used only where rejection would be too slow.

The remaining latents then follow by Gaussian conditioning on all conditioned ones.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import numpy as np

from genmodels.models._stats import gaussian_condition, safe_cholesky, truncnorm

if TYPE_CHECKING:
    from genmodels.models.copula import GaussianCopula

logger = logging.getLogger(__name__)

MIN_ACCEPTANCE = 1e-3
GIBBS_SWEEPS = 50
_BATCH_MIN = 10_000
_BATCH_MAX_VALUES = 4_000_000


def conditional_latents(model: GaussianCopula, n: int, rng: np.random.Generator,
                        condition: dict[int, float]) -> np.ndarray:
    """``(n, d)`` latents drawn from ``N(0, R)`` given the (validated) ``condition``."""
    corr = model.corr_
    d = corr.shape[0]
    points: dict[int, float] = {}
    boxes: dict[int, tuple[float, float]] = {}
    for j, v in condition.items():
        lo, hi = (float(b[0]) for b in model._bounds_col(j, np.array([v])))
        if lo < hi:
            boxes[j] = (lo, hi)
        elif model.schema_.fields[j].kind == "discrete":
            raise ValueError(
                f"condition: level {int(v)} of {model.schema_.fields[j].name!r} has probability 0 "
                "under the model (never seen in training and alpha=0); cannot condition on it")
        else:
            points[j] = lo
    z = np.empty((n, d))
    pidx = sorted(points)
    z[:, pidx] = [points[j] for j in pidx]
    bidx = sorted(boxes)
    if bidx:
        mean_c, cov_c = gaussian_condition(np.zeros(d), corr, pidx, np.array([points[j] for j in pidx]))
        rest = np.setdiff1d(np.arange(d), pidx)
        sel = np.searchsorted(rest, bidx)
        lo = np.array([boxes[j][0] for j in bidx])
        hi = np.array([boxes[j][1] for j in bidx])
        names = [model.schema_.fields[j].name for j in bidx]
        z[:, bidx] = sample_box(mean_c[sel], cov_c[np.ix_(sel, sel)], lo, hi, n, rng, names)
    given = sorted(pidx + bidx)
    free = np.setdiff1d(np.arange(d), given)
    if free.size:
        mean_f, cov_f = gaussian_condition(np.zeros(d), corr, given, z[:, given])
        z[:, free] = mean_f + rng.standard_normal((n, free.size)) @ safe_cholesky(cov_f).T
    return z


def sample_box(mean: np.ndarray, cov: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int,
               rng: np.random.Generator, names: list[str]) -> np.ndarray:
    """``n`` draws ``(n, p)`` of ``N(mean, cov)`` truncated to the box ``[lo, hi]``."""
    if mean.size == 1:
        return truncnorm(np.full((n, 1), mean[0]), math.sqrt(cov[0, 0]), lo, hi, rng)
    chol = safe_cholesky(cov)
    p = mean.size
    batch = min(max(_BATCH_MIN, 4 * n), max(_BATCH_MAX_VALUES // p, n))
    draws = mean + rng.standard_normal((batch, p)) @ chol.T
    ok = np.all((draws >= lo) & (draws <= hi), axis=1)
    rate = ok.mean()
    if rate < MIN_ACCEPTANCE:
        logger.info("conditioning on %s: acceptance %.2g < %g, using %d Gibbs sweeps",
                    ", ".join(names), rate, MIN_ACCEPTANCE, GIBBS_SWEEPS)
        return gibbs_box(mean, cov, lo, hi, n, rng)
    kept = [draws[ok]]
    have = kept[0].shape[0]
    while have < n:
        size = min(math.ceil(1.2 * (n - have) / rate) + 100, max(_BATCH_MAX_VALUES // p, n))
        draws = mean + rng.standard_normal((size, p)) @ chol.T
        ok = np.all((draws >= lo) & (draws <= hi), axis=1)
        kept.append(draws[ok])
        have += int(ok.sum())
    return np.concatenate(kept)[:n]


def gibbs_box(mean: np.ndarray, cov: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int,
              rng: np.random.Generator, sweeps: int | None = None) -> np.ndarray:
    """Approximate draws ``(n, p)`` of a box-truncated ``N(mean, cov)``: ``n`` parallel
    Gibbs chains of ``sweeps`` (default ``GIBBS_SWEEPS``) coordinate updates each."""
    prec = np.linalg.inv(cov)
    sd = np.sqrt(np.diag(cov))
    x = truncnorm(np.broadcast_to(mean, (n, mean.size)), sd, lo, hi, rng)
    for _ in range(GIBBS_SWEEPS if sweeps is None else sweeps):
        for i in range(mean.size):
            cm = x[:, i] - (x - mean) @ prec[:, i] / prec[i, i]
            x[:, i] = truncnorm(cm, 1.0 / math.sqrt(prec[i, i]), lo[i], hi[i], rng)
    return x
