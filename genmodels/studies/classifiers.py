"""Classifiers for the studies: scikit-learn's generative and discriminative ones on a
shared preprocessing, and :class:`BayesRuleClassifier`, which turns any registered
genmodels model with ``log_prob`` into a classifier through Bayes' rule.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as pdt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassifierSpec:
    """A scikit-learn classifier of the studies: its family, label and factory."""

    family: str  # "generative" or "discriminative"
    label: str
    make: Callable[[int], Any]
    raw: bool = False  # takes the feature frame itself (no shared preprocessing)


def _naive_bayes(seed: int) -> Any:
    return MixedNaiveBayes()


def _lda(seed: int) -> Any:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    return LinearDiscriminantAnalysis()


def _qda(seed: int) -> Any:
    from sklearn.covariance import OAS
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis

    # OAS shrinkage keeps every class covariance invertible even with 2 rows a class
    # (Ledoit-Wolf and reg_param still fail there on digits and adult)
    return QuadraticDiscriminantAnalysis(solver="eigen", covariance_estimator=OAS())


def _logistic(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000)


def _logistic_mle(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=np.inf, max_iter=2000)


def _linear_svm(seed: int) -> Any:
    from sklearn.svm import LinearSVC

    return LinearSVC(max_iter=5000, random_state=seed)


def _gboost(seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=100, random_state=seed)


def _naive_bayes_untied(seed: int) -> Any:
    return MixedNaiveBayes(tied=False, prior_weight=0.0)


SKLEARN: dict[str, ClassifierSpec] = {
    "naive_bayes": ClassifierSpec("generative", "naive Bayes (Gaussian numbers with a "
                                  "class-shared variance, smoothed by one pseudo-row; "
                                  "Laplace-smoothed categories)", _naive_bayes, raw=True),
    "naive_bayes_untied": ClassifierSpec("generative", "naive Bayes (per-class Gaussian "
                                         "variances, ML; Laplace-smoothed categories)",
                                         _naive_bayes_untied, raw=True),
    "lda": ClassifierSpec("generative", "LDA", _lda),
    "qda": ClassifierSpec("generative", "QDA (OAS-shrunk covariances)", _qda),
    "logistic": ClassifierSpec("discriminative", "logistic regression (L2, C=1)", _logistic),
    "logistic_mle": ClassifierSpec("discriminative", "logistic regression (no penalty)",
                                   _logistic_mle),
    "linear_svm": ClassifierSpec("discriminative", "linear SVM (C=1)", _linear_svm),
    "gboost": ClassifierSpec("discriminative", "gradient boosting (HistGB)", _gboost),
}
"""The scikit-learn classifiers by study name."""


def is_categorical(s: pd.Series) -> bool:
    """Strings, categories and booleans are one-hot encoded; numbers are scaled."""
    return not pdt.is_numeric_dtype(s) or pdt.is_bool_dtype(s)


def preprocessor(frame: pd.DataFrame) -> Any:
    """Numbers: median-imputed and standardized; the rest: most-frequent-imputed and
    one-hot (unseen levels ignored). Fitted on the training rows only."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cat = [c for c in frame.columns if is_categorical(frame[c])]
    numeric = [c for c in frame.columns if c not in cat]
    parts = []
    if numeric:
        parts.append(("num", make_pipeline(SimpleImputer(strategy="median",
                                                         keep_empty_features=True),
                                           StandardScaler()), numeric))
    if cat:
        parts.append(("cat", make_pipeline(
            SimpleImputer(strategy="most_frequent", keep_empty_features=True),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False)), cat))
    return ColumnTransformer(parts, sparse_threshold=0.0)


