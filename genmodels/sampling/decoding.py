"""Autoregressive decoding: temperature, top-k and nucleus (top-p) filtering, then a
seeded draw. Shared by every sequence model (n-gram, LSTM, transformer)."""

from __future__ import annotations

import numpy as np

from genmodels.models._sequence import Decoding


def _normalise(z: np.ndarray) -> np.ndarray:
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _filtered(logp: np.ndarray, decoding: Decoding) -> np.ndarray:
    """Temperature, top-k and top-p applied to ``logp: (b, V)``: log-weights shifted to a
    maximum of 0 in every row (not normalised), filtered tokens at ``-inf``."""
    z = np.asarray(logp, dtype=np.float64)
    if decoding.temperature != 1:
        z = z / decoding.temperature
    v = z.shape[1]
    if decoding.top_k is not None and decoding.top_k < v:
        kth = np.partition(z, v - decoding.top_k, axis=1)[:, v - decoding.top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    z = z - z.max(axis=1, keepdims=True)
    if decoding.top_p is not None and decoding.top_p < 1:
        z = _normalise(z)
        order = np.argsort(-z, axis=1, kind="stable")
        sorted_p = np.exp(np.take_along_axis(z, order, axis=1))
        before = np.cumsum(sorted_p, axis=1) - sorted_p  # mass strictly above each token
        drop_sorted = before >= decoding.top_p           # always keeps the top token
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, axis=1)
        z = np.where(drop, -np.inf, z)
        z = z - z.max(axis=1, keepdims=True)
    return z


def filter_log_probs(logp: np.ndarray, decoding: Decoding) -> np.ndarray:
    """Apply temperature, top-k and top-p to ``logp: (b, V)`` (log-probabilities or
    logits); returns normalised log-probabilities with filtered tokens at ``-inf``."""
    return _normalise(_filtered(logp, decoding))


def draw_tokens(logp: np.ndarray, rng: np.random.Generator, decoding: Decoding) -> np.ndarray:
    """One token per row of ``logp: (b, V)`` (log-probabilities or logits) after filtering:
    ``(b,)`` int64. Inverse-CDF with one uniform per row from ``rng`` (same seed, same
    tokens); a filtered token (probability 0) is never drawn."""
    p = np.exp(_filtered(logp, decoding))
    cdf = np.cumsum(p, axis=1)
    u = rng.random(p.shape[0]) * cdf[:, -1]
    idx = (cdf <= u[:, None]).sum(axis=1)  # the first token whose cdf exceeds u
    v = p.shape[1]
    if idx.max() == v:  # u rounded up to cdf[-1]: the last token of positive weight
        last = v - 1 - np.argmax(p[:, ::-1] > 0, axis=1)
        idx = np.where(idx == v, last, idx)
    return idx.astype(np.int64, copy=False)
