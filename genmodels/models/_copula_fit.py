"""Estimating the Gaussian copula's correlation when latents are only known to intervals.

Each field ``j`` has a *score* ``g_j(z)``: the latent itself where the marginal maps
a value to a point, and the mean of the standard normal over the interval where it
maps a value (a discrete level, an atom) to an interval. Scores of the training rows
are observed. For latents ``(Z_j, Z_k)`` standard bivariate normal with correlation
``rho`` (Mehler's formula)::

    E[g_j(Z_j) g_k(Z_k)] = sum_r rho^r a_{j,r} a_{k,r},    a_{j,r} = E[g_j(Z) h_r(Z)]

with ``h_r`` the orthonormal Hermite polynomials; the ``a_{j,r}`` are closed-form for
piecewise constant / identity scores. The function is increasing in ``rho`` (the scores
are non-decreasing), so each pair's ``rho`` is found by bisection so that it matches
the observed mean product — a tetrachoric/polychoric/polyserial moment estimate that
needs no sampling and is not attenuated. The pairwise matrix is then projected to the
nearest valid correlation matrix (eigenvalues clipped).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import eigh
from scipy.special import ndtr

from genmodels.models._stats import truncnorm_mean

N_TERMS = 300  # Hermite terms; truncation error in rho < 3e-4 for |rho| <= 0.995
_BISECT_STEPS = 40
_MIN_EIGEN = 1e-3  # floor on the eigenvalues of the pairwise matrix; on Adult 1e-3 beat 1e-6 in
# held-out likelihood and C2ST; larger floors trade sampling fidelity for likelihood
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def hermite_coefficients(edges: np.ndarray, const: np.ndarray, n_terms: int = N_TERMS) -> np.ndarray:
    """``a_r = E[g(Z) h_r(Z)]``, ``r = 0..n_terms-1``, for the score that is constant
    (the interval's truncated mean) on pieces with ``const`` True and the identity on
    the others. ``edges: (P + 1,)`` from ``-inf`` to ``inf``, ``const: (P,)``."""
    edges, const = _nonempty(edges, const)
    q = _weighted_hermite(edges, n_terms + 1)  # h_s(e) phi(e), s = 0..n_terms+1
    # J[p, s] = integral of h_s phi over piece p
    J = np.empty((edges.size - 1, n_terms + 2))
    J[:, 0] = ndtr(edges[1:]) - ndtr(edges[:-1])
    J[:, 1:] = (q[:-1, :-1] - q[1:, :-1]) / np.sqrt(np.arange(1, n_terms + 2))
    r = np.arange(n_terms)
    j_prev = np.c_[np.zeros(J.shape[0]), J[:, : n_terms - 1]]
    identity = np.sqrt(r + 1) * J[:, 1 : n_terms + 1] + np.sqrt(r) * j_prev  # z h_r = ...
    means = truncnorm_mean(edges[:-1], edges[1:])
    return np.where(const[:, None], means[:, None] * J[:, :n_terms], identity).sum(axis=0)


def second_moment(edges: np.ndarray, const: np.ndarray) -> float:
    """``E[g(Z)^2]`` for the score described by ``edges``/``const`` (exact)."""
    edges, const = _nonempty(edges, const)
    a, b = edges[:-1], edges[1:]
    mass = ndtr(b) - ndtr(a)
    with np.errstate(invalid="ignore"):
        pa = np.where(np.isfinite(a), a * np.exp(-0.5 * a * a), 0.0) * _INV_SQRT_2PI
        pb = np.where(np.isfinite(b), b * np.exp(-0.5 * b * b), 0.0) * _INV_SQRT_2PI
    means = truncnorm_mean(a, b)
    return float(np.where(const, means * means * mass, mass + pa - pb).sum())


def moment_correlation(scores: np.ndarray, pieces: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Latent correlation ``(d, d)`` from observed scores ``(n, d)`` and each field's
    ``(edges, const)`` description."""
    n, d = scores.shape
    coef = np.stack([hermite_coefficients(e, c) for e, c in pieces])
    target = np.array([second_moment(e, c) for e, c in pieces])
    observed = np.einsum("ij,ij->j", scores, scores) / n
    scale = np.sqrt(np.where(observed > 0, target / np.where(observed > 0, observed, 1.0), 1.0))
    g = scores * scale  # second moments as the model has them
    prod = g.T @ g / n
    iu, ju = np.triu_indices(d, 1)
    rho = _solve_rho(coef[iu] * coef[ju], prod[iu, ju])
    corr = np.eye(d)
    corr[iu, ju] = corr[ju, iu] = rho
    return nearest_correlation(corr)


def _solve_rho(ab: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Bisection on ``[-1, 1]`` of ``sum_r rho^r ab[:, r] = target`` (increasing in rho)."""
    lo, hi = -np.ones(target.shape), np.ones(target.shape)
    powers = np.empty_like(ab)
    powers[:, 0] = 1.0
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        np.cumprod(np.broadcast_to(mid[:, None], (mid.size, ab.shape[1] - 1)), axis=1,
                   out=powers[:, 1:])
        up = np.einsum("pr,pr->p", ab, powers) < target
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return 0.5 * (lo + hi)


def nearest_correlation(corr: np.ndarray, min_eigen: float | None = None) -> np.ndarray:
    """Clip the eigenvalues of a symmetric ``(d, d)`` matrix at ``min_eigen`` and rescale
    to a unit diagonal: a positive-definite correlation matrix."""
    min_eigen = _MIN_EIGEN if min_eigen is None else min_eigen
    w, v = np.linalg.eigh(0.5 * (corr + corr.T))
    if w.min() >= min_eigen:
        return corr
    fixed = (v * np.maximum(w, min_eigen)) @ v.T
    sd = np.sqrt(np.diag(fixed))
    fixed = fixed / np.outer(sd, sd)
    np.fill_diagonal(fixed, 1.0)
    return fixed


def discriminant_order(sums: np.ndarray, counts: np.ndarray, gram: np.ndarray, j: int) -> np.ndarray:
    """Levels of field ``j`` ordered by their mean along the direction of the other
    fields' scores that best separates them (the first linear discriminant).

    ``sums: (k, d)`` per-level sums of the centred scores, ``counts: (k,)`` rows per
    level, ``gram: (d, d)`` the centred scores' covariance. Returns codes ``(k,)``.
    """
    n = counts.sum()
    means = np.delete(sums, j, axis=1) / np.maximum(counts, 1.0)[:, None]
    between = (means * counts[:, None]).T @ means / n
    total = np.delete(np.delete(gram, j, axis=0), j, axis=1)
    total = total + 1e-9 * max(float(np.trace(total)), 1.0) * np.eye(total.shape[0])
    _, vecs = eigh(between, total)
    return np.argsort(means @ vecs[:, -1], kind="stable")


def _nonempty(edges: np.ndarray, const: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop zero-width pieces (levels of probability 0)."""
    keep = edges[1:] > edges[:-1]
    return np.r_[edges[:-1][keep], edges[-1]], const[keep]


def _weighted_hermite(e: np.ndarray, top: int) -> np.ndarray:
    """``h_s(e) phi(e)`` for ``s = 0..top`` at points ``e: (m,)`` (0 at ``±inf``): ``(m, top+1)``."""
    finite = np.isfinite(e)
    x = np.where(finite, e, 0.0)
    q = np.zeros((e.size, top + 1))
    q[:, 0] = np.where(finite, np.exp(-0.5 * x * x) * _INV_SQRT_2PI, 0.0)
    if top >= 1:
        q[:, 1] = x * q[:, 0]
    for s in range(1, top):
        q[:, s + 1] = (x * q[:, s] - math.sqrt(s) * q[:, s - 1]) / math.sqrt(s + 1)
    return q
