"""Point masses ("spikes") of numeric columns: values that a large share of rows hold
exactly (``capital-gain == 0`` in 92% of UCI Adult, a default value, a cap like 99).

A spike is modelled as its own state rather than as part of the continuous value, so
that it comes back exactly and with its frequency. A numeric column's row is in one of
``n_states`` states: ``0`` a value (the continuous part), then ``missing`` if training
had missing values, then one state per spike, the most frequent first.
"""

from __future__ import annotations

import numpy as np

from genmodels.codecs.tabular_meta import FEW_LEVELS

MIN_REST_DISTINCT = 2  # the non-spike values must keep at least this many distinct values
CONTRAST = 5.0  # a spike is at least this many times as frequent as its neighbours


def find_spikes(obs: np.ndarray, min_frac: float, max_spikes: int) -> tuple[np.ndarray, np.ndarray]:
    """Spike values of the observed values ``obs: (n,)`` and their shares of ``obs``.

    A value is a spike if at least ``min_frac`` of ``obs`` equal it and it stands out:
    it is at least ``CONTRAST`` times as frequent as the next smaller and the next
    larger distinct value (so the modes of a smooth count, e.g. a Poisson, or the values
    of a uniform column are not spikes: modelling them apart would leave a hole in the
    other values that a smooth model fills back; a frequent value next to a larger spike
    is not one either). At most ``max_spikes``, the most
    frequent first (ties: the smaller value). None if the column has at most
    ``FEW_LEVELS`` distinct values or if the others would be fewer than
    ``MIN_REST_DISTINCT``: such a column is a few values, already handled as per-value
    levels or as a categorical.
    """
    empty = np.zeros(0), np.zeros(0)
    if max_spikes <= 0 or obs.size == 0:
        return empty
    uniq, counts = np.unique(obs, return_counts=True)
    if len(uniq) <= FEW_LEVELS:
        return empty
    padded = np.concatenate([[0], counts, [0]])
    neighbours = np.maximum(padded[:-2], padded[2:])
    ok = (counts >= min_frac * obs.size) & (counts >= CONTRAST * neighbours)
    cand = np.flatnonzero(ok)
    keep = cand[np.lexsort((uniq[cand], -counts[cand]))][:max_spikes]
    if len(uniq) - len(keep) < MIN_REST_DISTINCT:
        return empty
    return uniq[keep].astype(np.float64), counts[keep] / obs.size


def spike_index(spikes: np.ndarray, v: np.ndarray) -> np.ndarray:
    """For each of ``v: (n,)``, the index of the spike it equals exactly, else -1."""
    out = np.full(len(v), -1, np.int64)
    for k, s in enumerate(spikes):
        out[(out < 0) & (v == s)] = k
    return out
