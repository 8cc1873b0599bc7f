"""Finite mixtures for tables: ``gmm`` (mixed data) and ``categorical_mixture`` (latent class).

Component ``k`` has a full-covariance Gaussian over the continuous fields and
independent categorical distributions over the discrete fields (Dirichlet-smoothed by
``alpha``). Both models share one EM, vectorized in numpy and run in log space:
k-means++ seeding, ``n_init`` restarts, the number of components chosen by BIC on a
subsample of at most ``subsample`` rows, then refined by EM on all rows.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import sparse
from scipy.special import logsumexp

from genmodels.models._stats import gaussian_condition, mvn_logpdf, safe_cholesky
from genmodels.models.base import (
    Capabilities,
    Model,
    Param,
    Schema,
    positive_int,
    positive_number,
    register,
)

logger = logging.getLogger(__name__)

_LOG_2PI = float(np.log(2.0 * np.pi))
_EPS = 10.0 * np.finfo(np.float64).eps
_LLOYD_STEPS = 10


# ------------------------------------------------------------------ data layout
@dataclass(frozen=True)
class _Layout:
    """Which encoded columns are continuous / discrete, and the discrete one-hot offsets."""

    cont: tuple[int, ...]
    disc: tuple[int, ...]
    levels: tuple[int, ...]
    offsets: np.ndarray  # (len(disc) + 1,) start of each discrete field in the one-hot block

    @classmethod
    def from_schema(cls, schema: Schema) -> _Layout:
        disc = tuple(schema.discrete_idx)
        levels = tuple(schema.fields[j].levels for j in disc)
        offsets = np.concatenate([[0], np.cumsum(levels, dtype=np.int64)]).astype(np.int64)
        return cls(tuple(schema.continuous_idx), disc, levels, offsets)

    @property
    def n_onehot(self) -> int:
        return int(self.offsets[-1])

    def split(self, x: np.ndarray) -> tuple[np.ndarray, sparse.csr_matrix]:
        """``x: (n, d)`` -> continuous block ``(n, dc)`` and sparse one-hot ``(n, S)``."""
        n, dd = x.shape[0], len(self.disc)
        xc = np.ascontiguousarray(x[:, list(self.cont)])
        codes = x[:, list(self.disc)].astype(np.int64) + self.offsets[:-1]
        onehot = sparse.csr_matrix(
            (np.ones(n * dd), codes.ravel(), np.arange(n + 1) * dd),
            shape=(n, self.n_onehot))
        return xc, onehot


# ------------------------------------------------------------------ parameters
@dataclass
class _Params:
    """Mixture parameters; ``weights (K,)``, ``means (K, dc)``, ``covs (K, dc, dc)``,
    ``probs (K, S)`` (each discrete field's block sums to 1). Derived arrays are cached."""

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    probs: np.ndarray

    def __post_init__(self) -> None:
        try:
            chol = np.linalg.cholesky(self.covs)
        except np.linalg.LinAlgError:
            raise ValueError("reg_covar: a component covariance is not positive definite; "
                             "allowed: a larger reg_covar") from None
        # precision = P P^T with P = L^-T, so (x - mu) @ P is standard normal.
        self.prec_chol = np.linalg.inv(chol).transpose(0, 2, 1)
        self.log_det = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        with np.errstate(divide="ignore"):
            self.log_w = np.log(self.weights)
            self.log_probs = np.log(self.probs)

    @property
    def k(self) -> int:
        return self.weights.shape[0]


def _n_free(k: int, lay: _Layout) -> int:
    """Free parameters of a ``k``-component mixture, for BIC."""
    dc = len(lay.cont)
    return (k - 1) + k * (dc + dc * (dc + 1) // 2) + k * (lay.n_onehot - len(lay.disc))


def _joint_loglik(xc: np.ndarray, onehot: sparse.csr_matrix, p: _Params) -> np.ndarray:
    """``log w_k + log p(x_i | k)``: ``(n, K)``."""
    n, dc = xc.shape
    out = np.broadcast_to(p.log_w, (n, p.k)).copy()
    if dc:
        proj = (xc @ p.prec_chol.transpose(1, 0, 2).reshape(dc, p.k * dc)).reshape(n, p.k, dc)
        proj -= np.einsum("kd,kde->ke", p.means, p.prec_chol)
        out += -0.5 * (dc * _LOG_2PI + np.einsum("nke,nke->nk", proj, proj)) - p.log_det
    if onehot.shape[1]:
        out += onehot @ p.log_probs.T
    return out


def _m_step(xc: np.ndarray, onehot: sparse.csr_matrix, resp: np.ndarray, lay: _Layout,
            alpha: float, reg: np.ndarray) -> _Params:
    """Maximise the expected complete-data log-likelihood (+ Dirichlet prior)."""
    nk = resp.sum(axis=0) + _EPS
    k, dc = resp.shape[1], xc.shape[1]
    means = (resp.T @ xc) / nk[:, None]
    covs = np.empty((k, dc, dc))
    for j in range(k):
        diff = xc - means[j]
        covs[j] = (resp[:, j] * diff.T) @ diff / nk[j]
        covs[j].flat[:: dc + 1] += reg
    counts = np.asarray(onehot.T @ resp).T + alpha  # (K, S)
    if counts.shape[1]:
        totals = np.add.reduceat(counts, lay.offsets[:-1], axis=1)
        probs = counts / np.repeat(totals, lay.levels, axis=1)
    else:
        probs = counts
    return _Params(nk / nk.sum(), means, covs, probs)


@dataclass
class _Fit:
    params: _Params
    loglik: float  # total log-likelihood of the rows fitted
    objective: float  # mean (log-likelihood + log Dirichlet prior) per row
    n_iter: int
    converged: bool


def _em(xc: np.ndarray, onehot: sparse.csr_matrix, params: _Params, lay: _Layout, *,
        alpha: float, reg: np.ndarray, max_iter: int, tol: float,
        deadline: float | None) -> _Fit:
    """EM from ``params`` until the per-row objective improves by less than ``tol``."""
    n, prev, converged, it = xc.shape[0], -np.inf, False, 0
    for it in range(max_iter + 1):  # noqa: B007  (it is read after the loop)
        ll = _joint_loglik(xc, onehot, params)
        lse = logsumexp(ll, axis=1)
        loglik = float(lse.sum())
        objective = (loglik + alpha * float(params.log_probs.sum())) / n
        if objective - prev < tol:
            converged = True
            break
        if it == max_iter or (deadline is not None and time.monotonic() > deadline):
            break
        prev = objective
        params = _m_step(xc, onehot, np.exp(ll - lse[:, None]), lay, alpha, reg)
    return _Fit(params, loglik, objective, it, converged)


def _kmeans_labels(feats: sparse.csr_matrix, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding then a few Lloyd steps on sparse ``feats: (n, D)``: labels ``(n,)``."""
    n = feats.shape[0]
    sq = np.asarray(feats.multiply(feats).sum(axis=1)).ravel()

    def dist2(c: np.ndarray) -> np.ndarray:  # c: (m, D) dense -> (n, m)
        return np.maximum(sq[:, None] - 2 * (feats @ c.T) + np.einsum("md,md->m", c, c), 0.0)

    centers = [feats[rng.integers(n)].toarray()]
    d2 = dist2(centers[0])[:, 0]
    for _ in range(1, k):
        total = d2.sum()
        i = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
        centers.append(feats[i].toarray())
        d2 = np.minimum(d2, dist2(centers[-1])[:, 0])
    c, labels = np.vstack(centers), np.full(n, -1)
    for _ in range(_LLOYD_STEPS):
        new = np.argmin(dist2(c), axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        member = sparse.csr_matrix((np.ones(n), labels, np.arange(n + 1)), shape=(n, k))
        counts = np.bincount(labels, minlength=k)
        sums = (member.T @ feats).toarray()
        c[counts > 0] = sums[counts > 0] / counts[counts > 0, None]
    return labels


def _init_params(xc: np.ndarray, onehot: sparse.csr_matrix, k: int, lay: _Layout,
                 rng: np.random.Generator, alpha: float, reg: np.ndarray) -> _Params:
    """Hard k-means++ clusters on standardized continuous + scaled one-hot features
    (one mismatching category counts as a squared distance of 1)."""
    std = xc.std(axis=0)
    std[std == 0] = 1.0
    feats = sparse.hstack([sparse.csr_matrix(xc / std), onehot * np.sqrt(0.5)], format="csr")
    labels = _kmeans_labels(feats, k, rng)
    resp = np.zeros((xc.shape[0], k))
    resp[np.arange(xc.shape[0]), labels] = 1.0
    return _m_step(xc, onehot, resp, lay, alpha, reg)


# ------------------------------------------------------------------ models
def _nonneg_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


_COMMON_PARAMS: dict[str, Param] = {
    "n_components": Param(0, int, _nonneg_int, "0 (choose by `criterion`) or a positive integer",
                          "number of components; 0 = choose by `criterion` over 1..max_components"),
    "max_components": Param(10, int, positive_int, "a positive integer",
                            "largest number of components the search tries"),
    "criterion": Param("bic", str, lambda v: v in ("bic", "aic"), "'bic' or 'aic'",
                       "how n_components=0 chooses K: BIC (parsimonious), or AIC (more "
                       "components; often better held-out likelihood on small data)"),
    "alpha": Param(0.1, float, positive_number, "a positive number",
                   "Dirichlet smoothing added to every category count of every component"),
    "n_init": Param(1, int, positive_int, "a positive integer",
                    "k-means++ restarts per number of components; the best objective is kept"),
    "max_iter": Param(100, int, positive_int, "a positive integer", "EM iterations at most, per run"),
    "tol": Param(1e-3, float, positive_number, "a positive number",
                 "stop EM when the mean per-row objective improves by less than this"),
    "subsample": Param(5000, int, lambda v: positive_int(v) and v >= 2, "an integer >= 2",
                       "rows used to initialize and choose the number of components; "
                       "the chosen fit is then refined by EM on all rows"),
}


class MixtureModel(Model):
    """Shared EM mixture; subclasses only declare name, capabilities and params."""

    def _fit(self, x: np.ndarray, rng: np.random.Generator, *, budget: float | None,
             callbacks: tuple) -> None:
        cfg, lay, n = self.config, _Layout.from_schema(self.schema_), x.shape[0]
        if cfg["n_components"] > min(n, cfg["subsample"]):
            raise ValueError(f"n_components: got {cfg['n_components']}; allowed: at most the "
                             f"rows used to initialize, min(rows, subsample) = "
                             f"{min(n, cfg['subsample'])}")
        if budget is not None and not positive_number(budget):
            raise ValueError(f"budget: got {budget!r}; allowed: a positive number of seconds")
        deadline = None if budget is None else time.monotonic() + float(budget)
        var = x[:, list(lay.cont)].var(axis=0)
        reg = cfg.get("reg_covar", 0.0) * np.where(var > 0, var, 1.0)
        sub = x if n <= cfg["subsample"] else x[np.sort(rng.choice(n, cfg["subsample"], replace=False))]
        xs, hs = lay.split(sub)
        m = xs.shape[0]
        ks = [cfg["n_components"]] if cfg["n_components"] else range(1, min(cfg["max_components"], m) + 1)
        best, bic, aic = None, {}, {}
        for k in ks:
            fit = self._restarts(xs, hs, k, lay, rng, reg, deadline)
            bic[k] = -2.0 * fit.loglik + _n_free(k, lay) * np.log(m)
            aic[k] = -2.0 * fit.loglik + _n_free(k, lay) * 2.0
            logger.debug("%s: K=%d BIC=%.1f AIC=%.1f (%d EM iterations)",
                         self.name, k, bic[k], aic[k], fit.n_iter)
            score = bic if cfg["criterion"] == "bic" else aic
            if best is None or score[k] < score[best.params.k]:
                best = fit
            if deadline is not None and time.monotonic() > deadline:
                logger.warning("%s: budget reached; stopped the search at K=%d", self.name, k)
                break
        if m < n:
            xc, oh = lay.split(x)
            best = _em(xc, oh, best.params, lay, alpha=cfg["alpha"], reg=reg,
                       max_iter=cfg["max_iter"], tol=cfg["tol"], deadline=deadline)
        self.layout_, self.params_ = lay, best.params
        self.bic_ = {int(k): float(v) for k, v in bic.items()}
        self.aic_ = {int(k): float(v) for k, v in aic.items()}
        self.converged_, self.n_iter_ = bool(best.converged), int(best.n_iter)
        if not best.converged:
            logger.warning("%s: EM did not converge in %d iterations (tol=%g)",
                           self.name, best.n_iter, cfg["tol"])

    def _restarts(self, xc: np.ndarray, oh: sparse.csr_matrix, k: int, lay: _Layout,
                  rng: np.random.Generator, reg: np.ndarray, deadline: float | None) -> _Fit:
        cfg, best = self.config, None
        for _ in range(cfg["n_init"]):
            init = _init_params(xc, oh, k, lay, rng, cfg["alpha"], reg)
            fit = _em(xc, oh, init, lay, alpha=cfg["alpha"], reg=reg,
                      max_iter=cfg["max_iter"], tol=cfg["tol"], deadline=deadline)
            if best is None or fit.objective > best.objective:
                best = fit
        return best

    # -------------------------------------------------------------- inference
    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        xc, oh = self.layout_.split(x)
        return logsumexp(_joint_loglik(xc, oh, self.params_), axis=1)

    def responsibilities(self, x: np.ndarray) -> np.ndarray:
        """Posterior probability of each component given full rows: ``(n, K)``."""
        self._check_fitted()
        xc, oh = self.layout_.split(self._check_x(x, self.schema_))
        ll = _joint_loglik(xc, oh, self.params_)
        return np.exp(ll - logsumexp(ll, axis=1, keepdims=True))

    def _posterior(self, cond: dict[int, float]) -> np.ndarray:
        """Posterior over components given the evidence ``cond``: ``(K,)``."""
        p, lay = self.params_, self.layout_
        log_post = p.log_w.copy()
        for i, j in enumerate(lay.disc):
            if j in cond:
                log_post += p.log_probs[:, lay.offsets[i] + int(cond[j])]
        gc = [i for i, j in enumerate(lay.cont) if j in cond]
        if gc:
            vals = np.array([cond[lay.cont[i]] for i in gc])
            log_post += [mvn_logpdf(vals, p.means[k, gc], safe_cholesky(p.covs[k][np.ix_(gc, gc)]))[0]
                         for k in range(p.k)]
        total = logsumexp(log_post)
        if not np.isfinite(total):
            names = ", ".join(repr(self.schema_.fields[j].name) for j in sorted(cond))
            raise ValueError(f"condition: {names} has probability 0 under the fitted "
                             f"{self.name}; allowed: values the model can produce")
        post = np.exp(log_post - total)
        return post / post.sum()

    def _sample(self, n: int, rng: np.random.Generator,
                condition: dict[int, float] | None) -> np.ndarray:
        cond, p, lay = condition or {}, self.params_, self.layout_
        gc = [i for i, j in enumerate(lay.cont) if j in cond]
        fc = [j for j in lay.cont if j not in cond]
        fd = [i for i, j in enumerate(lay.disc) if j not in cond]
        vals = np.array([[cond[lay.cont[i]] for i in gc]])
        comps = rng.choice(p.k, size=n, p=self._posterior(cond))
        z = rng.standard_normal((n, len(fc)))
        u = rng.random((n, len(fd)))
        out = np.empty((n, len(self.schema_)))
        for j, v in cond.items():
            out[:, j] = v
        for k in range(p.k):
            rows = np.flatnonzero(comps == k)
            if rows.size == 0:
                continue
            if fc:
                mean_k, cov_k = gaussian_condition(p.means[k], p.covs[k], gc, vals)
                out[np.ix_(rows, fc)] = mean_k + z[rows] @ safe_cholesky(cov_k).T
            for col, i in enumerate(fd):
                cdf = np.cumsum(p.probs[k, lay.offsets[i]:lay.offsets[i + 1]])
                codes = np.searchsorted(cdf, u[rows, col], side="right")
                out[rows, lay.disc[i]] = np.minimum(codes, lay.levels[i] - 1)
        return out

    # -------------------------------------------------------------- persistence
    def state(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        p = self.params_
        return {"weights": p.weights.copy(), "means": p.means.copy(),
                "covariances": p.covs.copy(), "probs": p.probs.copy()}

    def extra(self) -> dict[str, Any]:
        self._check_fitted()
        return {"n_components": self.params_.k,
                "bic": {str(k): v for k, v in self.bic_.items()},
                "aic": {str(k): v for k, v in self.aic_.items()},
                "converged": self.converged_, "n_iter": self.n_iter_}

    def load_state(self, state: Any, extra: Any) -> None:
        lay = _Layout.from_schema(self.schema_)
        missing = sorted({"weights", "means", "covariances", "probs"} - set(state))
        if missing:
            raise ValueError(f"state: missing arrays {missing} for {self.name}")
        arrays = [np.array(state[key], dtype=np.float64)
                  for key in ("weights", "means", "covariances", "probs")]
        k, dc, s = arrays[0].shape[0], len(lay.cont), lay.n_onehot
        for got, want, key in zip(arrays, [(k,), (k, dc), (k, dc, dc), (k, s)],
                                  ("weights", "means", "covariances", "probs"), strict=True):
            if got.shape != want:
                raise ValueError(f"state: {key!r} has shape {got.shape}; the schema needs {want}")
        self.layout_, self.params_ = lay, _Params(*arrays)
        self.bic_ = {int(key): float(v) for key, v in dict(extra.get("bic", {})).items()}
        self.aic_ = {int(key): float(v) for key, v in dict(extra.get("aic", {})).items()}
        self.converged_ = bool(extra.get("converged", True))
        self.n_iter_ = int(extra.get("n_iter", 0))


@register
class GaussianMixture(MixtureModel):
    """Mixture of (full Gaussian over continuous fields) x (categoricals over discrete ones)."""

    name: ClassVar[str] = "gmm"
    description: ClassVar[str] = ("Finite mixture: full-covariance Gaussian x independent "
                                  "categoricals per component; EM, K by BIC")
    capabilities: ClassVar[Capabilities] = Capabilities(
        exact_likelihood=True, conditional=True, inputs="mixed")
    params: ClassVar[dict[str, Param]] = {
        **_COMMON_PARAMS,
        "reg_covar": Param(1e-6, float, positive_number, "a positive number",
                           "added to each covariance diagonal, times that field's variance"),
    }


@register
class CategoricalMixture(MixtureModel):
    """Latent class model: a mixture of independent categoricals over discrete fields."""

    name: ClassVar[str] = "categorical_mixture"
    description: ClassVar[str] = ("Latent class model: mixture of independent categoricals; "
                                  "EM, number of classes by AIC")
    capabilities: ClassVar[Capabilities] = Capabilities(
        exact_likelihood=True, conditional=True, inputs="discrete")
    # AIC by default: on binned tables of a few hundred rows BIC keeps one class (the
    # independent model) although 3-6 classes predict held-out rows better.
    params: ClassVar[dict[str, Param]] = {
        **_COMMON_PARAMS,
        "criterion": dataclasses.replace(_COMMON_PARAMS["criterion"], default="aic"),
    }
