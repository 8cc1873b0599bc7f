"""MLE vs Bayesian study: the prior helps at small n, the two meet at large n, and the
log-likelihood is in the data's units."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from genmodels.studies import load_result
from genmodels.studies._mle_result import compare_pair
from genmodels.studies.bayes_vs_mle import mle_vs_bayes_study

D = 6


def true_cov() -> np.ndarray:
    rng = np.random.default_rng(42)
    a = rng.standard_normal((D, D))
    scales = np.array([1.0, 10.0, 0.1, 5.0, 1.0, 100.0])  # units differ column to column
    return (a @ a.T + np.eye(D)) * np.outer(scales, scales)


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    x = rng.multivariate_normal(np.arange(D) * 3.0, true_cov(), size=4000)
    return mle_vs_bayes_study(x, sizes=[8, 2000], repeats=3, seed=0)


def test_the_prior_helps_at_small_n_and_they_meet_at_large_n(result) -> None:
    g, bg = result.of("gaussian"), result.of("bayes_gaussian")
    assert (bg[0] > g[0] + 1.0).all()  # n=8 in 6 dimensions: the MLE covariance is poor
    v = result.verdicts()["gaussian/bayes_gaussian"]
    assert v["helps_up_to"] == 8 and v["helps_at"] == [8]
    assert v["meet"] is True and abs(v["diff_at_largest"]) < 0.02
    gmm, bgmm = result.of("gmm"), result.of("bayesian_gmm")
    assert (bgmm[0] > gmm[0]).all()
    assert result.verdicts()["gmm/bayesian_gmm"]["helps_up_to"] == 8


def test_heldout_loglik_is_in_the_data_units(result) -> None:
    """At n=2000 the MLE Gaussian's held-out log-likelihood per row is close to minus the
    true distribution's differential entropy, in the data's own (mixed) units."""
    _, logdet = np.linalg.slogdet(2 * np.pi * np.e * true_cov())
    neg_entropy = -0.5 * logdet
    assert abs(result.of("gaussian")[1].mean() - neg_entropy) < 0.15
    assert abs(result.of("bayes_gaussian")[1].mean() - neg_entropy) < 0.15


def test_result_exports(result) -> None:
    d = result.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["sizes"] == [8, 2000] and d["d"] == D and d["n_test"] == 1200
    assert set(d["loglik"]) == {"gaussian", "bayes_gaussian", "gmm", "bayesian_gmm"}
    html = result.to_html()
    assert "data:image/png;base64," in html and "bayes_gaussian vs gaussian" in html
    frame = result.summary()
    assert len(frame) == 8 and (frame["n_ok"] == 3).all()
    assert not result.failures
    again = load_result(json.loads(json.dumps(d)))
    assert again.to_dict() == d and "bayes_gaussian vs gaussian" in again.to_html()


def test_compare_pair_flags_hurt_and_meet() -> None:
    mle = np.array([[-10.0, -10.1, -9.9], [-5.0, -5.01, -4.99]])
    bayes = np.array([[-12.0, -12.2, -11.9], [-5.0, -5.0, -5.0]])
    v = compare_pair(mle, bayes, [10, 1000])
    assert v["hurts_at"] == [10] and v["helps_up_to"] is None and v["meet"] is True


def test_frame_input_uses_continuous_columns_and_drops_the_target() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200),
                          "few": rng.integers(0, 3, 200), "cat": ["u"] * 200,
                          "y": rng.normal(size=200)})
    frame.loc[3, "a"] = np.nan
    r = mle_vs_bayes_study(frame, target="y", sizes=[10], repeats=1)
    assert r.columns == ["a", "b"] and r.n_rows == 199
    r = mle_vs_bayes_study(frame, columns=["y"], sizes=[10], repeats=1)
    assert r.columns == ["y"]


def test_bad_arguments_name_the_argument() -> None:
    frame = pd.DataFrame({"a": np.arange(50.0), "cat": ["u"] * 50})
    with pytest.raises(ValueError, match="columns: 'cat' is not numeric"):
        mle_vs_bayes_study(frame, columns=["cat"])
    with pytest.raises(ValueError, match="columns: got 'zz'"):
        mle_vs_bayes_study(frame, columns=["zz"])
    with pytest.raises(ValueError, match="no continuous numeric column"):
        mle_vs_bayes_study(frame[["cat"]])
    with pytest.raises(ValueError, match="components"):
        mle_vs_bayes_study(frame, components=0)
    with pytest.raises(ValueError, match="sizes: got 1"):
        mle_vs_bayes_study(frame, sizes=[1])
