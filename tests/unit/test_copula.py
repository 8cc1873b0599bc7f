"""``copula`` and its pieces: marginal CDFs, the moment estimator of the latent
correlation, truncated normals, box probabilities and conditional sampling."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save
from scipy import stats

from genmodels.models import _copula_sample
from genmodels.models._copula_fit import hermite_coefficients, moment_correlation
from genmodels.models._ecdf import EmpiricalCDF, LevelCDF
from genmodels.models._stats import box_log_prob, truncnorm_moments, truncnorm_std
from genmodels.models.base import Field, Schema
from genmodels.models.copula import GaussianCopula
from genmodels.models.independent import Independent

R = np.array([[1, .6, .5, -.4, .3], [.6, 1, .4, -.2, .2], [.5, .4, 1, .1, .4],
              [-.4, -.2, .1, 1, -.3], [.3, .2, .4, -.3, 1]])
SCHEMA = Schema((Field("lognormal", "continuous"), Field("binary", "discrete", 2),
                 Field("ordinal", "discrete", 4), Field("zero_inflated", "continuous"),
                 Field("integer", "continuous")))


def latent_data(n: int, seed: int = 0) -> np.ndarray:
    """A Gaussian copula with correlation ``R``: a lognormal, a binary, a 4-level ordinal,
    a zero-inflated amount (69% zeros) and an integer-valued column."""
    z = np.random.default_rng(seed).multivariate_normal(np.zeros(5), R, size=n)
    x = np.c_[np.exp(z[:, 0]), z[:, 1] > 0.3, np.digitize(z[:, 2], [-1.0, 0.0, 0.8]),
              np.where(z[:, 3] < 0.5, 0.0, np.exp(z[:, 3])), np.round(2 * z[:, 4] + 10)]
    return x.astype(np.float64)


@pytest.fixture(scope="module")
def train() -> np.ndarray:
    return latent_data(20000)


@pytest.fixture(scope="module")
def fitted(train) -> GaussianCopula:
    return GaussianCopula(order="codes").fit(train, seed=0, schema=SCHEMA)


def reload(model: GaussianCopula) -> GaussianCopula:
    fresh = type(model)(**model.config)
    fresh.schema_ = Schema.from_json(json.loads(json.dumps(model.schema_.to_json())))
    fresh.load_state(st_load(st_save(model.state())), json.loads(json.dumps(model.extra())))
    return fresh


# ------------------------------------------------------------------ helpers
@pytest.mark.parametrize(("lo", "hi"), [(-np.inf, np.inf), (1.0, 2.0), (5.0, 6.0), (-0.5, 0.3),
                                        (-40.0, -39.0), (38.0, np.inf), (-np.inf, -3.0)])
def test_truncated_normal_draws_and_moments_match_scipy(lo, hi) -> None:
    ref = stats.truncnorm(lo, hi)
    log_mass, mean, var = truncnorm_moments(np.array(lo), np.array(hi))
    assert mean == pytest.approx(ref.mean(), abs=1e-9) and var == pytest.approx(ref.var(), rel=1e-6)
    a, b = (-hi, -lo) if lo > 0 else (lo, hi)  # the side where scipy's logcdf is precise
    ref_mass = stats.norm.logcdf(b) + np.log1p(-np.exp(stats.norm.logcdf(a) - stats.norm.logcdf(b)))
    assert log_mass == pytest.approx(ref_mass, rel=1e-9)
    z = truncnorm_std(np.full(20000, lo), np.full(20000, hi), np.random.default_rng(0))
    assert z.min() >= lo and z.max() <= hi
    assert stats.kstest(z, ref.cdf).pvalue > 1e-3


def test_box_probability_is_exact_in_1d_and_close_in_3d() -> None:
    cov = np.array([[1.0, 0.5, -0.3], [0.5, 1.0, 0.2], [-0.3, 0.2, 1.0]])
    lo, hi = np.array([[-0.5, -np.inf, 0.2]]), np.array([[0.5, 0.0, np.inf]])
    one = box_log_prob(np.array([[0.3]]), cov[:1, :1], lo[:, :1], hi[:, :1])
    assert one[0] == pytest.approx(np.log(stats.norm.cdf(0.2) - stats.norm.cdf(-0.8)), rel=1e-12)
    z = np.random.default_rng(0).multivariate_normal(np.zeros(3), cov, size=1_000_000)
    mc = np.mean(np.all((z >= lo) & (z <= hi), axis=1))
    assert box_log_prob(np.zeros((1, 3)), cov, lo, hi)[0] == pytest.approx(np.log(mc), abs=0.03)


def test_hermite_moments_give_the_tetrachoric_correlation() -> None:
    # two binary fields split at 0: E[m1 m2] = (2/pi) * (2/pi) * arcsin(rho) exactly
    edges, const = np.array([-np.inf, 0.0, np.inf]), np.array([True, True])
    a = hermite_coefficients(edges, const)
    for rho in (-0.9, -0.3, 0.2, 0.8, 0.97):
        f = np.sum(a * a * rho ** np.arange(a.size))
        assert f == pytest.approx((2 / np.pi) ** 2 * np.arcsin(rho), abs=1e-4)
    ident = hermite_coefficients(np.array([-np.inf, np.inf]), np.array([False]))
    assert np.allclose(ident[:3], [0, 1, 0]) and np.abs(ident[3:]).max() < 1e-12


def test_moment_estimate_recovers_latent_correlations_that_draws_attenuate() -> None:
    rng = np.random.default_rng(1)
    r = np.array([[1.0, 0.8, 0.5], [0.8, 1.0, 0.3], [0.5, 0.3, 1.0]])
    z = rng.multivariate_normal(np.zeros(3), r, size=50000)
    x = np.c_[z[:, 0] > 0, z[:, 1] > 0.5, z[:, 2]].astype(float)
    schema = Schema((Field("a", "discrete", 2), Field("b", "discrete", 2), Field("c", "continuous")))
    moments = GaussianCopula().fit(x, seed=0, schema=schema).corr_
    draws = GaussianCopula(correlation="draws").fit(x, seed=0, schema=schema).corr_
    assert np.abs(moments - r).max() < 0.03
    assert draws[0, 1] < 0.5 and draws[0, 2] < 0.45  # attenuated: 0.8 and 0.5 in truth
    m = [LevelCDF(np.array([0.5, 0.5]), np.arange(2)), LevelCDF(np.array([0.5, 0.5]), np.arange(2))]
    scores = np.c_[m[0].scores(x[:, 0]), m[1].scores(x[:, 0])]  # the same field twice
    assert moment_correlation(scores, [mm.pieces() for mm in m])[0, 1] > 0.99


# ------------------------------------------------------------------ marginals
def test_empirical_cdf_inverts_integrates_and_has_finite_tails() -> None:
    x = np.random.default_rng(0).standard_t(4, size=500)
    e = EmpiricalCDF.fit(x, max_knots=40)
    z = e.to_normal(x)
    np.testing.assert_allclose(e.from_normal(z), x, atol=1e-9)
    assert np.all(np.diff(e.to_normal(np.sort(x))) >= 0)
    far = np.array([x.min() - 50, x.max() + 50])
    assert np.all(np.isfinite(e.to_normal(far))) and np.all(np.isfinite(e.logpdf(far)))
    mids, widths = cells(e.x, x.min() - 40, x.max() + 40)
    assert np.sum(np.exp(e.logpdf(mids)) * widths) == pytest.approx(1.0, abs=1e-4)
    # more knots than 2 sqrt(n) fit the training rows better but generalize worse
    test = np.random.default_rng(1).standard_t(4, size=20000)
    thin = e.logpdf(test).mean()
    assert thin > EmpiricalCDF.fit(x).logpdf(test).mean() + 0.1
    assert thin > stats.t(4).logpdf(test).mean() - 0.1


def test_empirical_cdf_keeps_atoms_exact() -> None:
    rng = np.random.default_rng(0)
    x = np.r_[np.zeros(700), rng.integers(1, 50, 300)].astype(float)
    e = EmpiricalCDF.fit(x, max_knots=60)
    s = e.from_normal(rng.standard_normal(50000))
    assert abs(np.mean(s == 0) - 0.7) < 0.01
    assert np.mean(s == np.round(s)) > 0.93  # 5% of the mass lies between the 50 atoms
    assert e.eta == 0.25  # a quarter of the smallest gap between distinct values
    lo, hi = e.latent_bounds(np.array([0.0, 0.2, 0.3, 25.5]))
    assert lo[0] < hi[0] and (lo[1], hi[1]) == (lo[0], hi[0])  # 0.2 is in the band of 0
    assert lo[2] == hi[2] and lo[3] == hi[3]
    assert stats.norm.cdf(hi[0]) - stats.norm.cdf(lo[0]) == pytest.approx(0.699, abs=1e-3)


def test_level_cdf_intervals_follow_the_order() -> None:
    lv = LevelCDF(np.array([0.2, 0.5, 0.0, 0.3]), np.array([3, 1, 0, 2]))
    np.testing.assert_allclose(stats.norm.cdf(lv.hi) - stats.norm.cdf(lv.lo), lv.probs, atol=1e-12)
    assert lv.hi[3] == lv.lo[1] and lv.hi[1] == lv.lo[0]
    codes = lv.from_normal(np.random.default_rng(0).standard_normal(100000)).astype(int)
    np.testing.assert_allclose(np.bincount(codes, minlength=4) / 1e5, lv.probs, atol=0.005)


# ------------------------------------------------------------------ the model
def test_samples_reproduce_every_marginal(fitted, train) -> None:
    s = fitted.sample(20000, seed=1)
    for j in (0, 3, 4):
        assert stats.ks_2samp(train[:, j], s[:, j]).statistic < 0.02
    for j, k in ((1, 2), (2, 4)):
        freq = np.bincount(s[:, j].astype(int), minlength=k) / len(s)
        np.testing.assert_allclose(freq, np.bincount(train[:, j].astype(int)) / len(train), atol=0.012)
    assert abs(np.mean(s[:, 3] == 0) - np.mean(train[:, 3] == 0)) < 0.012
    assert np.mean(s[:, 4] == np.round(s[:, 4])) > 0.99


def test_fitted_correlation_is_the_latent_one(fitted) -> None:
    assert np.abs(fitted.corr_ - R).max() < 0.04


def test_log_prob_of_continuous_data_matches_scipy() -> None:
    z = np.random.default_rng(0).multivariate_normal(np.zeros(2), R[:2, :2], size=400)
    x = np.c_[np.exp(z[:, 0]), z[:, 1] ** 3]
    m = GaussianCopula(knots=30).fit(x, seed=0)
    test = np.c_[np.exp(z[:50, 1]), z[:50, 0] ** 3] * 1.01
    zs = np.c_[m.marginals_[0].to_normal(test[:, 0]), m.marginals_[1].to_normal(test[:, 1])]
    ref = (stats.multivariate_normal(np.zeros(2), m.corr_).logpdf(zs) - stats.norm.logpdf(zs).sum(1)
           + m.marginals_[0].logpdf(test[:, 0]) + m.marginals_[1].logpdf(test[:, 1]))
    np.testing.assert_allclose(m.log_prob(test), ref, rtol=1e-10)


def cells(knots: np.ndarray, lo: float, hi: float, n: int = 4001) -> tuple[np.ndarray, np.ndarray]:
    """Midpoints and widths of a grid on ``[lo, hi]`` refined at ``knots``: the midpoint
    rule is then exact wherever the density is constant between knots."""
    edges = np.unique(np.r_[np.linspace(lo, hi, n), knots[(knots > lo) & (knots < hi)]])
    return 0.5 * (edges[1:] + edges[:-1]), np.diff(edges)


def test_density_integrates_to_one_with_and_without_a_discrete_field() -> None:
    rng = np.random.default_rng(0)
    z = rng.multivariate_normal(np.zeros(2), [[1, 0.7], [0.7, 1]], size=60)
    cont = GaussianCopula(knots=8).fit(z, seed=0)
    (m0, w0), (m1, w1) = (cells(cont.marginals_[j].x, -12, 12, 1201) for j in (0, 1))
    xx, yy = np.meshgrid(m0, m1)
    dens = np.exp(cont.log_prob(np.c_[xx.ravel(), yy.ravel()])).reshape(xx.shape)
    assert np.sum(dens * np.outer(w1, w0)) == pytest.approx(1.0, abs=2e-3)
    mixed_x = np.c_[z[:, 0], np.digitize(z[:, 1], [-0.5, 0.5])]
    schema = Schema((Field("c", "continuous"), Field("d", "discrete", 3)))
    mixed = GaussianCopula(knots=8).fit(mixed_x, seed=0, schema=schema)
    mids, widths = cells(mixed.marginals_[0].x, -12, 12)
    total = sum(np.sum(np.exp(mixed.log_prob(np.c_[mids, np.full_like(mids, k)])) * widths)
                for k in range(3))
    assert total == pytest.approx(1.0, abs=1e-4)
    # one discrete field: log f(x) + log P(level | x) exactly, not a midpoint approximation
    rho, (cm, lv) = mixed.corr_[0, 1], mixed.marginals_
    zc = cm.to_normal(mids)
    for k in range(3):
        sd = np.sqrt(1 - rho ** 2)
        p = stats.norm.cdf((lv.hi[k] - rho * zc) / sd) - stats.norm.cdf((lv.lo[k] - rho * zc) / sd)
        ok = p > 1e-8  # where the reference's difference of CDFs is still precise
        got = mixed.log_prob(np.c_[mids, np.full_like(mids, k)])
        np.testing.assert_allclose(got[ok], cm.logpdf(mids[ok]) + np.log(p[ok]), rtol=1e-9)


def test_copula_beats_the_independent_baseline(train) -> None:
    test = latent_data(5000, seed=1)
    cop = GaussianCopula().fit(train, seed=0, schema=SCHEMA)
    ind = Independent().fit(train, seed=0, schema=SCHEMA).log_prob(test).mean()
    assert cop.log_prob(test).mean() > ind + 1.0
    mid = GaussianCopula(likelihood="midpoint").fit(train, seed=0, schema=SCHEMA).log_prob(test)
    assert mid.mean() > ind + 1.0
    assert not np.allclose(mid, cop.log_prob(test))  # two discrete fields: the two differ


def test_auto_order_captures_a_non_monotone_nominal_field() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, 20000)
    y = np.array([0.0, 2.0, -2.0, 1.0])[codes] + rng.normal(0, 0.5, codes.size)
    x = np.c_[y, codes]
    schema = Schema((Field("y", "continuous"), Field("nominal", "discrete", 4)))
    errors = {}
    for order in ("auto", "codes"):
        s = GaussianCopula(order=order).fit(x, seed=0, schema=schema).sample(20000, seed=1)
        errors[order] = max(abs(s[s[:, 1] == k, 0].mean() - y[codes == k].mean()) for k in range(4))
    assert errors["auto"] < 0.25 < errors["codes"]


# ------------------------------------------------------------------ conditional sampling
def cond_means(x: np.ndarray, cond: dict[int, float]) -> np.ndarray:
    mask = np.all([x[:, j] == v for j, v in cond.items()], axis=0)
    return x[mask].mean(axis=0)


@pytest.mark.parametrize("cond", [{1: 1}, {2: 3}, {3: 0.0}, {1: 0, 2: 0}])
def test_conditional_sampling_matches_the_data(fitted, train, cond) -> None:
    s = fitted.sample(20000, seed=2, condition=cond)
    assert s.shape == (20000, 5)
    for j, v in cond.items():
        assert np.all(s[:, j] == v)
    want, got = cond_means(train, cond), s.mean(axis=0)
    assert abs(got[1] - want[1]) < 0.03 and abs(got[4] - want[4]) < 0.15
    free = [j for j in (2,) if j not in cond]
    for j in free:
        assert abs(got[j] - want[j]) < 0.06
    k = np.bincount(s[:, 2].astype(int), minlength=4) / len(s)
    mask = np.all([train[:, j] == v for j, v in cond.items()], axis=0)
    assert np.abs(k - np.bincount(train[mask, 2].astype(int), minlength=4) / mask.sum()).max() < 0.04


def test_conditioning_on_a_continuous_value_is_exact_in_the_latent(fitted) -> None:
    value = 2.0
    s = fitted.sample(20000, seed=3, condition={0: value})
    assert np.all(s[:, 0] == value)
    z0 = fitted.marginals_[0].to_normal(np.array([value]))[0]
    rho = fitted.corr_[0, 1]
    p_binary = stats.norm.sf((fitted.marginals_[1].hi[0] - rho * z0) / np.sqrt(1 - rho ** 2))
    assert abs(s[:, 1].mean() - p_binary) < 4 * np.sqrt(p_binary * (1 - p_binary) / len(s))


def test_gibbs_fallback_agrees_with_rejection(fitted, monkeypatch) -> None:
    cond = {1: 1, 2: 0}
    exact = fitted.sample(20000, seed=4, condition=cond)
    monkeypatch.setattr(_copula_sample, "MIN_ACCEPTANCE", 1.1)  # force the Gibbs sampler
    gibbs = fitted.sample(20000, seed=4, condition=cond)
    assert np.all(gibbs[:, 1] == 1) and np.all(gibbs[:, 2] == 0)
    np.testing.assert_allclose(gibbs.mean(axis=0), exact.mean(axis=0), atol=0.06)


def test_a_level_of_probability_zero_cannot_be_conditioned_on() -> None:
    x = np.c_[np.random.default_rng(0).normal(size=50), np.zeros(50)]
    schema = Schema((Field("c", "continuous"), Field("unseen", "discrete", 2)))
    m = GaussianCopula(alpha=0.0).fit(x, seed=0, schema=schema)
    with pytest.raises(ValueError, match="unseen"):
        m.sample(5, seed=0, condition={1: 1})
    assert np.all(m.sample(200, seed=0)[:, 1] == 0)


# ------------------------------------------------------------------ contract
def test_round_trip_and_seeds_are_bitwise(fitted) -> None:
    fresh = reload(fitted)
    test = latent_data(200, seed=5)
    assert np.array_equal(fresh.log_prob(test), fitted.log_prob(test))
    for cond in (None, {2: 1}, {0: 1.5, 1: 1}):
        a = fitted.sample(300, seed=7, condition=cond)
        assert np.array_equal(fresh.sample(300, seed=7, condition=cond), a)
        assert np.array_equal(fitted.sample(300, seed=7, condition=cond), a)
        assert not np.array_equal(fitted.sample(300, seed=8, condition=cond), a)
    again = GaussianCopula(order="codes").fit(latent_data(20000), seed=0, schema=SCHEMA)
    assert np.array_equal(again.corr_, fitted.corr_)


@pytest.mark.parametrize("bad", [{"shrinkage": 2.0}, {"knots": -1}, {"order": "random"},
                                 {"correlation": "mle"}, {"alpha": -0.5}, {"likelihood": "x"}])
def test_invalid_hyperparameters_are_named(bad) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        GaussianCopula(**bad)


def test_load_state_names_a_bad_array(fitted) -> None:
    fresh = GaussianCopula()
    fresh.schema_ = SCHEMA
    state = fitted.state()
    state["corr"] = state["corr"][:2, :2]
    with pytest.raises(ValueError, match="'corr'"):
        fresh.load_state(state, {})
    state = fitted.state()
    del state["field3.atoms"]
    with pytest.raises(ValueError, match="field3.atoms"):
        fresh.load_state(state, {})
    state = fitted.state()
    state["field2.order"] = np.array([0, 0, 1, 2])
    with pytest.raises(ValueError, match="permutation"):
        fresh.load_state(state, {})
