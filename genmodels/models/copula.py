"""``copula``: a Gaussian copula with empirical marginals, for mixed tables.

Each field is mapped to a standard-normal latent through its marginal CDF (see
:mod:`genmodels.models._ecdf`: piecewise-linear empirical CDFs with atoms and
exponential tails for continuous fields, frequency intervals for discrete ones); the
latents are jointly ``N(0, R)``. A discrete level, or a tied value of a continuous
field (an atom: a zero of a zero-inflated amount, an age in whole years), is an
interval of the latent rather than a point.

Fitting. ``R`` is estimated by moment matching on the latent scores
(``correlation="moments"``, the default; :mod:`genmodels.models._copula_fit`): a
polychoric/polyserial-type estimate that is not attenuated by the intervals.
``correlation="draws"`` is the simpler textbook route: each interval latent is one
draw of the standard normal truncated to its interval and ``R`` is the correlation of
the draws; it attenuates every correlation that involves a discrete field (a latent
0.8 between two binary fields comes out near 0.4). With ``order="auto"`` the levels of
each discrete field are first put in the order of their first discriminant direction
against the other fields' scores, so that a nominal field's relation to the rest is as
monotone as the copula needs; ``order="codes"`` keeps the codes' order.

Sampling: ``z ~ N(0, R)``, then each marginal's inverse CDF. Conditional sampling:
:mod:`genmodels.models._copula_sample`. Likelihood: see ``likelihood_note``.
"""

from __future__ import annotations

import logging
import math
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from genmodels.models import _copula_sample
from genmodels.models._copula_fit import discriminant_order, moment_correlation
from genmodels.models._ecdf import EmpiricalCDF, LevelCDF
from genmodels.models._stats import (
    box_log_prob,
    gaussian_condition,
    mvn_logpdf,
    safe_cholesky,
    state_array,
    truncnorm_std,
)
from genmodels.models.base import Capabilities, Model, Param, Schema, nonneg_number, register

logger = logging.getLogger(__name__)

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_ORDER_PASSES = 2


def _nonneg_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


