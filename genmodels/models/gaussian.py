"""Multivariate normal models for continuous data: ``gaussian`` (maximum likelihood) and
``bayes_gaussian`` (Normal-Inverse-Wishart posterior predictive, a multivariate t).

Both condition exactly on any subset of fields: a Gaussian's conditional is Gaussian;
a multivariate t's conditional is a t with ``nu + p`` degrees of freedom whose scale is
the Schur complement times ``(nu + delta^2) / (nu + p)``, ``delta^2`` the Mahalanobis
distance of the given values.
"""

from __future__ import annotations

import logging
import math
from typing import Any, ClassVar

import numpy as np
from scipy.special import gammaln

from genmodels.models._stats import (
    gaussian_condition,
    mahalanobis_sq,
    mvn_logpdf,
    safe_cholesky,
    state_array,
)
from genmodels.models.base import (
    Capabilities,
    Model,
    Param,
    nonneg_number,
    positive_number,
    register,
)

logger = logging.getLogger(__name__)


def _condition_split(d: int, condition: dict[int, float] | None) -> tuple[list[int], np.ndarray, np.ndarray]:
    """``(given indices, their values (p,), free indices)`` of a condition."""
    given = sorted(condition or {})
    values = np.array([condition[j] for j in given], dtype=np.float64) if given else np.zeros(0)
    return given, values, np.setdiff1d(np.arange(d), given)


