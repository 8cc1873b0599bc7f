"""Conditioning a fitted ``flow`` on fields it cannot condition on natively (continuous
fields that are not ``condition_columns``), by sampling-importance-resampling (SIR).

The target is the model's own conditional ``p(free | fixed) ∝ p(free, fixed)``, whose
unnormalised log-density is the model's ``log_prob`` of the completed row. Proposals
come from the model itself: ``pool`` unconditional draws, of which the ``k`` nearest to
the condition (standardized distance on the conditioned fields) define a defensive
mixture for the free continuous fields — half a multivariate t (df 4, the neighbours'
mean and twice their covariance), half a Gaussian kernel density on the neighbours —
and smoothed neighbour frequencies for the free discrete fields. ``m`` proposals are
weighted by ``p / q`` and ``n`` are resampled. The weights are exact, so the draws
approach the model's conditional as ``m`` grows (a consistent approximation); a
condition the model finds too improbable (effective sample size below ``min_ess``)
raises a ``ValueError`` naming the fields.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_t

_DF = 4.0


def importance_resample(model, n: int, rng: np.random.Generator,
                        condition: Mapping[int, float], *, pool: int = 20_000, k: int = 200,
                        m: int | None = None, min_ess: float = 20.0) -> np.ndarray:
    """``n`` rows ``(n, d)`` from ``model`` given ``condition`` {field: value} (any kinds).

    ``model`` is a fitted :class:`~genmodels.models.flow.FlowModel`: its ``_draw``,
    ``_log_prob`` and ``prep_`` (for the fields' scales) are used."""
    fields = model.schema_.fields
    d = len(fields)
    fixed = sorted(condition)
    values = np.array([condition[j] for j in fixed], dtype=np.float64)
    free = [j for j in range(d) if j not in condition]
    native = {j: v for j, v in condition.items() if j in set(model.layout_.ctx)}
    draws = model._draw(pool, rng, native)
    near = draws[_nearest(model, draws, fixed, values, k)]
    cont = [j for j in free if fields[j].kind == "continuous"]
    disc = [j for j in free if fields[j].kind == "discrete"]
    m = m or int(min(max(50 * n, 20_000), 200_000))
    prop = np.empty((m, d))
    prop[:, fixed] = values
    log_q = np.zeros(m)
    if cont:
        prop[:, cont], log_q = _continuous(near[:, cont], m, rng)
    for j in disc:
        p = np.bincount(near[:, j].astype(np.int64), minlength=fields[j].levels) + 0.5
        p = p / p.sum()
        codes = rng.choice(len(p), size=m, p=p)
        prop[:, j] = codes
        log_q = log_q + np.log(p[codes])
    log_w = model._log_prob(prop) - log_q
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    ess = 1.0 / float(np.sum(w * w))
    if not np.isfinite(ess) or ess < min_ess:
        names = ", ".join(repr(fields[j].name) for j in fixed)
        raise ValueError(f"condition: the values of {names} are too improbable under flow "
                         f"(importance sampling kept an effective {ess:.1f} of {m:,} draws); "
                         "condition on values nearer the data, or make the field a "
                         "condition column (condition_columns) for exact conditioning")
    out = prop[np.sort(rng.choice(m, size=n, p=w))]
    out[:, fixed] = values
    return out


def _nearest(model, draws: np.ndarray, fixed: list[int], values: np.ndarray,
             k: int) -> np.ndarray:
    """Indices of the ``k`` draws nearest to the condition (continuous fields in robust
    standard units; a discrete mismatch counts as 1e6)."""
    fields = model.schema_.fields
    prep = model.prep_
    dist = np.zeros(len(draws))
    for j, v in zip(fixed, values, strict=True):
        if fields[j].kind == "discrete":
            dist += 1e6 * (draws[:, j] != v)
        else:
            scale = prep.scale[prep.cont_all.index(j)]
            dist += np.square((draws[:, j] - v) / scale)
    k = min(k, len(draws))
    return np.argpartition(dist, k - 1)[:k]


def _continuous(near: np.ndarray, m: int, rng: np.random.Generator):
    """``m`` draws ``(m, c)`` from the defensive t + kernel mixture around the neighbours
    ``near: (k, c)`` and their log proposal density ``(m,)``."""
    k, c = near.shape
    mean = near.mean(axis=0)
    spread = near.std(axis=0)
    spread = np.where(spread > 0, spread, np.maximum(1e-6 * np.abs(mean), 1e-12))
    cov = np.atleast_2d(np.cov(near, rowvar=False)) if k > 1 else np.diag(spread**2)
    cov = 2.0 * cov + np.diag((1e-3 * spread) ** 2)
    t = multivariate_t(loc=mean, shape=cov, df=_DF, seed=rng)
    bw = spread * k ** (-1.0 / (c + 4))  # Scott's factor
    use_t = rng.random(m) < 0.5
    out = np.empty((m, c))
    out[use_t] = t.rvs(size=int(use_t.sum())).reshape(-1, c)
    centers = near[rng.integers(k, size=int((~use_t).sum()))]
    out[~use_t] = centers + bw * rng.standard_normal(centers.shape)
    log_t = np.atleast_1d(t.logpdf(out))
    log_kde = np.empty(m)
    norm = -0.5 * c * np.log(2 * np.pi) - np.log(bw).sum() - np.log(k)
    for lo in range(0, m, 2048):
        z = (out[lo:lo + 2048, None, :] - near[None, :, :]) / bw
        log_kde[lo:lo + 2048] = logsumexp(-0.5 * np.square(z).sum(axis=2), axis=1) + norm
    return out, np.logaddexp(log_t, log_kde) + np.log(0.5)
