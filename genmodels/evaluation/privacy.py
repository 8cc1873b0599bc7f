"""Privacy: does the synthetic table leak the rows it was trained on?

Small functions on tables (exact copies) and on feature matrices (distances, see
:mod:`genmodels.evaluation.features`), and :func:`privacy_metrics` which runs them.
Reading guide: a synthetic row should sit no closer to the training rows than a fresh
real row (the holdout) does; closer means memorisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from genmodels.evaluation._tables import Kind, row_hashes
from genmodels.evaluation.distances import knn_distances

QUERY_ROWS = 1000
"""Synthetic / holdout / training rows whose distances are computed (drawn with the seed);
the training rows they are compared with are all kept."""
REFERENCE_ROWS = 20_000
"""At most this many synthetic rows are the attacker's reference set in the MIA."""


def exact_match_rate(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind]) -> float:
    """Share of synthetic rows equal in every column to some real row (missing equals
    missing; numbers compared as float64; SDMetrics' NewRowSynthesis reports one minus
    this). Range [0, 1], lower is safer; a copy of the
    real table scores 1. Tables with few discrete columns match by chance — compare
    with the holdout's rate (``holdout`` as ``synth``)."""
    hr, hs = row_hashes(real, synth, kinds)
    return float(np.isin(hs, hr).mean())


def dcr(query: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Distance to closest record (Park et al., "Data Synthesis based on GANs", VLDB
    2018): for each query row ``(n, p)``, the distance to its nearest training row.
    ``(n,)``, range [0, inf); 0 is an exact copy. Compare synthetic->train with
    holdout->train: smaller than the holdout's is a privacy risk."""
    return knn_distances(query, train, 1)[:, 0]


def nndr(query: np.ndarray, train: np.ndarray, *, knn: np.ndarray | None = None) -> np.ndarray:
    """Nearest-neighbour distance ratio (Lowe 2004, used for synthetic data by Zhao et
    al., "CTAB-GAN", 2021): distance to the closest training row over the distance to
    the second closest. ``(n,)``, range [0, 1]; near 0 singles out one training row
    (risky), near 1 is equally close to several (safer); 0/0 (two identical twins) is 1.
    ``knn``: the two nearest distances if already computed, ``(n, 2)``."""
    d = knn_distances(query, train, 2) if knn is None else knn
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = d[:, 0] / d[:, 1]
    return np.where(d[:, 1] == 0, 1.0, ratio)


def mia_auc(members: np.ndarray, non_members: np.ndarray, synth: np.ndarray) -> float:
    """ROC AUC of a distance-based membership-inference attack (the "DCR attack" of
    Chen, Yu, Zhang & Fritz, "GAN-Leaks", CCS 2020, black-box version): a record is
    called a training member the closer it lies to the synthetic set. ``members`` are
    training rows, ``non_members`` holdout rows, all ``(·, p)`` features.
    Range [0, 1]: 0.5 = the attacker learns nothing (ideal), 1 = every member found."""
    from sklearn.metrics import roc_auc_score

    scores = -np.concatenate([dcr(members, synth), dcr(non_members, synth)])
    labels = np.concatenate([np.ones(len(members)), np.zeros(len(non_members))])
    return float(roc_auc_score(labels, scores))


def _stats(d: np.ndarray) -> dict[str, float]:
    return {"p5": float(np.quantile(d, 0.05)), "median": float(np.median(d)),
            "mean": float(d.mean())}


@dataclass
class Privacy:
    """Privacy figures (``None`` where the holdout was needed and not given)."""

    exact_copy_rate: float
    dcr_synth: dict[str, float]
    nndr_synth: float
    holdout_copy_rate: float | None = None
    dcr_holdout: dict[str, float] | None = None
    nndr_holdout: float | None = None
    mia_auc: float | None = None
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def dcr_ratio(self) -> float | None:
        """Median DCR synthetic->train over median DCR holdout->train: about 1 (or more)
        is ideal, well below 1 means synthetic rows hug the training rows."""
        if self.dcr_holdout is None:
            return None
        h = self.dcr_holdout["median"]
        return self.dcr_synth["median"] / h if h > 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {"exact_copy_rate": self.exact_copy_rate,
                "holdout_copy_rate": self.holdout_copy_rate,
                "dcr_synth": self.dcr_synth, "dcr_holdout": self.dcr_holdout,
                "dcr_ratio": self.dcr_ratio, "nndr_synth": self.nndr_synth,
                "nndr_holdout": self.nndr_holdout, "mia_auc": self.mia_auc,
                "rows": self.rows}


def privacy_metrics(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind],
                    feats: dict[str, np.ndarray], rng: np.random.Generator,
                    holdout: pd.DataFrame | None = None) -> Privacy:
    """Every privacy figure. ``feats``: features of all ``real``, ``synth`` (and
    ``holdout``) rows, keyed by those names; ``real`` is the training table."""
    from genmodels.evaluation.features import subsample

    train, fs = feats["real"], feats["synth"]
    qs = fs[subsample(len(fs), QUERY_ROWS, rng)]
    if len(train) < 2:
        out = Privacy(exact_match_rate(real, synth, kinds), _stats(np.zeros(len(qs))),
                      float("nan"))
        return out
    knn = knn_distances(qs, train, 2)
    out = Privacy(exact_match_rate(real, synth, kinds), _stats(knn[:, 0]),
                  float(np.median(nndr(qs, train, knn=knn))),
                  rows={"train": len(train), "synth_queries": len(qs)})
    if holdout is None:
        return out
    fh = feats["holdout"]
    qh = fh[subsample(len(fh), QUERY_ROWS, rng)]
    knn = knn_distances(qh, train, 2)
    out.holdout_copy_rate = exact_match_rate(real, holdout, kinds)
    out.dcr_holdout = _stats(knn[:, 0])
    out.nndr_holdout = float(np.median(nndr(qh, train, knn=knn)))
    m = min(len(train), len(fh), QUERY_ROWS)
    members = train[subsample(len(train), m, rng)]
    non_members = fh[subsample(len(fh), m, rng)]
    reference = fs[subsample(len(fs), REFERENCE_ROWS, rng)]
    out.mia_auc = mia_auc(members, non_members, reference)
    out.rows |= {"holdout_queries": len(qh), "mia_members": m, "mia_reference": len(reference)}
    return out