@register
class Gaussian(Model):
    """One multivariate normal: MLE mean and covariance (plus a ridge ``reg``)."""

    name: ClassVar[str] = "gaussian"
    description: ClassVar[str] = "multivariate normal, maximum likelihood (continuous data)"
    capabilities: ClassVar[Capabilities] = Capabilities(
        exact_likelihood=True, conditional=True, inputs="continuous")
    params: ClassVar[dict[str, Param]] = {
        "reg": Param(1e-6, float, nonneg_number, "a number >= 0",
                     "ridge added to the covariance diagonal"),
    }

    def _fit(self, x: np.ndarray, rng: np.random.Generator, *, budget: float | None,
             callbacks: tuple) -> None:
        self.mean_ = x.mean(axis=0)
        centred = x - self.mean_
        self.cov_ = centred.T @ centred / x.shape[0] + self.config["reg"] * np.eye(x.shape[1])
        self._prepare()

    def _prepare(self) -> None:
        self.chol_ = safe_cholesky(self.cov_)

    def _sample(self, n: int, rng: np.random.Generator,
                condition: dict[int, float] | None) -> np.ndarray:
        d = self.mean_.size
        given, values, free = _condition_split(d, condition)
        out = np.empty((n, d))
        out[:, given] = values
        if free.size:
            mean_c, cov_c = gaussian_condition(self.mean_, self.cov_, given, values)
            chol = self.chol_ if not given else safe_cholesky(cov_c)
            out[:, free] = mean_c + rng.standard_normal((n, free.size)) @ chol.T
        return out

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        return mvn_logpdf(x, self.mean_, self.chol_)

    def state(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        return {"mean": self.mean_, "cov": self.cov_}

    def load_state(self, state: dict[str, np.ndarray], extra: dict[str, Any]) -> None:
        d = len(self.schema_)
        self.mean_ = state_array(state, "mean", (d,))
        self.cov_ = state_array(state, "cov", (d, d))
        self._prepare()


@register
class BayesGaussian(Model):
    """Conjugate Normal-Inverse-Wishart model; predicts with the posterior predictive t.

    Prior: ``mu | Sigma ~ N(0, Sigma / kappa0)``, ``Sigma ~ IW(psi_scale * I, nu0)``.
    Posterior predictive: multivariate t with ``nu_n - d + 1`` degrees of freedom,
    location ``mu_n`` and scale ``Psi_n (kappa_n + 1) / (kappa_n (nu_n - d + 1))``.
    The prior suits standardized data (prior mean 0, prior covariance about ``psi_scale
    * I / (nu0 - d - 1)``, i.e. the identity with the defaults).
    """

    name: ClassVar[str] = "bayes_gaussian"
    description: ClassVar[str] = "Bayesian multivariate normal (NIW prior), Student-t predictive"
    capabilities: ClassVar[Capabilities] = Capabilities(
        exact_likelihood=True, conditional=True, inputs="continuous",
        likelihood_note="exact posterior-predictive (multivariate t) density")
    params: ClassVar[dict[str, Param]] = {
        "kappa0": Param(1.0, float, positive_number, "a number > 0",
                        "prior pseudo-observations for the mean"),
        "nu0": Param(None, float, positive_number, "a number > d - 1, or None for d + 2",
                     "prior degrees of freedom of the covariance"),
        "psi_scale": Param(1.0, float, positive_number, "a number > 0",
                           "prior scale matrix psi_scale * I"),
    }

    def _fit(self, x: np.ndarray, rng: np.random.Generator, *, budget: float | None,
             callbacks: tuple) -> None:
        n, d = x.shape
        kappa0, psi = self.config["kappa0"], self.config["psi_scale"]
        nu0 = self.config["nu0"] if self.config["nu0"] is not None else d + 2.0
        if nu0 <= d - 1:
            raise ValueError(f"{self.name}: hyperparameter 'nu0' got {nu0!r}; "
                             f"allowed: a number > d - 1 = {d - 1} for data with {d} columns")
        xbar = x.mean(axis=0)
        centred = x - xbar
        kappa_n, nu_n = kappa0 + n, nu0 + n
        self.loc_ = n * xbar / kappa_n  # prior mean 0
        psi_n = psi * np.eye(d) + centred.T @ centred + (kappa0 * n / kappa_n) * np.outer(xbar, xbar)
        self.df_ = np.array([nu_n - d + 1.0])
        self.scale_ = psi_n * (kappa_n + 1.0) / (kappa_n * self.df_[0])
        self._prepare()

    def _prepare(self) -> None:
        self.chol_ = safe_cholesky(self.scale_)

    def _sample(self, n: int, rng: np.random.Generator,
                condition: dict[int, float] | None) -> np.ndarray:
        d = self.loc_.size
        nu = float(self.df_[0])
        given, values, free = _condition_split(d, condition)
        out = np.empty((n, d))
        out[:, given] = values
        if not free.size:
            return out
        if given:
            loc, scale = gaussian_condition(self.loc_, self.scale_, given, values)
            chol_g = safe_cholesky(self.scale_[np.ix_(given, given)])
            delta2 = float(mahalanobis_sq(values, self.loc_[given], chol_g)[0])
            scale = scale * (nu + delta2) / (nu + len(given))
            nu, chol = nu + len(given), safe_cholesky(scale)
        else:
            loc, chol = self.loc_, self.chol_
        z = rng.standard_normal((n, free.size)) @ chol.T
        w = rng.chisquare(nu, size=n) / nu
        out[:, free] = loc + z / np.sqrt(w)[:, None]
        return out

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        d = self.loc_.size
        nu = float(self.df_[0])
        maha = mahalanobis_sq(x, self.loc_, self.chol_)
        logdet = 2.0 * np.log(np.diag(self.chol_)).sum()
        return (gammaln((nu + d) / 2) - gammaln(nu / 2) - 0.5 * d * math.log(nu * math.pi)
                - 0.5 * logdet - 0.5 * (nu + d) * np.log1p(maha / nu))

    def state(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        return {"loc": self.loc_, "scale": self.scale_, "df": self.df_}

    def load_state(self, state: dict[str, np.ndarray], extra: dict[str, Any]) -> None:
        d = len(self.schema_)
        self.loc_ = state_array(state, "loc", (d,))
        self.scale_ = state_array(state, "scale", (d, d))
        self.df_ = state_array(state, "df", (1,))
        self._prepare()
