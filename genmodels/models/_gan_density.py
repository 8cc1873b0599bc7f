"""What a GAN lacks and the contract asks for, done by smoothing its own samples.

* ``kde_log_prob``: a GAN has no likelihood. We report the log-density of a kernel
  density estimate built on ``m`` generated rows: a Gaussian product kernel on the
  continuous fields (Scott's bandwidth) and an Aitchison-Aitken kernel on the discrete
  ones (mass ``1 - lam`` on the row's own level, ``lam`` shared by the others). It is a
  proper density (integrates/sums to one), an approximation of the generator's.
* ``kernel_resample``: conditioning on a continuous value (probability zero for a
  sampler) by approximate Bayesian computation: generated rows are weighted by a
  Gaussian kernel on the distance of their conditioned fields to the requested values
  and resampled; the fields then take the requested values exactly.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from genmodels.models.base import Schema

DISCRETE_SMOOTHING = 0.05
ABC_BANDWIDTH = 0.1  # in units of each conditioned field's sd among the generated rows


def bandwidths(ref: np.ndarray) -> np.ndarray:
    """Scott's rule per column of ``ref: (m, c)``, floored to stay positive: ``(c,)``."""
    m, c = ref.shape
    sd = ref.std(axis=0) if m > 1 else np.ones(c)
    return np.maximum(sd * m ** (-1.0 / (c + 4)), 1e-3)


def kde_log_prob(x: np.ndarray, ref: np.ndarray, schema: Schema) -> np.ndarray:
    """Log-density of ``x: (n, d)`` under the KDE on generated rows ``ref: (m, d)``: ``(n,)``."""
    chunk = max(1, 4_000_000 // (ref.shape[0] * max(1, x.shape[1])))  # ~32 MB a block
    cont, disc = schema.continuous_idx, schema.discrete_idx
    h = bandwidths(ref[:, cont]) if cont else np.zeros(0)
    lam = DISCRETE_SMOOTHING
    k = np.array([schema.fields[j].levels for j in disc], dtype=np.float64)
    log_same = np.log1p(-lam) * np.ones_like(k)
    log_other = np.where(k > 1, np.log(lam / np.maximum(k - 1, 1)), 0.0)
    log_same = np.where(k > 1, log_same, 0.0)
    const = -0.5 * len(cont) * np.log(2 * np.pi) - np.log(h).sum() - np.log(ref.shape[0])
    out = np.empty(x.shape[0])
    for s in range(0, x.shape[0], chunk):
        xb = x[s:s + chunk]
        z = (xb[:, None, cont] - ref[None, :, cont]) / h
        logk = -0.5 * (z**2).sum(axis=2)
        if disc:
            same = xb[:, None, disc] == ref[None, :, disc]
            logk = logk + np.where(same, log_same, log_other).sum(axis=2)
        out[s:s + chunk] = logsumexp(logk, axis=1) + const
    return out


def kernel_weights(rows: np.ndarray, given: dict[int, float]) -> np.ndarray:
    """ABC weights ``(m,)`` of generated ``rows: (m, d)`` for continuous ``given`` values."""
    idx = np.fromiter(given, dtype=np.int64)
    want = np.array([given[j] for j in idx])
    sd = rows[:, idx].std(axis=0)
    h = ABC_BANDWIDTH * np.where(sd > 0, sd, 1.0)
    z = (rows[:, idx] - want) / h
    return np.exp(-0.5 * (z**2).sum(axis=1))


def effective_size(w: np.ndarray) -> float:
    """Kish's effective sample size of weights ``w``."""
    total = w.sum()
    return 0.0 if total <= 0 else float(total**2 / (w**2).sum())


def kernel_resample(rows: np.ndarray, w: np.ndarray, given: dict[int, float], n: int,
                    rng: np.random.Generator) -> np.ndarray:
    """``n`` rows drawn with probability proportional to ``w``; ``given`` fields set: ``(n, d)``."""
    pick = rng.choice(rows.shape[0], size=n, replace=True, p=w / w.sum())
    out = rows[pick].copy()
    for j, v in given.items():
        out[:, j] = v
    return out
