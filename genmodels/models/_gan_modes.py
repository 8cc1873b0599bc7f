"""Mode-specific normalization of continuous fields (CTGAN, Xu et al. 2019).

Each continuous field gets a variational Gaussian mixture (scikit-learn's
``BayesianGaussianMixture`` with a Dirichlet-process prior, components with weight
above ``weight_threshold`` kept). A value ``v`` becomes a mode ``k`` drawn from its
posterior over the kept components and a scalar ``alpha = (v - mu_k) / (4 sd_k)``
clipped to ``[-0.99, 0.99]``; the generator emits ``alpha`` through a tanh and the mode
through a softmax, so multimodal and skewed columns need no heavy tails from the net.
"""

from __future__ import annotations

import warnings

import numpy as np

MAX_FIT_ROWS = 20_000  # the mixture is fitted on a subsample of at most this many rows


class ModeNormalizer:
    """Per continuous field: kept component means ``mu`` and sds ``sd`` (one array each)."""

    def __init__(self, mu: list[np.ndarray], sd: list[np.ndarray],
                 weight: list[np.ndarray] | None = None) -> None:
        self.mu = [np.asarray(m, dtype=np.float64) for m in mu]
        self.sd = [np.asarray(s, dtype=np.float64) for s in sd]
        # mixture weights matter only when encoding training data; a loaded model
        # (which never encodes) uses equal weights
        self.weight = weight if weight is not None else [np.full(m.size, 1 / m.size)
                                                         for m in self.mu]

    @property
    def counts(self) -> list[int]:
        return [m.size for m in self.mu]

    @classmethod
    def fit(cls, cols: np.ndarray, max_modes: int, rng: np.random.Generator,
            weight_threshold: float = 0.005) -> ModeNormalizer:
        """Fit one mixture per column of ``cols: (n, c)``."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import BayesianGaussianMixture

        mus, sds, ws = [], [], []
        for j in range(cols.shape[1]):
            v = cols[:, j]
            if v.size > MAX_FIT_ROWS:
                v = v[rng.choice(v.size, MAX_FIT_ROWS, replace=False)]
            k = min(max_modes, np.unique(v).size)
            if k <= 1:
                mus.append(np.array([v.mean()]))
                sds.append(np.array([max(v.std(), 1e-3)]))
                ws.append(np.ones(1))
                continue
            bgm = BayesianGaussianMixture(
                n_components=k, covariance_type="diag",  # one dimension: same model as
                # "full", without "full"'s per-component Python loop (10x faster on adult)
                weight_concentration_prior_type="dirichlet_process",
                weight_concentration_prior=1e-3, max_iter=100, n_init=1,
                random_state=int(rng.integers(2**31 - 1)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                bgm.fit(v[:, None])
            keep = bgm.weights_ > weight_threshold
            if not keep.any():
                keep = bgm.weights_ == bgm.weights_.max()
            mus.append(bgm.means_[keep, 0].copy())
            sds.append(np.maximum(np.sqrt(bgm.covariances_[keep].reshape(-1)), 1e-3))
            ws.append(bgm.weights_[keep] / bgm.weights_[keep].sum())
        return cls(mus, sds, ws)

    def posterior(self, j: int, v: np.ndarray) -> np.ndarray:
        """Responsibilities of field ``j``'s kept components for ``v: (n,)``: ``(n, k)``."""
        z = (v[:, None] - self.mu[j]) / self.sd[j]
        logp = -0.5 * z**2 - np.log(self.sd[j]) + np.log(self.weight[j])
        logp -= logp.max(axis=1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(axis=1, keepdims=True)

    def encode(self, j: int, v: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``v: (n,)`` -> ``(alpha (n,), mode (n,) int)``; the mode is drawn from the posterior."""
        p = self.posterior(j, v)
        u = rng.random(v.size)[:, None]
        mode = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), p.shape[1] - 1)
        alpha = np.clip((v - self.mu[j][mode]) / (4 * self.sd[j][mode]), -0.99, 0.99)
        return alpha, mode

    def decode(self, j: int, alpha: np.ndarray, mode: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`encode`: ``(n,)`` values."""
        alpha = np.clip(alpha, -1.0, 1.0)
        return alpha * 4 * self.sd[j][mode] + self.mu[j][mode]

    def state(self) -> dict[str, np.ndarray]:
        if not self.mu:
            return {}
        return {"modes.mu": np.concatenate(self.mu), "modes.sd": np.concatenate(self.sd)}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray], counts: list[int]) -> ModeNormalizer:
        if not counts:
            return cls([], [])
        cuts = np.cumsum(counts)[:-1]
        mu = np.asarray(state["modes.mu"], dtype=np.float64)
        sd = np.asarray(state["modes.sd"], dtype=np.float64)
        if mu.size != sum(counts) or sd.size != sum(counts):
            raise ValueError(f"state: modes.mu/modes.sd hold {mu.size}/{sd.size} values, "
                             f"expected {sum(counts)}")
        return cls(np.split(mu, cuts), np.split(sd, cuts))
