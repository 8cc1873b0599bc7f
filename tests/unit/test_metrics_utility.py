"""Utility (TSTR vs TRTR) with both learners, on the holdout or a split of real."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genmodels.evaluation import evaluate
from genmodels.evaluation._tables import align
from genmodels.evaluation.utility import fit_predict, tstr, utility_from


def linear_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    c = rng.choice(["p", "q", "r"], n)
    value = 2 * a - b + (c == "p") * 1.5 + 0.3 * rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b, "c": c, "value": value,
                         "label": np.where(value > 0.5, "pos", "neg")})


def xor_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b, "y": np.where((a > 0) ^ (b > 0), "1", "0")})


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return linear_table(1500, 0), linear_table(1500, 1), linear_table(600, 2)


def test_both_learners_on_a_faithful_and_a_broken_synthetic_set(data) -> None:
    real, fresh, holdout = data
    shuffled = fresh.assign(label=fresh["label"].sample(frac=1, random_state=0).to_numpy())
    good = evaluate(real, fresh, target="label", holdout=holdout).utility
    bad = evaluate(real, shuffled, target="label", holdout=holdout).utility
    assert good.evaluated_on == "holdout" and good.rows["test"] == 600
    assert set(good.results) == {"hgb", "linear"}
    for learner in ("hgb", "linear"):
        assert good.results[learner].real_score > 0.85
        assert good.results[learner].ratio > 0.95
        assert bad.results[learner].synth_score < 0.65  # labels unrelated to features
    assert good.results["linear"].real_score != good.results["hgb"].real_score


def test_regression_target_uses_r2_for_both_learners(data) -> None:
    real, fresh, _ = data
    u = evaluate(real, fresh, target="value").utility
    assert u.task == "regression" and u.metric == "r2" and u.evaluated_on == "split"
    assert u.results["linear"].real_score > 0.95  # the truth is linear: R^2 = 1 - 0.09/6.5
    assert u.results["hgb"].real_score > 0.85
    assert u.rows["test"] == 375  # a quarter of the real rows


def test_the_learners_differ_where_the_signal_is_not_linear() -> None:
    real, holdout = xor_table(2000, 0), xor_table(800, 1)
    pred = fit_predict(real, xor_table(2000, 2), align(real, real)[1], "y", holdout=holdout)
    u = utility_from(pred)
    assert u.results["hgb"].real_score > 0.9
    assert u.results["linear"].real_score < 0.65  # XOR defeats a linear model
    assert pred.pred[("hgb", "real")].shape == (800,)


def test_tstr_single_learner_and_bad_learner(data) -> None:
    real, fresh, holdout = data
    fresh, kinds = align(real, fresh)
    r = tstr(real, fresh, kinds, "label", learner="linear", holdout=holdout)
    assert r.learner == "linear" and r.metric == "macro_f1" and r.ratio > 0.95
    with pytest.raises(ValueError, match="learner: got 'svm'"):
        tstr(real, fresh, kinds, "label", learner="svm")


def test_single_class_synthetic_target_predicts_that_class(data) -> None:
    real, fresh, holdout = data
    one_class = fresh.assign(label="neg")
    u = evaluate(real, one_class, target="label", holdout=holdout).utility
    share_neg = (holdout["label"] == "neg").mean()
    # macro-F1 of always "neg": F1(neg) = 2p/(1+p), F1(pos) = 0
    assert u.synth_score == pytest.approx(share_neg / (1 + share_neg))
