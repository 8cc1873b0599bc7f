"""Structure learning for the discrete Bayesian network: score-based hill-climbing (BIC or
Bayesian-Dirichlet) with tabu steps, and Chow–Liu trees.

Both work on integer codes ``codes: (d, n) int64`` (one row per variable, C-contiguous so
that a column is a contiguous slice) with ``levels[i]`` categories each. Counts are
vectorized: a family's joint code is ``child + K_child * (p1 + K_p1 * p2 ...)`` and one
``np.bincount`` counts all its cells.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Sequence

import numpy as np
from scipy.special import gammaln

logger = logging.getLogger(__name__)

_IMPROVE_TOL = 1e-7  # a move must raise the BIC by more than this (nats)


def family_counts(codes: np.ndarray, levels: Sequence[int], child: int,
                  parents: Sequence[int]) -> np.ndarray:
    """Counts of ``child`` given ``parents``: ``(Q, K_child)`` int64, ``Q`` = prod of parent
    levels, parent configurations in row-major order of ``parents`` (first parent slowest)."""
    q = 1
    idx = np.zeros(codes.shape[1], dtype=np.int64)
    for p in parents:
        idx = idx * levels[p] + codes[p]
        q *= levels[p]
    k = levels[child]
    counts = np.bincount(idx * k + codes[child], minlength=q * k)
    return counts.reshape(q, k)


def parent_index(codes: np.ndarray, levels: Sequence[int], parents: Sequence[int]) -> np.ndarray:
    """Row-major parent-configuration index of every row: ``(n,)`` int64."""
    idx = np.zeros(codes.shape[1], dtype=np.int64)
    for p in parents:
        idx = idx * levels[p] + codes[p]
    return idx


def _xlogx_sum(c: np.ndarray) -> float:
    c = c[c > 0].astype(np.float64)
    return float(np.dot(c, np.log(c)))


def bic_family(codes: np.ndarray, levels: Sequence[int], child: int,
               parents: Sequence[int]) -> float:
    """BIC of one family: maximized log-likelihood minus ``log(n)/2`` per free parameter."""
    counts = family_counts(codes, levels, child, parents)
    ll = _xlogx_sum(counts) - _xlogx_sum(counts.sum(axis=1))
    n_free = (levels[child] - 1) * counts.shape[0]
    return ll - 0.5 * math.log(codes.shape[1]) * n_free


def bd_family(codes: np.ndarray, levels: Sequence[int], child: int, parents: Sequence[int],
              alpha: float) -> float:
    """Log marginal likelihood of one family under a Dirichlet(``alpha``) prior per cell.

    It equals the sum over rows of the log predictive probability of each row given the
    rows before it (the prequential held-out log-likelihood of the CPT the model fits).
    Empty cells and parent configurations contribute zero, so only nonzero counts are used.
    """
    counts = family_counts(codes, levels, child, parents)
    c = counts[counts > 0].astype(np.float64)
    rows = counts.sum(axis=1)
    r = rows[rows > 0].astype(np.float64)
    k_alpha = levels[child] * alpha
    return float(np.sum(gammaln(c + alpha)) - c.size * gammaln(alpha)
                 - np.sum(gammaln(r + k_alpha)) + r.size * gammaln(k_alpha))


class _Scorer:
    """Caches family scores by ``(child, sorted parents)``: a move recomputes only the
    families it touches, and a family seen before costs a dict look-up."""

    def __init__(self, codes: np.ndarray, levels: Sequence[int], max_cpt_size: int,
                 score: str = "bic", alpha: float = 0.0) -> None:
        if score not in ("bic", "bd") or (score == "bd" and not alpha > 0):
            raise ValueError(f"score: got {score!r} with alpha={alpha!r}; allowed: 'bic', "
                             f"or 'bd' with alpha > 0")
        self.codes, self.levels, self.max_cpt_size = codes, list(levels), max_cpt_size
        self.score, self.alpha = score, alpha
        self.cache: dict[tuple[int, tuple[int, ...]], float] = {}

    def fits(self, child: int, parents: Sequence[int]) -> bool:
        size = self.levels[child]
        for p in parents:
            size *= self.levels[p]
        return size <= self.max_cpt_size

    def __call__(self, child: int, parents: Sequence[int]) -> float:
        key = (child, tuple(sorted(parents)))
        s = self.cache.get(key)
        if s is None:
            if self.score == "bd":
                s = bd_family(self.codes, self.levels, child, key[1], self.alpha)
            else:
                s = bic_family(self.codes, self.levels, child, key[1])
            self.cache[key] = s
        return s


def _reaches(parents: list[list[int]], src: int, dst: int, skip: tuple[int, int] | None) -> bool:
    """Is there a directed path ``src -> ... -> dst``, ignoring edge ``skip = (u, v)``?"""
    children: dict[int, list[int]] = {}
    for v, pa in enumerate(parents):
        for u in pa:
            if (u, v) != skip:
                children.setdefault(u, []).append(v)
    stack, seen = [src], {src}
    while stack:
        u = stack.pop()
        if u == dst:
            return True
        for w in children.get(u, ()):
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return False


def _moves(parents: list[list[int]], score: _Scorer, max_parents: int
           ) -> list[tuple[float, str, int, int]]:
    """Every add / remove / reverse move within the parent and CPT caps with its change of
    BIC, best first (ties keep enumeration order). The caller checks acyclicity."""
    d = len(parents)
    out: list[tuple[float, str, int, int]] = []
    for v in range(d):
        pa_v = parents[v]
        base_v = score(v, pa_v)
        for u in range(d):
            if u == v:
                continue
            if u in pa_v:
                drop = score(v, [p for p in pa_v if p != u]) - base_v
                out.append((drop, "remove", u, v))
                pa_u = parents[u]
                if len(pa_u) < max_parents and score.fits(u, pa_u + [v]):
                    out.append((drop + score(u, pa_u + [v]) - score(u, pa_u), "reverse", u, v))
            elif v not in parents[u] and len(pa_v) < max_parents and score.fits(v, pa_v + [u]):
                out.append((score(v, pa_v + [u]) - base_v, "add", u, v))
    out.sort(key=lambda m: -m[0])
    return out


def _apply(parents: list[list[int]], kind: str, u: int, v: int) -> list[list[int]]:
    new = [list(pa) for pa in parents]
    new[v] = [p for p in new[v] if p != u]
    if kind == "add":
        new[v] = sorted(new[v] + [u])
    elif kind == "reverse":
        new[u] = sorted(new[u] + [v])
    return new


def _acyclic_after(parents: list[list[int]], kind: str, u: int, v: int) -> bool:
    if kind == "add":
        return not _reaches(parents, v, u, skip=None)
    if kind == "reverse":
        return not _reaches(parents, u, v, skip=(u, v))
    return True


def _key(parents: list[list[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(pa) for pa in parents)


def _next_graph(parents: list[list[int]], score: _Scorer, max_parents: int, tabu: int,
                recent: deque) -> tuple[float, tuple[str, int, int], list[list[int]]] | None:
    """The best acyclic move to a graph not in ``recent`` (``tabu=0``: improving only)."""
    for gain, kind, u, v in _moves(parents, score, max_parents):
        if tabu == 0 and gain <= _IMPROVE_TOL:
            return None
        if _acyclic_after(parents, kind, u, v):
            new = _apply(parents, kind, u, v)
            if _key(new) not in recent:
                return gain, (kind, u, v), new
    return None


def hill_climb(codes: np.ndarray, levels: Sequence[int], *, max_parents: int,
               max_cpt_size: int, tabu: int, deadline: float, criterion: str = "bic",
               alpha: float = 0.0) -> list[list[int]]:
    """Best-improvement search over DAGs from the empty graph, then tabu search. The
    ``criterion`` is ``"bic"`` or ``"bd"`` (Dirichlet marginal likelihood, pseudo-count
    ``alpha`` per cell).

    Each step takes the best acyclic move whose result is not among the last ``tabu``
    graphs. Past a local optimum that move may lower the score; the search stops after
    ``tabu`` steps in a row that do not beat the best graph (``tabu=0``: plain hill
    climbing, stop at the first local optimum), or at ``deadline`` (``time.monotonic``).
    Returns the best graph as ``parents[i]``, the sorted parent list of variable ``i``.
    """
    d = codes.shape[0]
    parents: list[list[int]] = [[] for _ in range(d)]
    score = _Scorer(codes, levels, max_cpt_size, criterion, alpha)
    best_parents, best = parents, sum(score(v, []) for v in range(d))
    recent: deque = deque([_key(parents)], maxlen=max(tabu, 1))
    steps = stale = 0
    while True:
        if time.monotonic() > deadline:
            logger.warning("bayesnet: structure search stopped by the time limit after %d moves",
                           steps)
            break
        step = _next_graph(parents, score, max_parents, tabu, recent)
        if step is None:
            break
        gain, (kind, u, v), parents = step
        recent.append(_key(parents))
        steps += 1
        total = sum(score(i, pa) for i, pa in enumerate(parents))
        logger.debug("bayesnet: %s %d->%d (%+.3f, BIC %.3f)", kind, u, v, gain, total)
        if total > best + _IMPROVE_TOL:
            best_parents, best, stale = parents, total, 0
        else:
            stale += 1
            if stale >= max(tabu, 1):
                break
    logger.info("bayesnet: structure search took %d moves, %d family scores, BIC %.1f",
                steps, len(score.cache), best)
    return best_parents


def mutual_information(codes: np.ndarray, levels: Sequence[int], i: int, j: int) -> float:
    """Plug-in mutual information (nats) between variables ``i`` and ``j``."""
    joint = family_counts(codes, levels, j, [i]).astype(np.float64)
    n = joint.sum()
    pi, pj = joint.sum(axis=1), joint.sum(axis=0)
    nz = joint > 0
    ratio = joint[nz] * n / np.outer(pi, pj)[nz]
    return float(np.dot(joint[nz], np.log(ratio)) / n)


def chow_liu(codes: np.ndarray, levels: Sequence[int], *, max_cpt_size: int,
             deadline: float) -> list[list[int]]:
    """Maximum spanning tree on pairwise mutual information (Prim), rooted at column 0.

    An edge whose CPT (``K_i * K_j`` entries) exceeds ``max_cpt_size`` is left out, and so
    are pairs not scored by ``deadline`` (with a warning), so the result may be a forest;
    every further tree is rooted at its lowest-index column.
    """
    d = codes.shape[0]
    w = np.full((d, d), -np.inf)
    for i in range(d):
        if time.monotonic() > deadline:
            logger.warning("bayesnet: Chow-Liu stopped by the time limit; pairs with the "
                           "first column from %d on are left out", i)
            break
        for j in range(i + 1, d):
            if levels[i] * levels[j] <= max_cpt_size:
                w[i, j] = w[j, i] = mutual_information(codes, levels, i, j)
    parents: list[list[int]] = [[] for _ in range(d)]
    in_tree = np.zeros(d, dtype=bool)
    best = np.full(d, -np.inf)
    link = np.full(d, -1)
    for _ in range(d):
        cand = np.flatnonzero(~in_tree)
        if np.isfinite(best[cand]).any():
            v = int(cand[np.argmax(best[cand])])  # ties: lowest index
            parents[v] = [int(link[v])]
        else:
            v = int(cand[0])  # a new tree of the forest: its root
        in_tree[v] = True
        better = ~in_tree & (w[v] > best)
        best[better], link[better] = w[v][better], v
    return parents


def topological_order(parents: Sequence[Sequence[int]]) -> list[int]:
    """Kahn's algorithm, smallest index first among ready nodes; ValueError on a cycle."""
    d = len(parents)
    indeg = [len(pa) for pa in parents]
    children: list[list[int]] = [[] for _ in range(d)]
    for v, pa in enumerate(parents):
        for u in pa:
            children[u].append(v)
    ready = sorted(v for v in range(d) if indeg[v] == 0)
    order: list[int] = []
    while ready:
        u = ready.pop(0)
        order.append(u)
        for w in children[u]:
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
        ready.sort()
    if len(order) != d:
        raise ValueError("parents: the graph has a cycle; allowed: a DAG")
    return order
