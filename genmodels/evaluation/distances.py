"""Euclidean distances between rows of feature matrices, in memory-bounded blocks.

Exact brute force (matrix products), which in the few hundred dimensions of a one-hot
table beats tree indexes; blocks keep each distance slab under ``BLOCK_BYTES``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

BLOCK_BYTES = 64 * 2**20
"""Upper bound on one block of squared distances (float64)."""


def _sq_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def sq_dist_blocks(a: np.ndarray, b: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, d2)`` with ``d2: (rows, len(b))`` the squared distances of
    ``a[start:start+rows]`` to every row of ``b``. Round-off is cleaned: a pair of
    identical rows gets exactly 0 (so does any pair closer than ~1e-6 times the largest
    norm), and nothing is negative."""
    nb = np.maximum(_sq_norms(b), 0.0)
    rows = max(1, BLOCK_BYTES // (8 * max(len(b), 1)))
    for start in range(0, len(a), rows):
        q = a[start:start + rows]
        nq = _sq_norms(q)
        d2 = q @ b.T
        d2 *= -2.0
        d2 += nq[:, None]
        d2 += nb[None, :]
        tol = 1e-12 * (float(nq.max(initial=0.0)) + float(nb.max(initial=0.0)))
        d2[d2 <= tol] = 0.0
        yield start, d2


def knn_distances(query: np.ndarray, reference: np.ndarray, k: int, *,
                  exclude_self: bool = False) -> np.ndarray:
    """Distances of each query row to its ``k`` nearest reference rows, ascending:
    ``(len(query), k)``. With ``exclude_self`` (``query is reference``) a row is not its
    own neighbour (an identical twin still is, at distance 0)."""
    if not 1 <= k <= len(reference) - int(exclude_self):
        raise ValueError(f"k: got {k}; allowed: 1..{len(reference) - int(exclude_self)} "
                         "(the number of reference rows)")
    out = np.empty((len(query), k), dtype=np.float64)
    nb = np.maximum(_sq_norms(reference), 0.0)
    rows = max(1, BLOCK_BYTES // (8 * max(len(reference), 1)))
    for start in range(0, len(query), rows):
        q = query[start:start + rows]
        part = q @ reference.T  # |q|^2 is constant per row: rank on |b|^2 - 2 q.b
        part *= -2.0
        part += nb[None, :]
        if exclude_self:
            idx = np.arange(len(q))
            part[idx, start + idx] = np.inf
        if k < part.shape[1]:
            part = np.partition(part, k - 1, axis=1)[:, :k]
        nq = _sq_norms(q)[:, None]
        d2 = np.sort(part, axis=1) + nq
        d2[d2 <= 1e-12 * (nq + nb.max(initial=0.0))] = 0.0
        out[start:start + len(q)] = d2
    return np.sqrt(out)


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All distances ``(len(a), len(b))`` — for the few thousand rows PRDC uses."""
    out = np.empty((len(a), len(b)), dtype=np.float64)
    for start, d2 in sq_dist_blocks(a, b):
        out[start:start + d2.shape[0]] = np.sqrt(d2)
    return out