@register
class GaussianCopula(Model):
    """Gaussian copula over empirical marginals; conditional sampling on any fields."""

    name: ClassVar[str] = "copula"
    description: ClassVar[str] = "Gaussian copula with empirical marginals (mixed data)"
    capabilities: ClassVar[Capabilities] = Capabilities(
        exact_likelihood=False,
        conditional=True,
        inputs="mixed",
        # With several discrete fields their joint probability given the continuous ones
        # is a box probability of the latent normal, approximated by Mendell-Elston
        # (likelihood='box', default) or, cruder, by the copula density at each level's
        # interval midpoint times the level's probability (likelihood='midpoint').
        likelihood_note="approximate with 2+ discrete fields",
        # Its empirical marginals keep point masses exactly; the codec's spike fields
        # would only dilute correlations with their random filler.
        codec_options=(("max_spikes", 0),),
    )
    params: ClassVar[dict[str, Param]] = {
        "knots": Param(0, int, _nonneg_int, "an integer >= 0",
                       "knots of each continuous marginal CDF; 0 = auto (2 sqrt(n))"),
        "alpha": Param(0.5, float, nonneg_number, "a number >= 0",
                       "pseudo-count added to every level of a discrete field"),
        "shrinkage": Param(1e-3, float, lambda v: nonneg_number(v) and v <= 1,
                           "a number in [0, 1]", "weight of the identity in the correlation"),
        "correlation": Param("moments", str, lambda v: v in ("moments", "draws"),
                             "'moments' or 'draws'",
                             "how R is estimated from interval latents (see the module doc)"),
        "order": Param("auto", str, lambda v: v in ("auto", "codes"), "'auto' or 'codes'",
                       "order of discrete levels on the latent axis"),
        "likelihood": Param("box", str, lambda v: v in ("box", "midpoint"), "'box' or 'midpoint'",
                            "how discrete fields enter log_prob (see the capabilities note)"),
    }

    # ------------------------------------------------------------------ fit
    def _fit(self, x: np.ndarray, rng: np.random.Generator, *, budget: float | None,
             callbacks: tuple) -> None:
        n = x.shape[0]
        knots = self.config["knots"] or math.ceil(2.0 * math.sqrt(n))
        alpha = self.config["alpha"]
        self.marginals_: list[EmpiricalCDF | LevelCDF] = []
        for j, f in enumerate(self.schema_.fields):
            if f.kind == "continuous":
                self.marginals_.append(EmpiricalCDF.fit(x[:, j], knots))
            else:
                counts = np.bincount(x[:, j].astype(np.int64), minlength=f.levels)
                probs = (counts + alpha) / (n + f.levels * alpha)
                self.marginals_.append(LevelCDF(probs, np.arange(f.levels)))
        scores = np.column_stack([m.scores(x[:, j]) for j, m in enumerate(self.marginals_)])
        if self.config["order"] == "auto":
            self._order_levels(x, scores)
        if self.config["correlation"] == "moments":
            corr = moment_correlation(scores, [m.pieces() for m in self.marginals_])
        else:
            lo, hi = self._bounds(x)
            z = lo.copy()
            open_ = lo < hi
            z[open_] = truncnorm_std(lo[open_], hi[open_], rng)
            corr = np.corrcoef(z, rowvar=False) if x.shape[1] > 1 else np.ones((1, 1))
            corr = np.nan_to_num(corr, nan=0.0)
            np.fill_diagonal(corr, 1.0)
        lam = self.config["shrinkage"]
        self.corr_ = (1.0 - lam) * corr + lam * np.eye(corr.shape[0])
        self._prepare()

    def _bounds(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latent interval of every entry of ``x: (n, d)``: two ``(n, d)`` arrays."""
        lo, hi = np.empty_like(x), np.empty_like(x)
        for j in range(x.shape[1]):
            lo[:, j], hi[:, j] = self._bounds_col(j, x[:, j])
        return lo, hi

    def _bounds_col(self, j: int, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = self.marginals_[j]
        if isinstance(m, EmpiricalCDF):
            return m.latent_bounds(col)
        codes = col.astype(np.int64)
        return m.lo[codes], m.hi[codes]

    def _order_levels(self, x: np.ndarray, scores: np.ndarray) -> None:
        """Reorder the levels of each discrete field with 3+ levels by the first
        discriminant of the other fields' scores; update ``scores: (n, d)`` in place.
        Each pass uses the scores as they were at its start."""
        n, d = x.shape
        fields = [j for j in self.schema_.discrete_idx if self.marginals_[j].probs.size >= 3]
        if d < 2 or not fields:
            return
        codes = {j: x[:, j].astype(np.int64) for j in fields}
        onehot = {j: sparse.csr_matrix((np.ones(n), (codes[j], np.arange(n))),
                                       shape=(self.schema_.fields[j].levels, n)) for j in fields}
        for _ in range(_ORDER_PASSES):
            centred = scores - scores.mean(axis=0)
            gram = centred.T @ centred / n
            for j in fields:
                counts = np.asarray(onehot[j].sum(axis=1)).ravel()
                order = discriminant_order(onehot[j] @ centred, counts, gram, j)
                self.marginals_[j] = LevelCDF(self.marginals_[j].probs, order)
                scores[:, j] = self.marginals_[j].scores(codes[j])

    def _prepare(self) -> None:
        """Derived state, recomputed identically after fit and after load_state."""
        self.chol_ = safe_cholesky(self.corr_)

    # ------------------------------------------------------------------ sample
    def _sample(self, n: int, rng: np.random.Generator,
                condition: dict[int, float] | None) -> np.ndarray:
        if condition:
            z = _copula_sample.conditional_latents(self, n, rng, condition)
        else:
            z = rng.standard_normal((n, self.corr_.shape[0])) @ self.chol_.T
        out = np.empty_like(z)
        for j, m in enumerate(self.marginals_):
            out[:, j] = m.from_normal(z[:, j])
        for j, v in (condition or {}).items():
            out[:, j] = v
        return out

    # ------------------------------------------------------------------ density
    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        cont, disc = self.schema_.continuous_idx, self.schema_.discrete_idx
        z = np.zeros_like(x)
        out = np.zeros(x.shape[0])
        for j in cont:
            z[:, j] = self.marginals_[j].to_normal(x[:, j])
            out += self.marginals_[j].logpdf(x[:, j])
        if self.config["likelihood"] == "midpoint" or not disc:
            for j in disc:
                codes = x[:, j].astype(np.int64)
                z[:, j] = self.marginals_[j].mid[codes]
                with np.errstate(divide="ignore"):
                    out += np.log(self.marginals_[j].probs[codes])
            return out + _log_copula_density(z, self.chol_)
        if cont:  # continuous part: copula density of its own latents
            out += _log_copula_density(z[:, cont], safe_cholesky(self.corr_[np.ix_(cont, cont)]))
        lo, hi = self._bounds(x)
        mean, cov = gaussian_condition(np.zeros(x.shape[1]), self.corr_, cont, z[:, cont])
        return out + box_log_prob(mean, cov, lo[:, disc], hi[:, disc])

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        out: dict[str, np.ndarray] = {"corr": self.corr_}
        for j, m in enumerate(self.marginals_):
            out.update(m.to_state(f"field{j}"))
        return out

    def load_state(self, state: dict[str, np.ndarray], extra: dict[str, Any]) -> None:
        schema: Schema = self.schema_
        self.marginals_ = [
            EmpiricalCDF.from_state(state, f"field{j}") if f.kind == "continuous"
            else LevelCDF.from_state(state, f"field{j}", f.levels)
            for j, f in enumerate(schema.fields)]
        self.corr_ = state_array(state, "corr", (len(schema), len(schema)))
        self._prepare()


def _log_copula_density(z: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """``log c(u) = log N(z; 0, R) - sum_j log phi(z_j)`` per row of ``z: (n, d)``."""
    log_std = -0.5 * np.sum(z * z, axis=1) - z.shape[1] * _LOG_SQRT_2PI
    return mvn_logpdf(z, np.zeros(z.shape[1]), chol) - log_std