def as_object(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as plain objects, numbers as float64 with NaN for missing
    (what the imputers, encoders and :class:`MixedNaiveBayes` expect)."""
    out = frame.copy()
    for c in out.columns:
        if is_categorical(out[c]):
            out[c] = out[c].astype(object).where(out[c].notna(), np.nan)
        else:
            out[c] = out[c].to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def sklearn_pipeline(name: str, frame: pd.DataFrame, seed: int) -> Any:
    """The preprocessing and the classifier ``name`` in one scikit-learn pipeline.
    Gradient boosting takes categories natively (ordinal codes, at most
    ``MAX_NATIVE_LEVELS`` levels) and missing numbers as they are; the others take the
    one-hot / standardized features of :func:`preprocessor`."""
    from sklearn.pipeline import make_pipeline

    if name == "gboost":
        return _gboost_pipeline(frame, seed)
    return make_pipeline(preprocessor(frame), SKLEARN[name].make(seed))


MAX_NATIVE_LEVELS = 250


def _gboost_pipeline(frame: pd.DataFrame, seed: int) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    cat = [c for c in frame.columns if is_categorical(frame[c])]
    numeric = [c for c in frame.columns if c not in cat]
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                             encoded_missing_value=np.nan)
    parts = [("cat", encoder, cat)] if cat else []
    if numeric:
        parts.append(("num", "passthrough", numeric))
    native = np.array([frame[c].nunique() <= MAX_NATIVE_LEVELS for c in cat]
                      + [False] * len(numeric), dtype=bool)
    model = _gboost(seed).set_params(categorical_features=native if native.any() else None)
    return make_pipeline(ColumnTransformer(parts, sparse_threshold=0.0), model)


def fit_predict_sklearn(name: str, x_train: pd.DataFrame, y_train: np.ndarray,
                        x_test: pd.DataFrame, seed: int,
                        params: Mapping[str, Any] | None = None) -> np.ndarray:
    """Fit the pipeline of ``name`` and predict ``x_test``: ``(n_test,)`` class codes.
    ``params`` are set on the classifier (the pipeline's last step) before fitting."""
    from threadpoolctl import threadpool_limits

    from genmodels.studies._common import THREADS

    if np.unique(y_train).size < 2:  # one class seen: predict it
        return np.full(len(x_test), y_train[0])
    spec = SKLEARN[name]
    with warnings.catch_warnings(), threadpool_limits(limits=THREADS):
        warnings.simplefilter("ignore")  # collinearity / convergence chatter at tiny n
        model = spec.make(seed) if spec.raw else sklearn_pipeline(name, x_train, seed)
        if params:
            (model if spec.raw else model[-1]).set_params(**params)
        return model.fit(x_train, y_train).predict(x_test)


class MixedNaiveBayes:
    """Naive Bayes on a mixed table: a Gaussian per class for each numeric column,
    Laplace-smoothed frequencies (``alpha``) for each categorical column, missing values
    ignored (a missing factor contributes nothing). ``GaussianNB`` alone would model
    one-hot columns as Gaussians whose variance collapses within a class.

    ``tied=True`` (default) shares each numeric column's variance across classes (the
    pooled within-class variance): the log-odds are then linear in ``x``, so this naive
    Bayes and logistic regression are the generative/discriminative *pair* of Ng & Jordan
    (2001), fitting the same hypothesis class. ``prior_weight`` pseudo-rows pull that
    variance towards the column's overall variance (a conjugate prior: the Gaussian
    analogue of the Laplace smoothing of the categories; with 2 rows a class the ML
    variances are so noisy that one near-zero estimate decides every prediction).
    ``tied=False, prior_weight=0`` is scikit-learn's GaussianNB (per-class ML variances,
    floored at ``var_smoothing`` times the largest variance).
    """

    def __init__(self, alpha: float = 1.0, var_smoothing: float = 1e-9, tied: bool = True,
                 prior_weight: float = 1.0) -> None:
        self.alpha = alpha
        self.var_smoothing = var_smoothing
        self.tied = tied
        self.prior_weight = prior_weight

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> MixedNaiveBayes:
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        self.numeric_ = [c for c in frame.columns if not is_categorical(frame[c])]
        self.categorical_ = [c for c in frame.columns if c not in self.numeric_]
        xn = frame[self.numeric_].to_numpy(dtype=float) if self.numeric_ else np.zeros((len(y), 0))
        floor = self.var_smoothing * max(float(np.nanmax(np.nanvar(xn, axis=0), initial=0.0)), 1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns of a class
            self.mean_ = np.array([np.nanmean(xn[y == c], axis=0) for c in self.classes_])
            self.var_ = np.array([np.nanvar(xn[y == c], axis=0) for c in self.classes_]) + floor
        self.mean_ = np.nan_to_num(self.mean_)
        self.var_ = np.where(np.isfinite(self.var_), self.var_, 1.0)
        if self.tied or self.prior_weight > 0:
            self.var_ = self._smoothed_var(xn, y, floor)
        self.log_prior_ = np.log(np.array([np.mean(y == c) for c in self.classes_]))
        self.tables_ = []
        for col in self.categorical_:
            levels = pd.Index(pd.unique(frame[col].dropna()))
            codes = levels.get_indexer(frame[col])
            counts = np.array([np.bincount(codes[(y == c) & (codes >= 0)], minlength=len(levels))
                               for c in self.classes_], dtype=float) + self.alpha
            # one extra slot per class for a level never seen in training
            probs = np.column_stack([counts, np.full(len(self.classes_), self.alpha)])
            self.tables_.append((levels, np.log(probs / probs.sum(axis=1, keepdims=True))))
        return self

    def _smoothed_var(self, xn: np.ndarray, y: np.ndarray, floor: float) -> np.ndarray:
        """``(n_classes, d)`` variances: pooled over classes if ``tied``, each shrunk to
        the column's overall variance with ``prior_weight`` pseudo-rows."""
        total = np.nan_to_num(np.nanvar(xn, axis=0), nan=1.0) if xn.size else np.zeros(0)
        rows = np.array([np.sum(np.isfinite(xn[y == c]), axis=0) for c in self.classes_],
                        dtype=float)  # (k, d) observed values
        ml = self.var_ - floor  # (k, d) per-class ML variances (1.0 where undefined)
        ml = np.where(rows > 0, ml, 0.0)
        if self.tied:
            pooled = (ml * rows).sum(axis=0) / np.maximum(rows.sum(axis=0), 1.0)
            ml = np.tile(pooled, (len(self.classes_), 1))
            rows = np.tile(rows.sum(axis=0), (len(self.classes_), 1))
        w = float(self.prior_weight)
        var = (ml * rows + w * total) / np.maximum(rows + w, 1e-12)
        return np.where(rows + w > 0, var, 1.0) + floor

    def joint_log_prob(self, frame: pd.DataFrame) -> np.ndarray:
        """``log p(x, y)`` per class: ``(n, n_classes)``."""
        out = np.tile(self.log_prior_, (len(frame), 1))
        if self.numeric_:
            xn = frame[self.numeric_].to_numpy(dtype=float)[:, None, :]
            ll = -0.5 * (np.log(2 * np.pi * self.var_) + (xn - self.mean_) ** 2 / self.var_)
            out += np.nansum(ll, axis=2)
        for col, (levels, logp) in zip(self.categorical_, self.tables_, strict=True):
            codes = levels.get_indexer(frame[col])
            seen = frame[col].notna().to_numpy()
            codes = np.where(codes < 0, len(levels), codes)
            out[seen] += logp[:, codes[seen]].T
        return out

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classes_[np.argmax(self.joint_log_prob(frame), axis=1)]


class BayesRuleClassifier:
    """``argmax_y log p(x | y) + log p(y)``: one genmodels model per class.

    Works on encoded arrays ``x: (n, d)`` laid out as ``schema`` (use one codec for all
    classes, so every class density is in the same units and the codec's Jacobian, equal
    for all classes, cancels). ``log p(y)`` is the class frequency in the training rows.
    Where the model's ``log_prob`` is a bound or an approximation the rule uses it as is.
    """

    def __init__(self, model: str, **hyperparams: Any) -> None:
        from genmodels.models.base import get_model_class

        self.model = model
        self.model_class = get_model_class(model)
        self.model_class(**hyperparams)  # validates the hyperparameters now
        self.hyperparams = dict(hyperparams)
        self.models_: list[Any] | None = None
        self.log_prior_: np.ndarray | None = None

    def fit(self, x: np.ndarray, y: np.ndarray, *, schema: Any, seed: int,
            n_classes: int | None = None) -> BayesRuleClassifier:
        """Fit one model per class on its rows; ``y: (n,)`` codes ``0..n_classes-1``."""
        y = np.asarray(y, dtype=np.int64)
        k = int(n_classes if n_classes is not None else y.max() + 1)
        counts = np.bincount(y, minlength=k)
        self.models_ = []
        for c in range(k):
            if counts[c] == 0:
                self.models_.append(None)
                continue
            model = self.model_class(**self.hyperparams)
            self.models_.append(model.fit(x[y == c], seed=seed + c, schema=schema))
        with np.errstate(divide="ignore"):
            self.log_prior_ = np.log(counts / counts.sum())
        return self

    def joint_log_prob(self, x: np.ndarray) -> np.ndarray:
        """``log p(x, y)`` for every class: ``(n, n_classes)`` (-inf for unseen classes)."""
        if self.models_ is None:
            raise ValueError("BayesRuleClassifier: not fitted; call fit() first")
        out = np.full((x.shape[0], len(self.models_)), -np.inf)
        for c, model in enumerate(self.models_):
            if model is not None:
                out[:, c] = model.log_prob(x) + self.log_prior_[c]
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The most probable class of each row: ``(n,)`` codes. Rows where every class
        density is -inf or NaN get the most frequent class."""
        joint = np.nan_to_num(self.joint_log_prob(x), nan=-np.inf)
        pred = np.argmax(joint, axis=1)
        dead = ~np.isfinite(joint.max(axis=1))
        pred[dead] = int(np.argmax(self.log_prior_))
        return pred


def encode_features(model: str, features: pd.DataFrame, seed: int,
                    cache: dict[str, Any] | None = None) -> tuple[np.ndarray, Any]:
    """``features`` encoded for ``model`` with one tabular codec fitted on all rows
    (labels are never seen): ``(x (n, d), schema)``. Cached by the model's inputs kind."""
    from genmodels.codecs import TabularCodec
    from genmodels.models.base import get_model_class

    inputs = get_model_class(model).capabilities.inputs
    if cache is not None and inputs in cache:
        return cache[inputs]
    codec = TabularCodec(inputs=inputs).fit(features, seed=seed)
    out = (codec.encode(features), codec.schema)
    if cache is not None:
        cache[inputs] = out
    return out


def model_label(model: str, hyperparams: Mapping[str, Any]) -> str:
    """``"genmodels gmm (reg_covar=0.01) + Bayes' rule"``."""
    hp = ", ".join(f"{k}={v}" for k, v in hyperparams.items())
    return f"genmodels {model}{f' ({hp})' if hp else ''} + Bayes' rule"
