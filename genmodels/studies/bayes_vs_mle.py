"""MLE vs Bayesian density models: held-out log-likelihood against training-set size.

Pairs: ``gaussian`` (maximum likelihood) vs ``bayes_gaussian`` (Normal-Inverse-Wishart
posterior predictive), and genmodels ``gmm`` with a fixed number of components (EM,
maximum likelihood) vs scikit-learn's ``BayesianGaussianMixture`` (variational
Dirichlet-process mixture with the same number of components; its density uses the
posterior-mean parameters, a plug-in rather than the full predictive). At small n the
prior keeps covariances sane; at large n the data swamp it and the two meet.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from genmodels.studies import _common as cm
from genmodels.studies._mle_result import PAIRS, MleBayesResult

log = logging.getLogger(__name__)

__all__ = ["MODELS", "PAIRS", "MleBayesResult", "collect", "mle_vs_bayes_study",
           "mle_vs_bayes_suite"]

MODELS = ("gaussian", "bayes_gaussian", "gmm", "bayesian_gmm")
MIN_DISTINCT = 10
"""A numeric column with fewer distinct values is treated as discrete and left out."""
SUITE_DATASETS = ("wine", "breast_cancer", "penguins")


def _matrix(data: Any, columns: Sequence[str] | None, target: str | None,
            name: str | None = None) -> tuple[np.ndarray, list[str], str]:
    """The continuous columns of ``data`` as ``(n, d)`` float64 (rows with a missing value
    dropped), their names and the data label."""
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ValueError(f"data: got an array of shape {data.shape}; allowed: 2-D (n, d)")
        data = pd.DataFrame(data, columns=[f"x{i}" for i in range(data.shape[1])])
        label = name or "array"
    else:
        data, label = cm.load_table(data, name=name)
    if columns is None:
        if target is None and label in _dataset_names():
            from genmodels import datasets

            target = datasets.info(label)["target"]
        columns = [c for c in data.columns if c != target and _continuous(data[c])]
        if not columns:
            raise ValueError(f"data: {label} has no continuous numeric column (numbers with "
                             f"at least {MIN_DISTINCT} distinct values)")
    else:
        columns = list(columns)
        for c in columns:
            if c not in data.columns:
                raise ValueError(f"columns: got {c!r}; allowed: {', '.join(map(str, data.columns))}")
            if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]):
                raise ValueError(f"columns: {c!r} is not numeric; allowed: numeric columns")
    x = data[columns].to_numpy(dtype=np.float64, na_value=np.nan)
    x = x[np.isfinite(x).all(axis=1)]
    return x, [str(c) for c in columns], label


def _dataset_names() -> list[str]:
    from genmodels import datasets

    return datasets.names()


def _continuous(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
            and s.nunique(dropna=True) >= MIN_DISTINCT)


def mle_vs_bayes_study(data: Any, *, columns: Sequence[str] | None = None,
                       target: str | None = None, sizes: Sequence[int] | None = None,
                       n_sizes: int = 8, max_train: int = 2000, repeats: int = 5,
                       test_size: float = 0.3, max_test: int = 5000, components: int = 3,
                       seed: int = 0, name: str | None = None,
                       on_step: Callable[[str], None] | None = None) -> MleBayesResult:
    """Mean held-out log-likelihood per row (nats, in the data's units) vs training size
    for each model of :data:`MODELS`, over ``repeats`` random train/test splits.

    ``data``: an ``(n, d)`` array, a DataFrame, a CSV/Parquet path or a bundled dataset
    name; its continuous numeric columns are used (or ``columns``; ``target`` or the
    bundled dataset's target is left out); rows with a missing value are dropped. Each
    training set is standardized with its own mean and std (the priors assume unit
    scale); the figures are turned back into the data's units. ``name`` labels the
    dataset in the output (a bundled name also says which target to leave out).
    """
    seed = cm.check_int("seed", seed, 0)
    repeats = cm.check_int("repeats", repeats, 1)
    n_sizes = cm.check_int("n_sizes", n_sizes, 1)
    max_train = cm.check_int("max_train", max_train, 3)
    max_test = cm.check_int("max_test", max_test, 1)
    components = cm.check_int("components", components, 1)
    test_size = cm.check_fraction("test_size", test_size)
    x, names, label = _matrix(data, columns, target, name)
    n, d = x.shape
    n_test = min(max_test, max(1, int(round(test_size * n))))
    high = min(n - n_test, max_train)
    low = max(3, components)
    if high < low:
        raise ValueError(f"data: {label} has {n} complete rows; too few for a train/test split")
    sizes = (cm.check_sizes(sizes, low, high) if sizes is not None
             else cm.log_sizes(max(low, min(high, (d + 1) // 2)), high, n_sizes))
    ll = np.full((len(MODELS), len(sizes), repeats), np.nan)
    failures: list[dict[str, Any]] = []
    start = time.perf_counter()
    for r, rseed in enumerate(cm.child_seeds(seed, repeats)):
        rng = np.random.default_rng(rseed)
        perm = rng.permutation(n)
        test, rest = x[perm[:n_test]], x[perm[n_test:]]
        for s, size in enumerate(sizes):
            train = rest[rng.choice(len(rest), size, replace=False)]
            mean, sd = train.mean(axis=0), train.std(axis=0)
            sd = np.where(sd > 0, sd, 1.0)
            z_train, z_test = (train - mean) / sd, (test - mean) / sd
            log_jac = -float(np.log(sd).sum())
            fseed = int(rng.integers(0, 2**31 - 1))
            if on_step is not None:
                on_step(f"{label}: repeat {r + 1}/{repeats}, n={size}")
            for m, model in enumerate(MODELS):
                try:
                    lp = _heldout(model, z_train, z_test, components, fseed)
                    ll[m, s, r] = float(np.mean(lp)) + log_jac
                except Exception as e:  # a model failing at one size must not stop the rest
                    log.info("mle-vs-bayes: %s failed at n=%d: %s", model, size, e)
                    failures.append({"model": model, "size": size, "repeat": r,
                                     "error": f"{type(e).__name__}: {e}"})
    return MleBayesResult(dataset=label, columns=names, n_rows=n, sizes=list(sizes),
                          models=list(MODELS), loglik=ll, n_test=n_test, repeats=repeats,
                          components=components, seed=seed, failures=failures,
                          total_seconds=time.perf_counter() - start)


def _heldout(model: str, z_train: np.ndarray, z_test: np.ndarray, k: int,
             seed: int) -> np.ndarray:
    """Per-row held-out log-density ``(n_test,)`` on standardized data."""
    if model == "bayesian_gmm":
        return _bayesian_gmm(z_train, k, seed).score_samples(z_test)
    from genmodels.generator import Generator

    if model == "gmm":
        if z_train.shape[0] < k:
            raise ValueError(f"gmm needs at least {k} rows for {k} components")
        gen = Generator("gmm", n_components=k, max_iter=200)
    else:
        gen = Generator(model)
    return gen.fit(z_train, seed=seed).log_prob(z_test)


def _bayesian_gmm(z: np.ndarray, k: int, seed: int) -> Any:
    """scikit-learn's variational GMM with priors matched to standardized data: mean
    prior 0, covariance prior the identity (as ``bayes_gaussian``'s defaults)."""
    from sklearn.mixture import BayesianGaussianMixture
    from threadpoolctl import threadpool_limits

    d = z.shape[1]
    model = BayesianGaussianMixture(
        n_components=k, covariance_type="full",
        weight_concentration_prior_type="dirichlet_process", mean_prior=np.zeros(d),
        covariance_prior=np.eye(d), degrees_of_freedom_prior=d + 2.0, max_iter=500,
        random_state=seed % (2**32 - 1))
    with warnings.catch_warnings(), threadpool_limits(limits=cm.THREADS):
        warnings.simplefilter("ignore")  # ConvergenceWarning at tiny n
        return model.fit(z)


def mle_vs_bayes_suite(datasets: Sequence[Any] = SUITE_DATASETS, *, seed: int = 0,
                       on_step: Callable[[str], None] | None = None,
                       **options: Any) -> cm.StudySet:
    """:func:`mle_vs_bayes_study` on several datasets, one section each."""
    return collect([mle_vs_bayes_study(name, seed=seed, on_step=on_step, **options)
                    for name in datasets])


def collect(results: Sequence[MleBayesResult]) -> cm.StudySet:
    """Several :class:`MleBayesResult` as one study with an overview table."""
    return cm.StudySet(
        "mle-vs-bayes", "MLE vs Bayesian density models", results,
        intro="Held-out log-likelihood per row against training-set size. The Bayesian "
              "model's prior should help where data are scarce (n near the dimension) "
              "and matter less and less as n grows.")
