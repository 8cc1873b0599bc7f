"""Generative vs discriminative classifiers: learning curves (Ng & Jordan 2001).

Ng & Jordan, "On Discriminative vs. Generative Classifiers: A comparison of logistic
regression and naive Bayes", NIPS 2001: the generative classifier approaches its
(higher) asymptotic error with fewer examples, so it often wins at small training sizes
and the discriminative one wins at large sizes. :func:`gvd_study` measures test error
against training-set size for both families on one table, over repeated splits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from genmodels.studies import _common as cm
from genmodels.studies import classifiers as clf
from genmodels.studies._gvd_result import PAIRS, GvdResult

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_CLASSIFIERS", "MODEL_DEFAULTS", "GvdResult", "collect", "gvd_study",
           "gvd_suite"]

DEFAULT_CLASSIFIERS = ("naive_bayes", "lda", "qda", "gmm", "logistic", "logistic_mle",
                       "linear_svm", "gboost")
"""Generative: naive Bayes, LDA, QDA, class-conditional GMM (genmodels ``gmm``);
discriminative: logistic regression, linear SVM, gradient boosting."""

MODEL_DEFAULTS: dict[str, dict[str, Any]] = {"gmm": {"reg_covar": 1e-2, "max_components": 3}}
"""Hyperparameters of registered models used as class densities, unless overridden. The
GMM's covariance floor keeps EM off collapsed components when a class has fewer rows
than dimensions (with 1e-6, BIC picks degenerate components on breast_cancer)."""

SKLEARN_PARAMS: dict[str, dict[str, Any]] = {"gboost": {"max_iter": 40, "learning_rate": 0.25}}
"""Settings of scikit-learn classifiers in this study: boosting with 40 rounds at rate 0.25
(not 100 at 0.1) — one tree per class and round, and on 10-class digits the default
alone took ~10 s a repeat, over the study's budget."""

SUITE_DATASETS = ("breast_cancer", "wine", "adult", "digits", "penguins")

DEFAULT_N_SIZES = 12
DEFAULT_MAX_TRAIN = 8_000
DEFAULT_REPEATS = 20
"""The design of Ng & Jordan's experiments, scaled to one core: training sizes on a log
grid from 2 rows a class (the generative advantage lives at tiny n) up to the whole pool
or ``DEFAULT_MAX_TRAIN`` rows (adult: ~2 minutes in all), and enough repeats that the
paired difference of two curves has a standard error well under a point of error."""
PAIR_TEST_ROWS = 8_000
MAX_PAIR_REPEATS = 160
"""The naive Bayes / logistic regression pair (cheap to fit) gets extra repeats on small
tables, ``ceil(PAIR_TEST_ROWS / n_test)`` up to ``MAX_PAIR_REPEATS``: the noise of an error
rate scales as ``1 / sqrt(n_test * repeats)``, and on wine (53 test rows) the generative
advantage is ~0.01, invisible at 20 repeats (Ng & Jordan averaged 1000 splits)."""


def _family(name: str) -> str:
    return clf.SKLEARN[name].family if name in clf.SKLEARN else "generative"


def check_classifiers(names: Any) -> list[str]:
    """Validated classifier names (a list or a comma-separated string)."""
    from genmodels.models import registry

    models = registry("table")
    allowed = [*clf.SKLEARN, *models]
    names = cm.check_names("classifiers", names, allowed)
    for n in names:
        if n in models and n not in clf.SKLEARN:
            clf.BayesRuleClassifier(n, **MODEL_DEFAULTS.get(n, {}))  # validates early
    return names


def _prepare(data: Any, target: str | None, name: str | None
             ) -> tuple[pd.DataFrame, np.ndarray, list, str, str]:
    frame, label = cm.load_table(data, name=name)
    target = cm.resolve_target(frame, target, label)
    frame = frame[frame[target].notna()].reset_index(drop=True)
    cm.class_labels(frame[target], "target")  # refuses a continuous target
    counts = frame[target].value_counts()
    rare = [v for v, c in counts.items() if c < 4]
    if rare:
        log.warning("gvd: dropped classes with fewer than 4 rows: %s", rare)
        frame = frame[~frame[target].isin(rare)].reset_index(drop=True)
    y = cm.class_labels(frame[target], "target")
    labels = sorted(pd.unique(frame[target]), key=str)
    features = clf.as_object(frame.drop(columns=[target]))
    if features.shape[1] == 0:
        raise ValueError(f"data: {label} has no columns besides the target {target!r}")
    return features, y, labels, target, label


