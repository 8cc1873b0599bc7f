"""Utility: is the synthetic table as useful as the real one for predicting a target?

Train-on-synthetic, test-on-real (TSTR; Esteban, Hyland & Rätsch 2017): the same
gradient-boosted trees are trained once on real rows and once on synthetic rows and
both are scored on held-out real rows. The ratio synth/real is the figure to read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from genmodels.evaluation._tables import Kind, joint_codes, to_float
from genmodels.evaluation.c2st import THREADS, classifier, feature_matrix

MAX_CLASSES = 20
"""An integer target with at most this many distinct values is treated as classes."""


@dataclass(frozen=True)
class UtilityResult:
    """TSTR on one target: task, metric, real (TRTR) and synthetic (TSTR) test scores."""

    target: str
    task: str
    metric: str
    real_score: float
    synth_score: float

    @property
    def ratio(self) -> float:
        """``synth_score / real_score`` (1.0 = as useful as the real data)."""
        return self.synth_score / self.real_score if self.real_score else float("nan")


def target_task(s: pd.Series, kind: Kind) -> str:
    """``classification`` for a categorical or a few-valued integer target, else ``regression``."""
    if kind == "categorical":
        return "classification"
    v = to_float(s, kind)
    v = v[~np.isnan(v)]
    if kind == "numeric" and np.all(v == np.round(v)) and np.unique(v).size <= MAX_CLASSES:
        return "classification"
    return "regression"


def _score(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from sklearn.metrics import f1_score, r2_score

    if task == "classification":
        return float(f1_score(y_true, y_pred, average="macro"))
    return float(r2_score(y_true, y_pred))


def tstr(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind], target: str, *,
         seed: int = 0, max_rows: int = 20_000, test_size: float = 0.25) -> UtilityResult:
    """Macro-F1 (classification) or R^2 (regression) on a held-out quarter of the real
    rows, of a model trained on the other real rows vs one trained on synthetic rows
    (at most ``max_rows`` of each). Range: F1 [0, 1], R^2 (-inf, 1]; higher is better."""
    from sklearn.model_selection import train_test_split

    task = target_task(real[target], kinds[target])
    real = real[real[target].notna()]
    synth = synth[synth[target].notna()]
    rng = np.random.default_rng(seed)
    if len(synth) > max_rows:
        synth = synth.iloc[np.sort(rng.choice(len(synth), max_rows, replace=False))]
    features = {c: k for c, k in kinds.items() if c != target}
    if task == "classification":
        yr, ys, _ = joint_codes(real[target], synth[target], missing_code=False)
    else:
        yr, ys = to_float(real[target], kinds[target]), to_float(synth[target], kinds[target])
    if not features or len(real) < 8 or len(synth) < 2:
        return UtilityResult(str(target), task, _metric(task), float("nan"), float("nan"))
    xr, xs, is_cat = feature_matrix(real, synth, features)
    strat = yr if task == "classification" and np.bincount(yr).min() >= 2 else None
    idx_train, idx_test = train_test_split(
        np.arange(len(real)), test_size=test_size, random_state=seed, stratify=strat)
    idx_train = idx_train[: max_rows]
    regression = task == "regression"
    scores = []
    for x_fit, y_fit in ((xr[idx_train], yr[idx_train]), (xs, ys)):
        if not regression and np.unique(y_fit).size < 2:  # one class: predict it everywhere
            scores.append(_score(task, yr[idx_test], np.full(len(idx_test), y_fit[0])))
            continue
        with threadpool_limits(limits=THREADS, user_api="openmp"):
            model = classifier(is_cat, seed, regression=regression).fit(x_fit, y_fit)
            scores.append(_score(task, yr[idx_test], model.predict(xr[idx_test])))
    return UtilityResult(str(target), task, _metric(task), scores[0], scores[1])


def _metric(task: str) -> str:
    return "macro_f1" if task == "classification" else "r2"
