"""Likelihood: how probable are unseen real rows under the fitted model?

Held-out negative log-likelihood per row (nats, in the data's own units: see
``Generator.log_prob``) and bits per dimension. A model whose ``log_prob`` is not
exact says so in its capabilities; its figure is labelled a bound (ELBO/IWAE: the NLL
is an upper bound) or an approximation, never passed off as the real thing.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

_BOUND_WORDS = ("bound", "elbo", "iwae")
METRIC_NAMES = {"exact": "nll", "bound": "nll_upper_bound", "approximate": "nll_approx"}


def nll_stats(log_prob: np.ndarray) -> tuple[float, float]:
    """``(mean NLL over the finite rows in nats, share of rows with a non-finite log_prob)``.
    NLL range (-inf, inf) for densities, [0, inf) for masses; lower is better."""
    lp = np.asarray(log_prob, dtype=np.float64)
    finite = np.isfinite(lp)
    nll = float(-lp[finite].mean()) if finite.any() else float("nan")
    return nll, float(1.0 - finite.mean()) if lp.size else float("nan")


def bits_per_dim(nll_nats: float, dims: int) -> float:
    """NLL per row (nats) -> bits per dimension, ``nll / (dims * ln 2)`` (Theis, van den
    Oord & Bethge 2016; for tables a dimension is a column). Lower is better."""
    if dims < 1:
        raise ValueError(f"dims: got {dims}; allowed: an integer >= 1")
    return nll_nats / (dims * math.log(2))


def bits_per_token(total_nll_nats: float, n_tokens: int) -> float:
    """Total NLL of a corpus (nats) -> bits per token (bits/char for character models).
    Lower is better; a uniform model over V symbols scores log2(V)."""
    if n_tokens < 1:
        raise ValueError(f"n_tokens: got {n_tokens}; allowed: an integer >= 1")
    return total_nll_nats / (n_tokens * math.log(2))


def likelihood_kind(capabilities: Any) -> str:
    """``exact``, ``bound`` (the note names a bound, ELBO or IWAE) or ``approximate``."""
    if getattr(capabilities, "exact_likelihood", False):
        return "exact"
    note = str(getattr(capabilities, "likelihood_note", "")).lower()
    return "bound" if any(w in note for w in _BOUND_WORDS) else "approximate"


@dataclass
class Likelihood:
    """Per-row NLL (nats) and bits/dim on the holdout and on the training rows."""

    kind: str
    metric: str
    note: str
    dims: int
    holdout_nll: float | None = None
    holdout_bits_per_dim: float | None = None
    train_nll: float | None = None
    train_bits_per_dim: float | None = None
    nonfinite_rate: float | None = None
    log_prob_rows_per_s: float | None = None
    reason: str | None = None
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Held-out minus training NLL: a large gap is overfitting."""
        if self.holdout_nll is None or self.train_nll is None:
            return None
        return self.holdout_nll - self.train_nll

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "metric": self.metric, "note": self.note,
                "dims": self.dims, "holdout_nll": self.holdout_nll,
                "holdout_bits_per_dim": self.holdout_bits_per_dim,
                "train_nll": self.train_nll, "train_bits_per_dim": self.train_bits_per_dim,
                "gap": self.gap, "nonfinite_rate": self.nonfinite_rate,
                "log_prob_rows_per_s": self.log_prob_rows_per_s, "reason": self.reason,
                "rows": self.rows}


def model_likelihood(model: Any, train: Any, holdout: Any | None) -> Likelihood:
    """NLL of ``model`` (a fitted ``gm.Generator``) on the training rows and the holdout
    (tables or arrays as the model was fitted on). A model without a likelihood in the
    data's units gets ``kind="unavailable"`` and the reason."""
    caps = model.capabilities
    kind = likelihood_kind(caps)
    note = caps.likelihood_note or ("exact log-likelihood" if kind == "exact" else "")
    out = Likelihood(kind, METRIC_NAMES[kind], note, _dims(train))
    parts = {"train": train} if holdout is None else {"holdout": holdout, "train": train}
    for name, data in parts.items():
        start = time.perf_counter()
        try:
            lp = np.asarray(model.log_prob(data), dtype=np.float64)
        except (ValueError, TypeError, KeyError, NotImplementedError) as e:
            log.info("likelihood: %s has no log_prob here: %s", model, e)
            return Likelihood("unavailable", "nll", note, out.dims, reason=str(e))
        seconds = time.perf_counter() - start
        nll, bad = nll_stats(lp)
        setattr(out, f"{name}_nll", nll)
        setattr(out, f"{name}_bits_per_dim", bits_per_dim(nll, out.dims))
        out.rows[name] = len(lp)
        if name == next(iter(parts)):
            out.nonfinite_rate = bad
            out.log_prob_rows_per_s = len(lp) / seconds if seconds > 0 else None
    return out


def _dims(data: Any) -> int:
    if isinstance(data, pd.DataFrame):
        return int(data.shape[1])
    return int(np.asarray(data).shape[1])
