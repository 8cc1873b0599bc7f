"""Does augmentation help a downstream classifier? Accuracy and F1 with and without
conditional synthetic rows on an imbalanced table, over repeated draws.

Each repeat draws a training table and a disjoint test table from ``data``, both with
the minority class subsampled to ``minority_share`` of the rows (default: adult,
income >50K at 5%). Arms: ``real`` (the training table as is), ``oversample`` (minority
rows duplicated at random up to the majority count: the baseline any generator must
beat) and one arm per model (the table balanced with :func:`augment`). Every arm trains
the same downstream classifiers and is scored on the same real test rows.
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
from genmodels.studies._augment_result import AugmentResult
from genmodels.studies.augment import augment

log = logging.getLogger(__name__)

__all__ = ["AugmentResult", "augment_study"]


def _draw(codes: np.ndarray, minority: int, n: int, share: float | None,
          rng: np.random.Generator, available: np.ndarray) -> np.ndarray:
    """Indices of ``n`` rows among ``available``: the minority class at ``share`` of
    them (or natural proportions for ``share=None``), the other classes in proportion."""
    pool = codes[available]
    if share is None:
        return available[cm.stratified_draw(pool, n, rng, min_per_class=1)]
    m = max(1, int(round(share * n)))
    mino = available[pool == minority]
    rest = available[pool != minority]
    if len(mino) < m or len(rest) < n - m:
        raise ValueError(f"n_train, n_test: the data have too few rows for {n} rows with "
                         f"{m} of the minority class ({len(mino)} minority and {len(rest)} "
                         "other rows left)")
    picked = rest[cm.stratified_draw(codes[rest], n - m, rng, min_per_class=1)]
    return np.sort(np.concatenate([rng.choice(mino, m, replace=False), picked]))


def _oversample(train: pd.DataFrame, target: str, rng: np.random.Generator) -> pd.DataFrame:
    """Rows of every class duplicated at random up to the largest class's count."""
    counts = train[target].value_counts()
    extra = [train[train[target] == label].sample(int(counts.max() - c), replace=True,
                                                  random_state=int(rng.integers(2**31 - 1)))
             for label, c in counts.items() if c < counts.max()]
    return pd.concat([train, *extra], ignore_index=True)


def _scores(y_true: np.ndarray, y_pred: np.ndarray, minority: int) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "minority_f1": float(f1_score(y_true, y_pred, labels=[minority], average="macro",
                                      zero_division=0)),
    }


def augment_study(data: Any = "adult", target: str | None = None,
                  models: Sequence[str] | str = ("bayesnet", "copula"), *,
                  minority_share: float | None = 0.05, n_train: int = 3000,
                  n_test: int = 3000, repeats: int = 5,
                  classifiers: Sequence[str] | str = ("gboost", "logistic"), seed: int = 0,
                  hyperparams: Mapping[str, Mapping[str, Any]] | None = None,
                  name: str | None = None, on_step: Callable[[str], None] | None = None) -> AugmentResult:
    """Downstream accuracy, balanced accuracy, macro F1 and minority-class F1 of each
    classifier trained on each arm, over ``repeats`` draws (see the module docstring).
    ``hyperparams``: per model name; ``name`` labels the dataset in the output. A model that fails in a repeat is recorded in
    ``failures`` and left out of that repeat."""
    from genmodels.models import registry

    seed = cm.check_int("seed", seed, 0)
    repeats = cm.check_int("repeats", repeats, 1)
    n_train = cm.check_int("n_train", n_train, 10)
    n_test = cm.check_int("n_test", n_test, 10)
    if minority_share is not None:
        minority_share = cm.check_fraction("minority_share", minority_share, high=0.5)
    models = cm.check_names("models", models, list(registry("table")))
    classifiers = cm.check_names("classifiers", classifiers, list(clf.SKLEARN))
    frame, label = cm.load_table(data, name=name)
    target = cm.resolve_target(frame, target, label)
    frame = frame[frame[target].notna()].reset_index(drop=True)
    codes = cm.class_labels(frame[target], "target")
    labels = sorted(pd.unique(frame[target]), key=str)
    minority = int(np.argmin(np.bincount(codes)))
    arms = ["real", "oversample", *models]
    records: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    start = time.perf_counter()
    for r, rseed in enumerate(cm.child_seeds(seed, repeats)):
        rng = np.random.default_rng(rseed)
        everything = np.arange(len(frame))
        train_idx = _draw(codes, minority, n_train, minority_share, rng, everything)
        test_idx = _draw(codes, minority, n_test, minority_share, rng,
                         np.setdiff1d(everything, train_idx))
        train, test = frame.iloc[train_idx].reset_index(drop=True), frame.iloc[test_idx]
        aseed = int(rng.integers(0, 2**31 - 1))
        for arm in arms:
            if on_step is not None:
                on_step(f"{label}: repeat {r + 1}/{repeats}, {arm}")
            t0 = time.perf_counter()
            try:
                table = _arm(arm, train, target, rng, aseed, (hyperparams or {}).get(arm))
            except Exception as e:  # one model failing must not stop the study
                log.info("augment study: %s failed in repeat %d: %s", arm, r, e)
                failures.append({"arm": arm, "repeat": r, "error": f"{type(e).__name__}: {e}"})
                continue
            gen_seconds = time.perf_counter() - t0
            records.extend(_evaluate(table, test, target, labels, minority, classifiers,
                                     aseed, arm=arm, repeat=r, n_original=len(train),
                                     gen_seconds=gen_seconds))
    return AugmentResult(
        dataset=label, target=str(target), classes=[str(v) for v in labels],
        minority=str(labels[minority]), minority_share=minority_share, n_train=n_train,
        n_test=n_test, repeats=repeats, arms=arms, classifiers=classifiers, seed=seed,
        records=pd.DataFrame(records), failures=failures,
        total_seconds=time.perf_counter() - start)


def _arm(arm: str, train: pd.DataFrame, target: str, rng: np.random.Generator, seed: int,
         hyperparams: Mapping[str, Any] | None) -> pd.DataFrame:
    if arm == "real":
        return train
    if arm == "oversample":
        return _oversample(train, target, rng)
    return augment(train, target, arm, balance=True, seed=seed, hyperparams=hyperparams)


def _evaluate(table: pd.DataFrame, test: pd.DataFrame, target: str, labels: list,
              minority: int, classifiers: list[str], seed: int,
              **meta: Any) -> list[dict[str, Any]]:
    lookup = {v: i for i, v in enumerate(labels)}
    y_train = table[target].map(lookup).to_numpy(dtype=np.int64)
    y_test = test[target].map(lookup).to_numpy(dtype=np.int64)
    x_train = clf.as_object(table.drop(columns=[target]))
    x_test = clf.as_object(test.drop(columns=[target]))
    out = []
    for name in classifiers:
        pred = clf.fit_predict_sklearn(name, x_train, y_train, x_test, seed)
        out.append({**meta, "classifier": name, "n_rows": len(table),
                    **_scores(y_test, pred, minority)})
    return out

