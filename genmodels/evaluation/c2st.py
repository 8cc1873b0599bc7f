"""Detection: can a classifier tell real rows from synthetic rows? (C2ST)

Lopez-Paz & Oquab, "Revisiting Classifier Two-Sample Tests", ICLR 2017. The
classifier is scikit-learn's HistGradientBoostingClassifier with native categorical
support; the figure is its cross-validated ROC AUC.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from genmodels.evaluation._tables import Kind, joint_codes, row_hashes, to_float

log = logging.getLogger(__name__)

THREADS = 1
"""OpenMP threads for the boosted trees: as fast as 2 on a 2-core machine for 40k rows,
and several times faster when the cores are shared (no spinning barrier waits)."""
MAX_TWINS = 4
"""Identical rows up to this many stay in one C2ST fold (see ``grouped_folds``)."""
MAX_CATEGORIES = 250
"""HistGradientBoosting bins a categorical feature into at most 255 codes."""


@dataclass(frozen=True)
class C2STResult:
    """Mean and standard deviation of the per-fold ROC AUC, folds and rows per side."""

    auc: float
    auc_std: float
    folds: int
    rows_per_side: int


def feature_matrix(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both tables as float features with shared categorical codes:
    ``(x_real (n, d), x_synth (m, d), is_categorical (d,) bool)``; missing is ``NaN``."""
    xr, xs, is_cat = [], [], []
    for col, kind in kinds.items():
        if kind == "categorical":
            cr, cs, _ = joint_codes(real[col], synth[col], MAX_CATEGORIES, missing_code=False)
            xr.append(np.where(cr < 0, np.nan, cr))
            xs.append(np.where(cs < 0, np.nan, cs))
        else:
            xr.append(to_float(real[col], kind))
            xs.append(to_float(synth[col], kind))
        is_cat.append(kind == "categorical")
    return np.column_stack(xr), np.column_stack(xs), np.array(is_cat, dtype=bool)


def classifier(is_categorical: np.ndarray, seed: int, regression: bool = False):
    """The gradient-boosted trees used by every table metric that needs a model."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    cat = is_categorical if is_categorical.any() else None
    return cls(categorical_features=cat, max_iter=100, random_state=seed)


def grouped_folds(hashes: np.ndarray, k: int, rng: np.random.Generator,
                  max_group: int = MAX_TWINS) -> np.ndarray:
    """A fold ``0..k-1`` per row. Rows whose exact values occur at most ``max_group``
    times (in both samples together) share a fold, so a classifier never meets the
    twin of a rare test row in training: memorised copies would otherwise push the AUC
    far below 0.5. Common values (discrete cells) are split freely, keeping the power
    to compare their frequencies."""
    uniq, group, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    common = counts[group] > max_group
    group = np.where(common, len(uniq) + np.arange(len(hashes)), group)
    _, group = np.unique(group, return_inverse=True)
    fold_of_group = rng.permutation(group.max() + 1) % k
    return fold_of_group[group]


def c2st_auc(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind], *,
             seed: int = 0, max_rows: int = 20_000, folds: int = 5) -> C2STResult:
    """Classifier two-sample test (Lopez-Paz & Oquab 2017): cross-validated ROC AUC of
    boosted trees telling real from synthetic rows on a balanced sample
    of ``min(len(real), len(synth), max_rows)`` rows per side, drawn with ``seed``.
    Identical rows stay in one fold (see ``grouped_folds``).

    Range [0, 1]: 0.5 = indistinguishable (ideal), 1.0 = trivially separable; a little
    below 0.5 is chance.
    """
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    m = min(len(real), len(synth), max_rows)
    r = real.iloc[np.sort(rng.choice(len(real), m, replace=False))]
    s = synth.iloc[np.sort(rng.choice(len(synth), m, replace=False))]
    xr, xs, is_cat = feature_matrix(r, s, kinds)
    x = np.concatenate([xr, xs])
    y = np.concatenate([np.zeros(m, dtype=np.int64), np.ones(m, dtype=np.int64)])
    k = min(folds, m)
    fold = grouped_folds(np.concatenate(row_hashes(r, s, kinds)), k, rng) if k >= 2 else y
    aucs = []
    for i in range(k):
        test = fold == i
        if len(np.unique(y[test])) < 2 or len(np.unique(y[~test])) < 2:
            continue  # a fold needs both classes on both sides
        with threadpool_limits(limits=THREADS, user_api="openmp"):
            model = classifier(is_cat, seed).fit(x[~test], y[~test])
            aucs.append(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1]))
    if not aucs:
        log.warning("c2st: %d row(s) per side is too few for cross-validation", m)
        return C2STResult(float("nan"), float("nan"), 0, m)
    return C2STResult(float(np.mean(aucs)), float(np.std(aucs)), len(aucs), m)
