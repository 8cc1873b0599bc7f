"""Discriminator rejection sampling (Azadi et al. 2019), adapted to a WGAN critic.

DRS needs ``D~(x) = log p_data(x) / p_g(x)`` (the logit of an optimal discriminator) and
accepts a generated ``x`` with probability ``sigmoid(F(x))``,
``F(x) = D~(x) - D~_M - log(1 - exp(D~(x) - D~_M - eps)) - gamma``, where ``D~_M`` is the
largest logit seen so far and ``gamma`` shifts ``F`` so that its ``quantile``-quantile in
each batch is 0 (the paper also sets ``gamma`` per batch from a percentile of ``F``).

WGAN adaptation: a WGAN-GP critic's score ``s`` is a 1-Lipschitz potential, not a
logit. After training we fit a one-dimensional logistic regression ``D~ = a s + b`` of
real-vs-generated on the critic's scores (Platt scaling), which estimates the log
density ratio along the critic's direction, and use that in place of ``D~`` (a slope
``a <= 0``, a critic with no signal, is set to 0: every pack is then accepted with the
same probability, which leaves the distribution as it is). With PacGAN
the critic scores packs, so DRS accepts or rejects whole packs: the estimate is the
ratio of the ``pac``-fold products, whose accepted packs' rows follow ``p_data``'s
marginal as well as the calibrated critic allows.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-6


def calibrate(real_scores: np.ndarray, fake_scores: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` of the logistic regression ``P(real | s) = sigmoid(a s + b)`` fitted by
    Newton's method on the critic scores of real and generated packs (``(m,)`` each)."""
    s = np.concatenate([real_scores, fake_scores]).astype(np.float64)
    y = np.concatenate([np.ones(real_scores.size), np.zeros(fake_scores.size)])
    mu, sd = s.mean(), s.std() + 1e-12
    z = np.c_[(s - mu) / sd, np.ones(s.size)]
    w = np.zeros(2)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (y - p) - 1e-4 * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + 1e-4 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w += step
        if np.abs(step).max() < 1e-10:
            break
    a = max(w[0] / sd, 0.0)  # a critic that ranks fakes above reals carries no signal
    return float(a), float(w[1] - a * mu)


def acceptance(logits: np.ndarray, max_logit: float, quantile: float) -> tuple[np.ndarray, float]:
    """Acceptance probabilities ``(m,)`` of packs with calibrated ``logits`` and the
    updated ``max_logit``."""
    max_logit = max(max_logit, float(logits.max()))
    d = logits - max_logit
    f = d - np.log1p(-np.exp(d - EPS))
    gamma = float(np.quantile(f, quantile))
    return 1.0 / (1.0 + np.exp(-(f - gamma))), max_logit
