"""Small numerical helpers shared by the statistical models.

Gaussian conditioning, Cholesky-based Gaussian log-densities, truncated-normal draws
and moments, box probabilities of a multivariate normal, and a checked getter for
saved state arrays. Pure functions on numpy arrays; randomness only through a
``Generator``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.linalg import LinAlgError, cho_solve, cholesky, solve_triangular
from scipy.special import log_ndtr, ndtri_exp

_LOG_2PI = float(np.log(2.0 * np.pi))


def state_array(state: Mapping[str, np.ndarray], key: str, shape: tuple[int, ...] | None = None,
                dtype: type = np.float64) -> np.ndarray:
    """``state[key]`` as ``dtype``; a ``ValueError`` naming the key if it is missing or its
    shape is not ``shape`` (``-1`` matches any length)."""
    if key not in state:
        raise ValueError(f"state: missing array {key!r}; the saved model does not match its schema")
    arr = np.asarray(state[key], dtype=dtype)
    if shape is not None and (arr.ndim != len(shape)
                              or any(w not in (-1, a) for a, w in zip(arr.shape, shape, strict=True))):
        raise ValueError(f"state: array {key!r} has shape {arr.shape}; expected {shape}")
    return arr


def safe_cholesky(cov: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of ``cov: (d, d)``; adds a growing diagonal jitter if needed."""
    cov = np.asarray(cov, dtype=np.float64)
    scale = float(np.mean(np.diag(cov))) if cov.size else 1.0
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    for jitter in (0.0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4):
        try:
            return cholesky(cov + jitter * scale * np.eye(cov.shape[0]), lower=True)
        except LinAlgError:
            continue
    raise ValueError("covariance matrix is not positive definite, even with jitter")


