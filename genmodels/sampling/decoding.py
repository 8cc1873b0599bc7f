"""Autoregressive decoding: temperature, top-k and nucleus (top-p) filtering, then a
seeded draw. Shared by every sequence model (n-gram, LSTM, transformer)."""

from __future__ import annotations

import numpy as np

from genmodels.models._sequence import Decoding


def filter_log_probs(logp: np.ndarray, decoding: Decoding) -> np.ndarray:
    """Apply temperature, top-k and top-p to ``logp: (b, V)`` (log-probabilities or
    logits); returns normalised log-probabilities with filtered tokens at ``-inf``."""
    z = np.asarray(logp, dtype=np.float64) / decoding.temperature
    v = z.shape[1]
    if decoding.top_k is not None and decoding.top_k < v:
        kth = np.partition(z, v - decoding.top_k, axis=1)[:, v - decoding.top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    z = z - z.max(axis=1, keepdims=True)
    z = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    if decoding.top_p is not None and decoding.top_p < 1:
        order = np.argsort(-z, axis=1, kind="stable")
        sorted_p = np.exp(np.take_along_axis(z, order, axis=1))
        before = np.cumsum(sorted_p, axis=1) - sorted_p  # mass strictly above each token
        drop_sorted = before >= decoding.top_p           # always keeps the top token
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, axis=1)
        z = np.where(drop, -np.inf, z)
        z = z - z.max(axis=1, keepdims=True)
        z = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return z


def draw_tokens(logp: np.ndarray, rng: np.random.Generator, decoding: Decoding) -> np.ndarray:
    """One token per row of ``logp: (b, V)`` after filtering: ``(b,)`` int64. Inverse-CDF
    with one uniform per row from ``rng`` (same seed, same tokens)."""
    z = filter_log_probs(logp, decoding)
    p = np.exp(z)
    cdf = np.cumsum(p, axis=1)
    u = rng.random(z.shape[0]) * cdf[:, -1]
    idx = (cdf < u[:, None]).sum(axis=1)
    return np.minimum(idx, z.shape[1] - 1).astype(np.int64)
