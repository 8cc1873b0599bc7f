"""``bayesnet``: a discrete Bayesian network (DAG + conditional probability tables).

Structure by score-based hill-climbing with tabu steps (add / remove / reverse, at most
``max_parents`` parents; score: Bayesian-Dirichlet marginal likelihood or BIC) or by a
Chow–Liu tree; CPTs with a symmetric Dirichlet pseudo-count ``alpha`` per cell.
Sampling is ancestral; conditional sampling is exact by bucket elimination
(see :mod:`genmodels.models._bn_inference`); ``log_prob`` is the exact log-mass.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from genmodels.models import _bn_inference as inf
from genmodels.models import _bn_structure as st
from genmodels.models.base import (
    Capabilities,
    Model,
    Param,
    nonneg_number,
    positive_int,
    register,
)

logger = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 600.0
"""Seconds the structure search may take when ``fit`` gets no ``budget``."""


def _nonneg_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


@register
class BayesNet(Model):
    """Discrete Bayesian network on integer-coded columns (the codec bins numbers)."""

    name = "bayesnet"
    description = "Discrete Bayesian network: hill-climbing (BD/BIC) or Chow-Liu DAG, Dirichlet CPTs"
    capabilities = Capabilities(exact_likelihood=True, conditional=True, inputs="discrete")
    params = {
        "structure": Param("hill_climb", str, lambda v: v in ("hill_climb", "chow_liu"),
                           "'hill_climb' or 'chow_liu'",
                           "structure learning: BIC hill-climbing over DAGs, or a Chow-Liu tree"),
        "max_parents": Param(2, int, _nonneg_int, "an integer >= 0",
                             "most parents per variable (hill_climb)"),
        "score": Param("bd", str, lambda v: v in ("bd", "bic"), "'bd' or 'bic'",
                       "hill_climb score: 'bd' log marginal likelihood under the alpha prior "
                       "(needs alpha > 0), or 'bic'"),
        "tabu": Param(10, int, _nonneg_int, "an integer >= 0",
                      "hill_climb: non-improving steps a tabu search may take past a local "
                      "optimum, also the tabu list length (0: stop at the first optimum)"),
        "max_cpt_size": Param(1_000_000, int, positive_int, "an integer >= 1",
                              "largest CPT (child levels x parent configurations) a move may make"),
        # Defaults measured by held-out log-likelihood on UCI Adult (numbers in 20 or 50
        # bins, 300 to 39k training rows, alpha 0.05-1): 'bd' beats 'bic' in every case
        # (by 0.1-0.5 nats/row: BIC's log(n)/2 per CPT cell leaves out real edges between
        # many-level columns); with 'bd', alpha=0.25 is best or within 0.02 of it, and with
        # 'bic' and Chow-Liu within 0.04, where 0.5 (Jeffreys) loses up to 0.2.
        "alpha": Param(0.25, float, nonneg_number, "a number >= 0",
                       "Dirichlet pseudo-count added to every CPT cell (0: maximum likelihood)"),
    }

    def __init__(self, **hyperparams: Any) -> None:
        super().__init__(**hyperparams)
        if self.config["score"] == "bd" and self.config["alpha"] == 0:
            raise ValueError("bayesnet: hyperparameter 'alpha' got 0.0 with score='bd'; "
                             "allowed: alpha > 0, or score='bic'")

    # ------------------------------------------------------------------ fit
    def _fit(self, x: np.ndarray, rng: np.random.Generator, *, budget: float | None,
             callbacks: tuple) -> None:
        if budget is not None and not (isinstance(budget, int | float) and budget > 0):
            raise ValueError(f"budget: got {budget!r}; allowed: a positive number of seconds")
        start = time.monotonic()
        deadline = start + (DEFAULT_TIME_LIMIT if budget is None else float(budget))
        levels = self.schema_.levels
        codes = np.ascontiguousarray(x.T.astype(np.int64))
        if self.config["structure"] == "chow_liu":
            parents = st.chow_liu(codes, levels, max_cpt_size=self.config["max_cpt_size"],
                                  deadline=deadline)
        else:
            parents = st.hill_climb(codes, levels, max_parents=self.config["max_parents"],
                                    max_cpt_size=self.config["max_cpt_size"],
                                    tabu=self.config["tabu"], deadline=deadline,
                                    criterion=self.config["score"], alpha=self.config["alpha"])
        self.parents_ = [[int(p) for p in pa] for pa in parents]
        self.order_ = st.topological_order(self.parents_)
        self.cpts_ = [self._estimate_cpt(codes, levels, i) for i in range(len(levels))]
        self._derive()
        logger.info("bayesnet: fitted %d variables, %d edges in %.2f s", len(levels),
                    sum(map(len, self.parents_)), time.monotonic() - start)

    def _estimate_cpt(self, codes: np.ndarray, levels: list[int], i: int) -> np.ndarray:
        """Posterior-mean CPT ``(Q, K)``; a parent configuration without data (alpha=0)
        gets the uniform distribution."""
        counts = st.family_counts(codes, levels, i, self.parents_[i]).astype(np.float64)
        counts += self.config["alpha"]
        total = counts.sum(axis=1, keepdims=True)
        k = counts.shape[1]
        return np.divide(counts, total, out=np.full_like(counts, 1.0 / k), where=total > 0)

    def _derive(self) -> None:
        with np.errstate(divide="ignore"):
            self.log_cpts_ = [np.log(c) for c in self.cpts_]

    # -------------------------------------------------------------- sample
    def _sample(self, n: int, rng: np.random.Generator,
                condition: dict[int, float] | None) -> np.ndarray:
        levels = self.schema_.levels
        if condition:
            evidence = {int(j): int(v) for j, v in condition.items()}
            names = [f.name for f in self.schema_.fields]
            codes = inf.sample_given(n, rng, self.parents_, self.cpts_, levels, self.order_,
                                     evidence, names)
        else:
            codes = np.zeros((n, len(levels)), dtype=np.int64)
            for i in self.order_:
                codes[:, i] = inf.forward_draw(codes, i, self.parents_[i], self.cpts_[i],
                                               levels, rng)
        return codes.astype(np.float64)

    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        levels = self.schema_.levels
        codes = np.ascontiguousarray(x.T.astype(np.int64))
        out = np.zeros(x.shape[0])
        for i, pa in enumerate(self.parents_):
            rows = st.parent_index(codes, levels, pa)
            out += self.log_cpts_[i][rows, codes[i]]
        return out

    # ------------------------------------------------------------- state
    def state(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        return {f"cpt.{i}": np.ascontiguousarray(c) for i, c in enumerate(self.cpts_)}

    def extra(self) -> dict[str, Any]:
        self._check_fitted()
        return {"parents": [list(pa) for pa in self.parents_], "order": list(self.order_)}

    def load_state(self, state: Mapping[str, np.ndarray], extra: Mapping[str, Any]) -> None:
        if self.schema_ is None:
            raise ValueError("load_state: schema_ must be set before loading a bayesnet")
        levels = self.schema_.levels
        d = len(levels)
        parents = extra.get("parents")
        if not isinstance(parents, list) or len(parents) != d:
            raise ValueError(f"extra: 'parents' must list the parents of all {d} columns, "
                             f"got {parents!r}")
        self.parents_ = [[int(p) for p in pa] for pa in parents]
        if any(not 0 <= p < d or p == i for i, pa in enumerate(self.parents_) for p in pa):
            raise ValueError(f"extra: 'parents' holds an invalid column index: {parents!r}")
        self.order_ = st.topological_order(self.parents_)
        cpts = []
        for i in range(d):
            key = f"cpt.{i}"
            if key not in state:
                raise ValueError(f"state: missing array {key!r}")
            c = np.asarray(state[key], dtype=np.float64)
            q = int(np.prod([levels[p] for p in self.parents_[i]], dtype=np.int64))
            if c.shape != (q, levels[i]):
                raise ValueError(f"state: {key!r} has shape {c.shape}, expected {(q, levels[i])}")
            cpts.append(c.copy())
        self.cpts_ = cpts
        self._derive()
