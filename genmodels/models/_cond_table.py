"""The distribution of a conditional model's condition fields ``p(c)``.

A conditional generator (CVAE, conditional GAN or flow) models ``p(x_rest | c)``; to
sample unconditionally and to give ``log p(x)`` it also needs ``p(c)`` over the
discrete condition fields. This is the empirical joint frequency of the combinations
seen in training, mixed with weight ``lam = 1 / (n + 1)`` with the product of
smoothed marginals, so an unseen combination has a small, non-zero mass:
``p(c) = (1 - lam) * count(c) / n + lam * prod_j q_j(c_j)``. Exact log-mass and exact
conditional draws given any subset of the condition fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

_ALPHA = 0.5  # pseudo-count per level of the marginals


class ConditionTable:
    """``p(c)`` over ``len(levels)`` discrete fields; codes are ``(n, k)`` integer arrays."""

    def __init__(self, levels: Sequence[int], combos: np.ndarray, counts: np.ndarray,
                 n: int) -> None:
        self.levels = [int(k) for k in levels]
        if np.prod([float(k) for k in self.levels]) >= 2.0**62:
            raise ValueError("condition_columns: too many level combinations to tabulate; "
                             "condition on fewer or smaller categorical columns")
        combos = np.asarray(combos, dtype=np.int64).reshape(-1, len(self.levels))
        order = np.argsort(self._key(combos), kind="stable")
        self.combos = combos[order]
        self.counts = np.asarray(counts, dtype=np.float64)[order]
        self.n = int(n)
        self.lam = 1.0 / (self.n + 1.0)
        marg = []
        for j, k in enumerate(self.levels):
            c = np.bincount(self.combos[:, j], weights=self.counts, minlength=k)
            marg.append((c + _ALPHA) / (self.n + _ALPHA * k))
        self.marginals = marg
        self._keys = self._key(self.combos)

    @classmethod
    def fit(cls, codes: np.ndarray, levels: Sequence[int]) -> ConditionTable:
        codes = np.asarray(codes, dtype=np.int64).reshape(len(codes), len(levels))
        combos, counts = np.unique(codes, axis=0, return_counts=True)
        return cls(levels, combos, counts, codes.shape[0])

    def _key(self, codes: np.ndarray) -> np.ndarray:
        key = np.zeros(codes.shape[0], dtype=np.int64)
        for j, k in enumerate(self.levels):
            key = key * k + codes[:, j]
        return key

    def log_prob(self, codes: np.ndarray) -> np.ndarray:
        """``log p(c)`` per row of ``codes: (n, k)``: ``(n,)``."""
        codes = np.asarray(codes, dtype=np.int64)
        pos = np.searchsorted(self._keys, self._key(codes))
        pos = np.minimum(pos, len(self._keys) - 1)
        hit = self._keys[pos] == self._key(codes)
        emp = np.where(hit, self.counts[pos] / self.n, 0.0)
        q = np.ones(codes.shape[0])
        for j, m in enumerate(self.marginals):
            q = q * m[codes[:, j]]
        return np.log((1.0 - self.lam) * emp + self.lam * q)

    def sample(self, n: int, rng: np.random.Generator,
               fixed: Mapping[int, int] | None = None) -> np.ndarray:
        """``n`` draws ``(n, k)`` of ``c`` given the fields in ``fixed`` {position: code}."""
        fixed = dict(fixed or {})
        match = np.ones(len(self.combos), dtype=bool)
        q_fixed = 1.0
        for j, v in fixed.items():
            match &= self.combos[:, j] == v
            q_fixed *= float(self.marginals[j][v])
        w_emp = (1.0 - self.lam) * self.counts[match].sum() / self.n
        w_q = self.lam * q_fixed
        from_emp = rng.random(n) < w_emp / (w_emp + w_q)
        out = np.empty((n, len(self.levels)), dtype=np.int64)
        n_emp = int(from_emp.sum())
        if n_emp:
            probs = self.counts[match] / self.counts[match].sum()
            out[from_emp] = self.combos[match][rng.choice(len(probs), size=n_emp, p=probs)]
        n_q = n - n_emp
        if n_q:
            rows = np.empty((n_q, len(self.levels)), dtype=np.int64)
            for j, m in enumerate(self.marginals):
                rows[:, j] = fixed[j] if j in fixed else rng.choice(len(m), size=n_q, p=m)
            out[~from_emp] = rows
        return out

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}combos": self.combos, f"{prefix}counts": self.counts}
