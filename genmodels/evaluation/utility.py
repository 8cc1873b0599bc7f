"""Utility: is the synthetic table as useful as the real one for predicting a target?

Train-on-synthetic, test-on-real (TSTR; Esteban, Hyland & Rätsch 2017) against
train-on-real, test-on-real (TRTR): the same learner is trained once on real rows and
once on synthetic rows, and both are scored on real rows neither saw — the holdout
when one is given, else a stratified quarter of the real rows. Two learners:
gradient-boosted trees (``hgb``, native categorical support) and a linear model
(``linear``: logistic or ridge regression on the features of
:mod:`genmodels.evaluation.features`). The ratio synth/real is the figure to read.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from genmodels.evaluation._tables import Kind, joint_codes, to_float
from genmodels.evaluation.c2st import THREADS, classifier, feature_matrix

MAX_CLASSES = 20
"""An integer target with at most this many distinct values is treated as classes."""
LEARNERS = ("hgb", "linear")


@dataclass(frozen=True)
class UtilityResult:
    """TSTR on one target with one learner: real (TRTR) and synthetic (TSTR) test scores."""

    target: str
    task: str
    metric: str
    real_score: float
    synth_score: float
    learner: str = "hgb"

    @property
    def ratio(self) -> float:
        """``synth_score / real_score`` (1.0 = as useful as the real data)."""
        return self.synth_score / self.real_score if self.real_score else float("nan")


@dataclass
class Predictions:
    """Test rows, their true labels and every learner's predictions on them:
    ``pred[(learner, "real" | "synth")]`` (class codes or values), ``(n_test,)``."""

    target: str
    task: str
    test: pd.DataFrame
    y_test: np.ndarray
    evaluated_on: str
    pred: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def target_task(s: pd.Series, kind: Kind) -> str:
    """``classification`` for a categorical or a few-valued integer target, else ``regression``."""
    if kind == "categorical":
        return "classification"
    v = to_float(s, kind)
    v = v[~np.isnan(v)]
    if kind == "numeric" and np.all(v == np.round(v)) and np.unique(v).size <= MAX_CLASSES:
        return "classification"
    return "regression"


def metric_name(task: str) -> str:
    return "macro_f1" if task == "classification" else "r2"


def task_score(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-F1 (classification, [0, 1]) or R^2 (regression, (-inf, 1]); higher is better."""
    from sklearn.metrics import f1_score, r2_score

    if len(y_true) == 0:
        return float("nan")
    if task == "classification":
        return float(f1_score(y_true, y_pred, average="macro"))
    return float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan")


def _split(real: pd.DataFrame, holdout: pd.DataFrame | None, y_strat: np.ndarray | None,
           seed: int, test_size: float) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    from sklearn.model_selection import train_test_split

    if holdout is not None:
        return real, holdout, "holdout"
    idx_train, idx_test = train_test_split(np.arange(len(real)), test_size=test_size,
                                           random_state=seed, stratify=y_strat)
    return real.iloc[idx_train], real.iloc[idx_test], "split"


