"""Exact inference for the discrete Bayesian network: categorical draws by rows, and
sampling from ``P(X | evidence)`` by bucket (variable) elimination.

A factor is a table over a tuple of variables (``table.shape == levels of vars``).
Sampling given evidence eliminates the free ancestors of the evidence in min-fill order,
keeps each bucket's product, then draws the variables in reverse elimination order from
their bucket given the already drawn ones — vectorized over the rows. Variables that are
not ancestors of the evidence are barren (their CPTs sum to one) and are drawn forward.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MAX_FACTOR_ENTRIES = 10**8
"""Largest intermediate factor exact inference may build (800 MB as float64)."""

_CHUNK_ENTRIES = 1 << 22  # rows x levels gathered at once when drawing


@dataclass
class Factor:
    """A nonnegative table over ``vars``: ``table.shape == tuple(levels[v] for v in vars)``."""

    vars: tuple[int, ...]
    table: np.ndarray


def draw_rows(table: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw one category per row: row ``r`` uses weights ``table[rows[r]]``.

    ``table: (Q, K)`` nonnegative weights (rows need not sum to one), ``rows: (n,)`` int,
    ``u: (n,)`` uniforms in [0, 1). Returns ``(n,)`` int64 codes; a zero-weight cell is
    never drawn. Exact inverse-CDF per row, in chunks to bound memory.
    """
    k = table.shape[1]
    cum = np.cumsum(table, axis=1)
    positive = table > 0
    last = k - 1 - np.argmax(positive[:, ::-1], axis=1)  # last cell with weight > 0
    out = np.empty(rows.shape[0], dtype=np.int64)
    step = max(1, _CHUNK_ENTRIES // k)
    for s in range(0, rows.shape[0], step):
        r = rows[s:s + step]
        c = cum[r]
        t = u[s:s + step] * c[:, -1]
        code = (c <= t[:, None]).sum(axis=1)
        out[s:s + step] = np.minimum(code, last[r])
    return out


def _scope_size(scope: Sequence[int], levels: Sequence[int]) -> int:
    return math.prod(levels[v] for v in scope)


def _expand(f: Factor, scope: Sequence[int], levels: Sequence[int]) -> np.ndarray:
    """``f.table`` with axes in ``scope`` order and size-1 axes for variables it lacks."""
    pos = [scope.index(v) for v in f.vars]
    t = np.transpose(f.table, np.argsort(pos))
    shape = [1] * len(scope)
    for v in f.vars:
        shape[scope.index(v)] = levels[v]
    return t.reshape(shape)


def multiply(factors: Sequence[Factor], scope: Sequence[int], levels: Sequence[int]) -> Factor:
    """The product of ``factors`` as one table over ``scope`` (the union of their vars)."""
    out = np.ones([levels[v] for v in scope])
    for f in factors:
        out = out * _expand(f, scope, levels)
    return Factor(tuple(scope), out)


def reduce_cpt(child: int, parents: Sequence[int], cpt: np.ndarray, levels: Sequence[int],
               evidence: Mapping[int, int]) -> Factor:
    """CPT ``(Q, K)`` of ``child | parents`` as a factor, evidence variables sliced out."""
    vars_ = (*parents, child)
    table = cpt.reshape([levels[v] for v in vars_])
    index = tuple(evidence.get(v, slice(None)) for v in vars_)
    return Factor(tuple(v for v in vars_ if v not in evidence), table[index])


def min_fill_order(free: Sequence[int], scopes: Sequence[Sequence[int]],
                   levels: Sequence[int]) -> list[int]:
    """Greedy elimination order: fewest fill-in edges, then smallest clique table, then index."""
    adj: dict[int, set[int]] = {v: set() for v in free}
    for s in scopes:
        for a in s:
            adj[a].update(b for b in s if b != a)
    order: list[int] = []
    while adj:
        def key(v: int) -> tuple[int, int, int]:
            nb = sorted(adj[v])
            fill = sum(1 for i, a in enumerate(nb) for b in nb[i + 1:] if b not in adj[a])
            return fill, _scope_size([v, *nb], levels), v
        v = min(adj, key=key)
        nb = adj.pop(v)
        for a in nb:
            adj[a].discard(v)
            adj[a].update(b for b in nb if b != a)
        order.append(v)
    return order


def _too_big(scope: Sequence[int], levels: Sequence[int], names: Sequence[str],
             evidence: Mapping[int, int]) -> ValueError:
    size = _scope_size(scope, levels)
    return ValueError(
        f"condition: exact inference given {_describe(evidence, names)} needs a factor of "
        f"{size:,} entries over {[names[v] for v in scope]}, above the limit of "
        f"{MAX_FACTOR_ENTRIES:,}; allowed: condition on fewer columns, or fit with a "
        f"smaller max_parents / max_cpt_size")


def _describe(evidence: Mapping[int, int], names: Sequence[str]) -> str:
    return ", ".join(f"{names[j]}={v}" for j, v in sorted(evidence.items()))


def eliminate(factors: list[Factor], order: Sequence[int], levels: Sequence[int],
              names: Sequence[str], evidence: Mapping[int, int]) -> list[Factor]:
    """Eliminate ``order`` (sum-product); return each variable's bucket product.

    Raises ValueError if the evidence has probability zero, or if a bucket would exceed
    ``MAX_FACTOR_ENTRIES``. Messages are rescaled to max 1 (only zero-ness of P(e) matters).
    """
    pool = list(factors)
    buckets: list[Factor] = []
    for v in order:
        inside = [f for f in pool if v in f.vars]
        pool = [f for f in pool if v not in f.vars]
        scope = sorted({w for f in inside for w in f.vars})
        if _scope_size(scope, levels) > MAX_FACTOR_ENTRIES:
            raise _too_big(scope, levels, names, evidence)
        psi = multiply(inside, scope, levels)
        buckets.append(psi)
        msg = psi.table.sum(axis=scope.index(v))
        top = msg.max()
        if not top > 0:
            raise _zero_evidence(evidence, names)
        pool.append(Factor(tuple(w for w in scope if w != v), msg / top))
    if any(not f.table.max() > 0 for f in pool):  # scalars and any leftovers
        raise _zero_evidence(evidence, names)
    return buckets


def _zero_evidence(evidence: Mapping[int, int], names: Sequence[str]) -> ValueError:
    return ValueError(
        f"condition: {_describe(evidence, names)} has probability zero under the fitted "
        f"bayesnet (a combination never seen with alpha=0); allowed: a condition with "
        f"positive probability, or fit with alpha > 0")


def ancestors(parents: Sequence[Sequence[int]], nodes: Sequence[int]) -> set[int]:
    """``nodes`` and all their ancestors."""
    out, stack = set(nodes), list(nodes)
    while stack:
        for p in parents[stack.pop()]:
            if p not in out:
                out.add(p)
                stack.append(p)
    return out


def sample_given(n: int, rng: np.random.Generator, parents: Sequence[Sequence[int]],
                 cpts: Sequence[np.ndarray], levels: Sequence[int], order: Sequence[int],
                 evidence: Mapping[int, int], names: Sequence[str]) -> np.ndarray:
    """Exact draws from ``P(X | evidence)``: ``(n, d)`` int64 codes.

    Bucket elimination over the free ancestors of the evidence, backward sampling of
    those, then forward sampling of the rest in topological ``order``.
    """
    d = len(parents)
    codes = np.zeros((n, d), dtype=np.int64)
    for j, v in evidence.items():
        codes[:, j] = v
    relevant = ancestors(parents, list(evidence))
    factors = [reduce_cpt(i, parents[i], cpts[i], levels, evidence) for i in sorted(relevant)]
    free = sorted(relevant - set(evidence))
    elim = min_fill_order(free, [f.vars for f in factors], levels)
    buckets = eliminate(factors, elim, levels, names, evidence)
    for v, psi in zip(reversed(elim), reversed(buckets), strict=True):
        others = [w for w in psi.vars if w != v]
        t = np.moveaxis(psi.table, psi.vars.index(v), -1).reshape(-1, levels[v])
        rows = np.zeros(n, dtype=np.int64)
        for w in others:
            rows = rows * levels[w] + codes[:, w]
        codes[:, v] = draw_rows(t, rows, rng.random(n))
    for i in order:
        if i not in relevant:
            codes[:, i] = forward_draw(codes, i, parents[i], cpts[i], levels, rng)
    return codes


def forward_draw(codes: np.ndarray, child: int, parents: Sequence[int], cpt: np.ndarray,
                 levels: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """Draw ``child`` given its already drawn ``parents`` (columns of ``codes: (n, d)``)."""
    rows = np.zeros(codes.shape[0], dtype=np.int64)
    for p in parents:
        rows = rows * levels[p] + codes[:, p]
    return draw_rows(cpt, rows, rng.random(codes.shape[0]))