def gvd_study(data: Any, target: str | None = None, *,
              classifiers: Sequence[str] | str = DEFAULT_CLASSIFIERS,
              sizes: Sequence[int] | None = None, n_sizes: int = DEFAULT_N_SIZES,
              max_train: int = DEFAULT_MAX_TRAIN, repeats: int = DEFAULT_REPEATS,
              pair_repeats: int | None = None, test_size: float = 0.3,
              max_test: int = 5000, seed: int = 0,
              model_params: Mapping[str, Mapping[str, Any]] | None = None,
              name: str | None = None,
              on_step: Callable[[str], None] | None = None) -> GvdResult:
    """Test error vs training-set size for generative and discriminative classifiers.

    ``data``: DataFrame, CSV/Parquet path or bundled dataset name (``target`` defaults to
    its target). Each repeat draws a stratified test split (``test_size``, at most
    ``max_test`` rows); each size draws a stratified training set from the rest (at least
    2 rows a class). Default sizes: ``n_sizes`` log-spaced from 2 rows a class to
    ``min(rows left, max_train)``; verdicts: :func:`._gvd_result.compare_curves`.
    ``classifiers``: names of :data:`classifiers.SKLEARN` or of any
    registered genmodels model, used as class densities through Bayes' rule (one codec
    fitted on all feature rows, never on labels). Failures are recorded, not raised.
    ``pair_repeats`` (default: ``ceil(PAIR_TEST_ROWS / n_test)`` within ``[repeats,
    MAX_PAIR_REPEATS]``) repeats for the naive Bayes / logistic regression pair; the others
    run ``repeats`` (their later repeats are NaN).
    ``name`` labels the dataset in the output (a bundled name also gives the target).
    """
    seed = cm.check_int("seed", seed, 0)
    repeats = cm.check_int("repeats", repeats, 1)
    n_sizes = cm.check_int("n_sizes", n_sizes, 1)
    max_train = cm.check_int("max_train", max_train, 2)
    max_test = cm.check_int("max_test", max_test, 1)
    test_size = cm.check_fraction("test_size", test_size)
    names = check_classifiers(classifiers)
    params = {n: {**MODEL_DEFAULTS.get(n, {}), **dict((model_params or {}).get(n, {}))}
              for n in names if n not in clf.SKLEARN}
    features, y, labels, target, label = _prepare(data, target, name)
    k = len(labels)
    n_test = min(max_test, max(k, int(round(test_size * len(y)))))
    pool = len(y) - n_test
    low, high = 2 * k, min(pool, max_train)
    if high < low:
        raise ValueError(f"data: {label} has too few rows ({len(y)}) for {k} classes")
    sizes = (cm.check_sizes(sizes, low, high) if sizes is not None
             else cm.log_sizes(low, high, n_sizes))
    pair = next((p for p in PAIRS if all(n in names for n in p)), ())
    if pair_repeats is None:
        pair_repeats = min(MAX_PAIR_REPEATS, max(repeats, -(-PAIR_TEST_ROWS // n_test)))
    pair_repeats = max(repeats, cm.check_int("pair_repeats", pair_repeats, 1)) if pair else repeats
    total = pair_repeats
    errors = np.full((len(names), len(sizes), total), np.nan)
    seconds = np.zeros(len(names))
    failures: list[dict[str, Any]] = []
    cache: dict[str, Any] = {}
    start = time.perf_counter()
    for r, rseed in enumerate(cm.child_seeds(seed, total)):
        rng = np.random.default_rng(rseed)
        test = cm.stratified_draw(y, n_test, rng, min_per_class=1)
        rest = np.setdiff1d(np.arange(len(y)), test)
        for s, size in enumerate(sizes):
            train = rest[cm.stratified_draw(y[rest], size, rng)]
            fseed = int(rng.integers(0, 2**31 - 1))
            if on_step is not None:
                on_step(f"{label}: repeat {r + 1}/{total}, n={size}")
            for c, name in enumerate(names):
                if r >= repeats and name not in pair:
                    continue
                t0 = time.perf_counter()
                try:
                    pred = _fit_predict(name, params.get(name), features, y, train, test,
                                        fseed, cache, k)
                    errors[c, s, r] = float(np.mean(pred != y[test]))
                except Exception as e:  # one classifier failing must not stop the study
                    log.info("gvd: %s failed at n=%d: %s", name, size, e)
                    failures.append({"classifier": name, "size": size, "repeat": r,
                                     "error": f"{type(e).__name__}: {e}"})
                seconds[c] += time.perf_counter() - t0
    labels_h = {n: _label(n, params) for n in names}
    return GvdResult(
        dataset=label, target=str(target), n_rows=len(y), n_features=features.shape[1],
        classes=[str(v) for v in labels], sizes=list(sizes), classifiers=names,
        families={n: _family(n) for n in names}, labels=labels_h, errors=errors,
        seconds=seconds, n_test=n_test, repeats=total, seed=seed, failures=failures,
        total_seconds=time.perf_counter() - start)


def _label(name: str, params: Mapping[str, Any]) -> str:
    if name not in clf.SKLEARN:
        return clf.model_label(name, params[name])
    extra = ", ".join(f"{k}={v}" for k, v in SKLEARN_PARAMS.get(name, {}).items())
    return f"{clf.SKLEARN[name].label}{f' ({extra})' if extra else ''}"


def _fit_predict(name: str, params: Mapping[str, Any] | None, features: pd.DataFrame,
                 y: np.ndarray, train: np.ndarray, test: np.ndarray, seed: int,
                 cache: dict[str, Any], k: int) -> np.ndarray:
    if name in clf.SKLEARN:
        return clf.fit_predict_sklearn(name, features.iloc[train], y[train],
                                       features.iloc[test], seed, SKLEARN_PARAMS.get(name))
    x, schema = clf.encode_features(name, features, seed=0, cache=cache)
    model = clf.BayesRuleClassifier(name, **(params or {}))
    model.fit(x[train], y[train], schema=schema, seed=seed, n_classes=k)
    return model.predict(x[test])


def gvd_suite(datasets: Sequence[str] = SUITE_DATASETS, *, seed: int = 0,
              on_step: Callable[[str], None] | None = None, **options: Any) -> cm.StudySet:
    """:func:`gvd_study` on several bundled datasets (their own targets), one section each."""
    return collect([gvd_study(name, seed=seed, on_step=on_step, **options)
                    for name in datasets])


def collect(results: Sequence[GvdResult]) -> cm.StudySet:
    """Several :class:`GvdResult` as one study with an overview table; the intro says on
    which datasets the naive Bayes / logistic regression pair shows the Ng & Jordan
    pattern (by the rule of :func:`~genmodels.studies._gvd_result.compare_curves`)."""
    return cm.StudySet(
        "gvd", "Generative vs discriminative classifiers", results,
        intro="Test error against training-set size, mean and ±1 std band over repeated "
              "splits. Ng & Jordan (2001) predict the generative family to win at small n "
              "and the discriminative family at large n; each dataset says whether it did. "
              + pattern_summary(results))


def pattern_summary(results: Sequence[GvdResult]) -> str:
    """One sentence: where the pair's verdict is ``crossover`` and where it is not."""
    held, not_held = [], []
    for r in results:
        v = r.verdicts().get("pair")
        if v is None:
            continue
        (held if v["pattern"] == "crossover" else not_held).append(
            r.dataset if v["pattern"] == "crossover" else f"{r.dataset} ({v['pattern']})")
    if not held and not not_held:
        return ""
    from genmodels.studies._gvd_result import RULE

    rule = f"Rule (naive Bayes vs logistic regression, every dataset alike): {RULE}."
    return (f"{rule} The pattern holds on {len(held)} of {len(held) + len(not_held)} "
            f"datasets: {', '.join(held) or 'none'}; not on: {', '.join(not_held) or 'none'}.")
