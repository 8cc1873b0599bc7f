"""``gaussian`` and ``bayes_gaussian``, and the Gaussian helpers in ``_stats``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save
from scipy import stats

from genmodels.models._stats import gaussian_condition
from genmodels.models.base import Field, Schema
from genmodels.models.gaussian import BayesGaussian, Gaussian
from genmodels.models.independent import Independent

MEAN = np.array([0.5, -1.0, 2.0])
COV = np.array([[1.0, 0.6, -0.3], [0.6, 2.0, 0.4], [-0.3, 0.4, 1.5]])


def correlated(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).multivariate_normal(MEAN, COV, size=n)


def reload(model):
    """A fresh instance rebuilt from safetensors bytes + JSON, as ``gm.load`` does."""
    fresh = type(model)(**model.config)
    fresh.schema_ = Schema.from_json(json.loads(json.dumps(model.schema_.to_json())))
    fresh.load_state(st_load(st_save(model.state())), json.loads(json.dumps(model.extra())))
    return fresh


# ------------------------------------------------------------------ gaussian_condition
def test_gaussian_condition_matches_the_textbook_formula() -> None:
    values = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    mean_c, cov_c = gaussian_condition(MEAN, COV, [2, 0], values)
    g, f = [2, 0], [1]
    gain = COV[np.ix_(f, g)] @ np.linalg.inv(COV[np.ix_(g, g)])
    assert mean_c.shape == (3, 1) and cov_c.shape == (1, 1)
    np.testing.assert_allclose(mean_c, MEAN[f] + (values - MEAN[g]) @ gain.T, atol=1e-12)
    np.testing.assert_allclose(cov_c, COV[np.ix_(f, f)] - gain @ COV[np.ix_(g, f)], atol=1e-12)
    one_mean, _ = gaussian_condition(MEAN, COV, [2, 0], values[1])
    np.testing.assert_allclose(one_mean, mean_c[1])


def test_gaussian_condition_on_nothing_and_bad_input() -> None:
    mean_c, cov_c = gaussian_condition(MEAN, COV, [], np.zeros((4, 0)))
    assert np.array_equal(mean_c, np.tile(MEAN, (4, 1))) and np.array_equal(cov_c, COV)
    with pytest.raises(ValueError, match="idx_given"):
        gaussian_condition(MEAN, COV, [0, 0], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="values"):
        gaussian_condition(MEAN, COV, [0, 1], np.zeros((1, 3)))


# ------------------------------------------------------------------ gaussian
def test_gaussian_fit_is_the_mle_and_log_prob_matches_scipy() -> None:
    x = correlated(500)
    m = Gaussian(reg=0.0).fit(x, seed=0)
    np.testing.assert_allclose(m.mean_, x.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(m.cov_, np.cov(x.T, bias=True), atol=1e-12)
    test = correlated(50, seed=1)
    ref = stats.multivariate_normal(m.mean_, m.cov_).logpdf(test)
    np.testing.assert_allclose(m.log_prob(test), ref, rtol=1e-10)


def test_gaussian_density_integrates_to_one_in_2d() -> None:
    x = correlated(300)[:, :2]
    m = Gaussian().fit(x, seed=0)
    g = np.linspace(-8, 8, 401)
    xx, yy = np.meshgrid(g + m.mean_[0], g + m.mean_[1])
    dens = np.exp(m.log_prob(np.c_[xx.ravel(), yy.ravel()]))
    assert abs(dens.sum() * (g[1] - g[0]) ** 2 - 1.0) < 1e-3


def test_gaussian_beats_the_independent_baseline_on_correlated_data() -> None:
    train, test = correlated(2000), correlated(2000, seed=1)
    gauss = Gaussian().fit(train, seed=0).log_prob(test).mean()
    indep = Independent().fit(train, seed=0).log_prob(test).mean()
    true = stats.multivariate_normal(MEAN, COV).logpdf(test).mean()
    assert gauss > indep + 0.1
    assert abs(gauss - true) < 0.02


def test_gaussian_conditional_sampling_is_exact() -> None:
    m = Gaussian().fit(correlated(5000), seed=0)
    cond = {0: 1.5, 2: 0.0}
    s = m.sample(40000, seed=3, condition=cond)
    assert s.shape == (40000, 3)
    assert np.all(s[:, 0] == 1.5) and np.all(s[:, 2] == 0.0)
    g = [0, 2]
    gain = m.cov_[1, g] @ np.linalg.inv(m.cov_[np.ix_(g, g)])
    mean = m.mean_[1] + gain @ (np.array([1.5, 0.0]) - m.mean_[g])
    var = m.cov_[1, 1] - gain @ m.cov_[g, 1]
    assert abs(s[:, 1].mean() - mean) < 4 * np.sqrt(var / 40000)
    assert abs(s[:, 1].var() / var - 1) < 0.03


def test_gaussian_unconditional_samples_have_the_fitted_moments() -> None:
    m = Gaussian().fit(correlated(3000), seed=0)
    s = m.sample(50000, seed=1)
    np.testing.assert_allclose(s.mean(axis=0), m.mean_, atol=0.03)
    np.testing.assert_allclose(np.cov(s.T), m.cov_, atol=0.05)


@pytest.mark.parametrize("cls", [Gaussian, BayesGaussian])
def test_round_trip_and_seeds_are_bitwise(cls) -> None:
    x = correlated(200)
    m = cls().fit(x, seed=0)
    fresh = reload(m)
    test = correlated(30, seed=2)
    assert np.array_equal(fresh.log_prob(test), m.log_prob(test))
    for cond in (None, {1: 0.25}):
        a = m.sample(100, seed=7, condition=cond)
        assert np.array_equal(fresh.sample(100, seed=7, condition=cond), a)
        assert np.array_equal(m.sample(100, seed=7, condition=cond), a)
        assert not np.array_equal(m.sample(100, seed=8, condition=cond), a)


@pytest.mark.parametrize(("cls", "bad"), [
    (Gaussian, {"reg": -1.0}),
    (BayesGaussian, {"kappa0": 0.0}),
    (BayesGaussian, {"nu0": -2.0}),
    (BayesGaussian, {"psi_scale": "big"}),
])
def test_invalid_hyperparameters_are_named(cls, bad) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        cls(**bad)


def test_continuous_models_refuse_discrete_fields() -> None:
    schema = Schema((Field("a", "continuous"), Field("b", "discrete", 2)))
    x = np.c_[np.arange(4.0), [0, 1, 0, 1]]
    for cls in (Gaussian, BayesGaussian):
        with pytest.raises(ValueError, match="continuous"):
            cls().fit(x, seed=0, schema=schema)


# ------------------------------------------------------------------ bayes_gaussian
def test_bayes_gaussian_posterior_and_log_prob_match_scipy_multivariate_t() -> None:
    x = correlated(40)
    m = BayesGaussian(kappa0=2.0, nu0=6.0, psi_scale=0.5).fit(x, seed=0)
    n, d = x.shape
    xbar = x.mean(axis=0)
    kn, nun = 2.0 + n, 6.0 + n
    psi_n = 0.5 * np.eye(d) + (x - xbar).T @ (x - xbar) + 2.0 * n / kn * np.outer(xbar, xbar)
    df = nun - d + 1
    np.testing.assert_allclose(m.loc_, n * xbar / kn)
    np.testing.assert_allclose(m.scale_, psi_n * (kn + 1) / (kn * df))
    test = correlated(30, seed=5)
    ref = stats.multivariate_t(loc=m.loc_, shape=m.scale_, df=df).logpdf(test)
    np.testing.assert_allclose(m.log_prob(test), ref, rtol=1e-10)


def test_bayes_gaussian_nu0_must_exceed_d_minus_one() -> None:
    with pytest.raises(ValueError, match="nu0"):
        BayesGaussian(nu0=1.5).fit(correlated(20), seed=0)


def test_bayes_gaussian_beats_gaussian_with_little_data() -> None:
    # 5-d standardized data, 8 training rows: the MLE covariance is nearly singular.
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 5))
    cov = a @ a.T + np.eye(5)
    sd = np.sqrt(np.diag(cov))
    cov = cov / np.outer(sd, sd)
    wins, gaps = 0, []
    for seed in range(10):
        r = np.random.default_rng(seed + 1)
        train = r.multivariate_normal(np.zeros(5), cov, size=8)
        test = r.multivariate_normal(np.zeros(5), cov, size=2000)
        lb = BayesGaussian().fit(train, seed=0).log_prob(test).mean()
        lg = Gaussian().fit(train, seed=0).log_prob(test).mean()
        wins += lb > lg
        gaps.append(lb - lg)
    assert wins == 10 and np.median(gaps) > 1.0


def test_bayes_gaussian_agrees_with_gaussian_with_lots_of_data() -> None:
    train, test = correlated(20000), correlated(2000, seed=1)
    lb = BayesGaussian().fit(train, seed=0).log_prob(test)
    lg = Gaussian().fit(train, seed=0).log_prob(test)
    assert abs(lb.mean() - lg.mean()) < 2e-3
    assert np.abs(lb - lg).max() < 0.02


def test_bayes_gaussian_conditional_is_the_analytic_student_t() -> None:
    x = correlated(5)  # few rows: few degrees of freedom (10 here), heavy tails
    m = BayesGaussian().fit(x, seed=0)
    cond = {0: 2.0, 1: -3.0}
    s = m.sample(20000, seed=1, condition=cond)
    assert np.all(s[:, 0] == 2.0) and np.all(s[:, 1] == -3.0)
    nu, g = m.df_[0], [0, 1]
    vals = np.array([2.0, -3.0]) - m.loc_[g]
    s_gg = m.scale_[np.ix_(g, g)]
    gain = m.scale_[2, g] @ np.linalg.inv(s_gg)
    delta2 = vals @ np.linalg.solve(s_gg, vals)
    scale = (m.scale_[2, 2] - gain @ m.scale_[g, 2]) * (nu + delta2) / (nu + 2)
    ref = stats.t(df=nu + 2, loc=m.loc_[2] + gain @ vals, scale=np.sqrt(scale))
    assert stats.kstest(s[:, 2], ref.cdf).pvalue > 0.01
    # the variance is the t's, 25% above the Gaussian with the same scale
    assert abs(s[:, 2].var() / ref.var() - 1) < 0.06


@pytest.mark.parametrize(("cls", "key"), [(Gaussian, "cov"), (BayesGaussian, "scale")])
def test_load_state_names_a_bad_array(cls, key) -> None:
    m = cls().fit(correlated(50), seed=0)
    state = m.state()
    state[key] = state[key][:2]
    fresh = cls()
    fresh.schema_ = m.schema_
    with pytest.raises(ValueError, match=key):
        fresh.load_state(state, {})