def mahalanobis_sq(x: np.ndarray, mean: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """``(x - mean)^T S^{-1} (x - mean)`` per row of ``x: (n, d)``, ``S = chol chol^T``: ``(n,)``."""
    sol = solve_triangular(chol, (np.atleast_2d(x) - mean).T, lower=True)  # (d, n)
    return np.einsum("ij,ij->j", sol, sol)


def mvn_logpdf(x: np.ndarray, mean: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """Log-density of ``N(mean, L L^T)`` at ``x: (n, d)`` given the lower factor ``chol``: ``(n,)``."""
    logdet = 2.0 * np.log(np.diag(chol)).sum()
    return -0.5 * (mahalanobis_sq(x, mean, chol) + logdet + chol.shape[0] * _LOG_2PI)


def gaussian_condition(
    mean: np.ndarray,
    cov: np.ndarray,
    idx_given: Sequence[int],
    values: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Condition ``N(mean, cov)`` on the coordinates ``idx_given`` taking ``values``.

    ``mean: (d,)``, ``cov: (d, d)``, ``values: (m, p)`` (or ``(p,)``) with
    ``p = len(idx_given)``. Returns ``(mean_c, cov_c)``: the conditional means
    ``(m, d - p)`` (or ``(d - p,)`` for 1-D ``values``) and the conditional covariance
    ``(d - p, d - p)`` (the same for every row) of the remaining coordinates, in
    increasing index order.
    """
    mean = np.asarray(mean, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    d = mean.shape[0]
    if cov.shape != (d, d):
        raise ValueError(f"cov: expected shape ({d}, {d}), got {cov.shape}")
    given = np.asarray(idx_given, dtype=np.intp).reshape(-1)
    if len(set(given.tolist())) != given.size or ((given < 0) | (given >= d)).any():
        raise ValueError(f"idx_given: got {given.tolist()}; allowed: distinct indices in 0..{d - 1}")
    vals = np.asarray(values, dtype=np.float64)
    one_row = vals.ndim == 1
    vals = np.atleast_2d(vals)
    if vals.ndim != 2 or vals.shape[1] != given.size:
        raise ValueError(f"values: expected shape (m, {given.size}), got {np.shape(values)}")
    free = np.setdiff1d(np.arange(d), given)
    if given.size == 0:
        mean_c = np.broadcast_to(mean, (vals.shape[0], d)).copy()
        return (mean_c[0] if one_row else mean_c), cov.copy()
    s_gg = cov[np.ix_(given, given)]
    s_fg = cov[np.ix_(free, given)]
    chol = safe_cholesky(s_gg)
    gain = cho_solve((chol, True), s_fg.T).T  # (f, p) = S_fg S_gg^-1
    mean_c = mean[free] + (vals - mean[given]) @ gain.T
    cov_c = cov[np.ix_(free, free)] - gain @ s_fg.T
    cov_c = 0.5 * (cov_c + cov_c.T)
    return (mean_c[0] if one_row else mean_c), cov_c


def truncnorm_std(lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draws of ``N(0, 1)`` truncated to ``[lo, hi]`` elementwise (``±inf`` allowed).

    Inverse-CDF sampling in log space, on the side of zero where the interval lies (an
    interval far in the upper tail is mirrored to the lower tail), so that intervals
    many standard deviations out are still sampled accurately. Consumes one uniform
    per element, in order.
    """
    lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))
    flip = lo > 0
    a = np.where(flip, -hi, lo)
    b = np.where(flip, -lo, hi)
    u = rng.random(a.shape) + 2.0**-54  # strictly inside (0, 1): never an infinite draw
    with np.errstate(divide="ignore"):
        log_p = np.logaddexp(log_ndtr(a) + np.log1p(-u), log_ndtr(b) + np.log(u))
    z = np.clip(ndtri_exp(log_p), a, b)
    return np.where(flip, -z, z)


def truncnorm(mean: np.ndarray, sd: np.ndarray | float, lo: np.ndarray, hi: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
    """Draws of ``N(mean, sd^2)`` truncated to ``[lo, hi]`` elementwise."""
    return mean + sd * truncnorm_std((lo - mean) / sd, (hi - mean) / sd, rng)


def truncnorm_moments(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-mass ``log P(lo <= Z <= hi)``, mean and variance of ``Z ~ N(0, 1)`` truncated to
    ``[lo, hi]``, elementwise (``lo == hi`` gives mean ``lo``, variance 0).

    Computed on the side of zero where the interval lies, with the mass in log space,
    so that intervals far in a tail keep their precision.
    """
    lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))
    flip = lo > 0
    a = np.where(flip, -hi, lo)
    b = np.where(flip, -lo, hi)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        la, lb = log_ndtr(a), log_ndtr(b)
        log_mass = lb + np.log1p(-np.exp(la - lb))
        dens_a = np.where(np.isfinite(a), np.exp(-0.5 * a * a - log_mass), 0.0) / np.sqrt(2.0 * np.pi)
        dens_b = np.where(np.isfinite(b), np.exp(-0.5 * b * b - log_mass), 0.0) / np.sqrt(2.0 * np.pi)
        m = np.nan_to_num(dens_a - dens_b, nan=0.0)
        ta = np.where(np.isfinite(a), a * dens_a, 0.0)
        tb = np.where(np.isfinite(b), b * dens_b, 0.0)
        var = np.nan_to_num(1.0 + ta - tb - m * m, nan=0.0)
        wide = b > a
        m = np.where(wide, np.clip(m, a, b), a)
        var = np.where(wide, np.clip(var, 0.0, np.minimum(1.0, (b - a) ** 2 / 4)), 0.0)
    return np.where(wide, log_mass, -np.inf), np.where(flip, -m, m), var


def truncnorm_mean(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Mean of ``N(0, 1)`` truncated to ``[lo, hi]`` elementwise (``lo == hi`` gives ``lo``)."""
    return truncnorm_moments(lo, hi)[1]


def box_log_prob(mean: np.ndarray, cov: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Approximate ``log P(lo <= Y <= hi)`` per row for ``Y ~ N(mean_i, cov)``.

    ``mean, lo, hi: (n, k)``, ``cov: (k, k)`` -> ``(n,)``. Mendell–Elston: the box
    probability is the product of univariate interval probabilities, conditioning each
    coordinate on the previous ones through their truncated means and variances. Exact
    for ``k = 1``; accurate to a few percent in the usual cases otherwise.
    """
    n, k = mean.shape
    out = np.zeros(n)
    batch = max(1, min(n, 2_000_000 // max(k * k, 1)))
    for start in range(0, n, batch):
        sl = slice(start, start + batch)
        out[sl] = _mendell_elston(mean[sl].copy(), np.repeat(cov[None], mean[sl].shape[0], 0),
                                  lo[sl], hi[sl])
    return out


def _mendell_elston(mu: np.ndarray, cov: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    logp = np.zeros(mu.shape[0])
    k = mu.shape[1]
    for i in range(k):
        var = np.maximum(cov[:, i, i], 1e-300)
        sd = np.sqrt(var)
        log_mass, tmean, tvar = truncnorm_moments((lo[:, i] - mu[:, i]) / sd, (hi[:, i] - mu[:, i]) / sd)
        logp += log_mass
        if i + 1 < k:
            c = cov[:, i + 1:, i]  # (B, r)
            mu[:, i + 1:] += c * (tmean / sd)[:, None]
            shrink = ((1.0 - tvar) / var)[:, None, None]
            cov[:, i + 1:, i + 1:] -= c[:, :, None] * c[:, None, :] * shrink
    return logp