def _targets(train: pd.DataFrame, test: pd.DataFrame, synth: pd.DataFrame, target: str,
             kind: Kind, task: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if task == "regression":
        return tuple(to_float(f[target], kind) for f in (train, test, synth))
    both = pd.concat([train[target], test[target]], ignore_index=True)
    codes_real, codes_synth, _ = joint_codes(both, synth[target], missing_code=False)
    return codes_real[:len(train)], codes_real[len(train):], codes_synth


def _linear(task: str, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression, Ridge

    if task == "classification":
        return LogisticRegression(max_iter=300, random_state=seed)
    return Ridge(alpha=1.0)


def _fit_predict_one(learner: str, task: str, x_fit: np.ndarray, y_fit: np.ndarray,
                     x_test: np.ndarray, is_cat: np.ndarray, seed: int) -> np.ndarray:
    if task == "classification" and np.unique(y_fit).size < 2:  # one class: predict it
        return np.full(len(x_test), y_fit[0] if len(y_fit) else -1)
    with threadpool_limits(limits=THREADS, user_api="openmp"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes of the linear model
        if learner == "hgb":
            model = classifier(is_cat, seed, regression=task == "regression")
        else:
            model = _linear(task, seed)
        return model.fit(x_fit, y_fit).predict(x_test)


def fit_predict(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind], target: str,
                *, seed: int = 0, max_rows: int = 20_000, holdout: pd.DataFrame | None = None,
                learners: tuple[str, ...] = LEARNERS, test_size: float = 0.25) -> Predictions:
    """Train every learner on real rows and on synthetic rows (at most ``max_rows`` of
    each, drawn with ``seed``) and predict the test rows (``holdout``, or a stratified
    ``test_size`` share of ``real``). Rows with a missing target are left out."""
    from genmodels.evaluation.features import FeatureSpace, subsample

    task = target_task(real[target], kinds[target])
    real, synth = real[real[target].notna()], synth[synth[target].notna()]
    holdout = None if holdout is None else holdout[holdout[target].notna()]
    rng = np.random.default_rng(seed)
    synth = synth.iloc[subsample(len(synth), max_rows, rng)]
    if holdout is None and len(real) < 8:  # too few rows to hold a quarter out
        empty = real.iloc[:0]
        return Predictions(str(target), task, empty, np.empty(0), "split",
                           rows={"train_real": 0, "train_synth": len(synth), "test": 0})
    strat = None
    if task == "classification" and holdout is None:
        codes, _, _ = joint_codes(real[target], real[target].iloc[:0], missing_code=False)
        strat = codes if len(codes) and np.bincount(codes).min() >= 2 else None
    train, test, where = _split(real, holdout, strat, seed, test_size)
    train = train.iloc[subsample(len(train), max_rows, rng)]
    y_train, y_test, y_synth = _targets(train, test, synth, target, kinds[target], task)
    out = Predictions(str(target), task, test, y_test, where,
                      rows={"train_real": len(train), "train_synth": len(synth),
                            "test": len(test)})
    features = {c: k for c, k in kinds.items() if c != target}
    if not features or len(train) < 2 or len(synth) < 2 or len(test) < 1:
        return out
    for learner in learners:
        if learner == "hgb":
            both = pd.concat([train, test], ignore_index=True)
            xr, xs, is_cat = feature_matrix(both, synth, features)
            x_train, x_test = xr[:len(train)], xr[len(train):]
        else:
            space = FeatureSpace.fit(train, features)
            x_train, x_test, xs = (space.transform(f) for f in (train, test, synth))
            is_cat = np.zeros(x_train.shape[1], dtype=bool)
        for source, (x_fit, y_fit) in (("real", (x_train, y_train)), ("synth", (xs, y_synth))):
            out.pred[(learner, source)] = _fit_predict_one(learner, task, x_fit, y_fit,
                                                           x_test, is_cat, seed)
    return out


@dataclass
class Utility:
    """TSTR vs TRTR per learner (``results``); ``real_score``/``synth_score``/``ratio``
    are those of the boosted trees."""

    target: str
    task: str
    metric: str
    evaluated_on: str
    results: dict[str, UtilityResult]
    rows: dict[str, int] = field(default_factory=dict)

    def _main(self) -> UtilityResult | None:
        return self.results.get("hgb") or next(iter(self.results.values()), None)

    @property
    def real_score(self) -> float:
        r = self._main()
        return r.real_score if r else float("nan")

    @property
    def synth_score(self) -> float:
        r = self._main()
        return r.synth_score if r else float("nan")

    @property
    def ratio(self) -> float:
        r = self._main()
        return r.ratio if r else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "task": self.task, "metric": self.metric,
                "evaluated_on": self.evaluated_on, "rows": self.rows,
                "learners": {k: {"real": r.real_score, "synth": r.synth_score,
                                 "ratio": r.ratio} for k, r in self.results.items()}}


def utility_from(pred: Predictions) -> Utility:
    """Score every learner's real- and synthetic-trained predictions."""
    metric = metric_name(pred.task)
    learners = sorted({lr for lr, _ in pred.pred}, key=lambda s: LEARNERS.index(s)
                      if s in LEARNERS else len(LEARNERS))
    results = {}
    for lr in learners:
        scores = [task_score(pred.task, pred.y_test, pred.pred[(lr, src)])
                  for src in ("real", "synth")]
        results[lr] = UtilityResult(pred.target, pred.task, metric, *scores, learner=lr)
    if not results:  # no features, or too few rows
        nan = float("nan")
        results["hgb"] = UtilityResult(pred.target, pred.task, metric, nan, nan)
    return Utility(pred.target, pred.task, metric, pred.evaluated_on, results, pred.rows)


def tstr(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind], target: str, *,
         seed: int = 0, max_rows: int = 20_000, test_size: float = 0.25,
         holdout: pd.DataFrame | None = None, learner: str = "hgb") -> UtilityResult:
    """TSTR vs TRTR with one learner (``"hgb"`` or ``"linear"``): macro-F1 or R^2 on
    the test rows (see :func:`fit_predict`). Higher is better; ratio 1 = as useful."""
    if learner not in LEARNERS:
        raise ValueError(f"learner: got {learner!r}; allowed: {', '.join(LEARNERS)}")
    pred = fit_predict(real, synth, kinds, target, seed=seed, max_rows=max_rows,
                       holdout=holdout, learners=(learner,), test_size=test_size)
    results = utility_from(pred).results
    return results.get(learner) or results["hgb"]
