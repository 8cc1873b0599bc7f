"""Mixture models: ``gmm`` (mixed data) and ``categorical_mixture`` (latent class)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save
from scipy import stats

from genmodels.models.base import Field, Schema, registry
from genmodels.models.mixture import CategoricalMixture, GaussianMixture

MEANS = np.array([[-4.0, 0.0], [0.0, 4.0], [4.0, -2.0]])
COVS = np.array([[[1.0, 0.5], [0.5, 1.0]], [[0.5, 0.0], [0.0, 0.3]], [[0.8, -0.3], [-0.3, 0.6]]])
WEIGHTS = np.array([0.5, 0.3, 0.2])
PROBS = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
MIXED = Schema((Field("a", "continuous"), Field("c", "discrete", 3), Field("b", "continuous")))


def mixed_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows laid out as MIXED (a, c, b) from the 3-component truth, and their components."""
    rng = np.random.default_rng(seed)
    z = rng.choice(3, size=n, p=WEIGHTS)
    x = np.empty((n, 3))
    for k in range(3):
        rows = z == k
        x[np.ix_(rows, [0, 2])] = rng.multivariate_normal(MEANS[k], COVS[k], size=rows.sum())
        x[rows, 1] = rng.choice(3, size=rows.sum(), p=PROBS[k])
    return x, z


def latent_class_data(n: int, seed: int = 0) -> tuple[np.ndarray, Schema, np.ndarray]:
    """Two classes, five discrete fields with opposite profiles."""
    rng = np.random.default_rng(seed)
    profiles = [np.array([[0.85, 0.15], [0.15, 0.85]]), np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])]
    levels = [2, 3, 2, 3, 2]
    z = rng.choice(2, size=n, p=[0.6, 0.4])
    x = np.column_stack([
        (rng.random(n)[:, None] > np.cumsum(profiles[lv - 2][z], axis=1)).sum(axis=1)
        for lv in levels]).astype(float)
    schema = Schema(tuple(Field(f"f{i}", "discrete", lv) for i, lv in enumerate(levels)))
    return x, schema, z


@pytest.fixture(scope="module")
def fitted_mixed() -> GaussianMixture:
    x, _ = mixed_data(3000)
    return GaussianMixture(max_components=5).fit(x, seed=0, schema=MIXED)


def test_registered_with_capabilities() -> None:
    models = registry()
    assert models["gmm"] is GaussianMixture and models["categorical_mixture"] is CategoricalMixture
    assert GaussianMixture.capabilities.exact_likelihood and GaussianMixture.capabilities.conditional
    assert CategoricalMixture.capabilities.inputs == "discrete"


def test_recovers_components_and_bic_picks_k(fitted_mixed: GaussianMixture) -> None:
    p = fitted_mixed.params_
    assert p.k == 3, fitted_mixed.bic_
    assert min(fitted_mixed.bic_, key=fitted_mixed.bic_.get) == 3
    order = [int(np.argmin(np.abs(p.means - m).sum(axis=1))) for m in MEANS]
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(p.means[order], MEANS, atol=0.12)
    np.testing.assert_allclose(p.covs[order], COVS, atol=0.12)
    np.testing.assert_allclose(p.weights[order], WEIGHTS, atol=0.03)
    np.testing.assert_allclose(p.probs[order], PROBS, atol=0.05)


def test_latent_class_recovers_classes() -> None:
    x, schema, z = latent_class_data(3000)
    m = CategoricalMixture(max_components=5).fit(x, seed=0, schema=schema)
    assert m.params_.k == 2, m.bic_
    first = int(np.argmax(m.params_.weights))
    assert m.params_.weights[first] == pytest.approx(0.6, abs=0.05)
    np.testing.assert_allclose(m.params_.probs[first, :2], [0.85, 0.15], atol=0.05)
    agree = (m.responsibilities(x).argmax(axis=1) == first) == (z == 0)
    assert agree.mean() > 0.9


def test_aic_keeps_more_components_on_small_data() -> None:
    """On 300 rows, BIC's penalty is harsh: AIC keeps at least as many classes."""
    x, schema, _ = latent_class_data(300)
    bic = CategoricalMixture(max_components=4).fit(x, seed=0, schema=schema)
    aic = CategoricalMixture(max_components=4, criterion="aic").fit(x, seed=0, schema=schema)
    assert aic.params_.k >= bic.params_.k
    assert aic.params_.k == min(aic.aic_, key=aic.aic_.get)
    assert bic.params_.k == min(bic.bic_, key=bic.bic_.get)


def test_log_prob_matches_scipy(fitted_mixed: GaussianMixture) -> None:
    x, _ = mixed_data(50, seed=7)
    p = fitted_mixed.params_
    direct = np.zeros((len(x), p.k))
    for k in range(p.k):
        direct[:, k] = (np.log(p.weights[k])
                        + stats.multivariate_normal(p.means[k], p.covs[k]).logpdf(x[:, [0, 2]])
                        + np.log(p.probs[k, x[:, 1].astype(int)]))
    np.testing.assert_allclose(fitted_mixed.log_prob(x), np.logaddexp.reduce(direct, axis=1),
                               rtol=1e-10, atol=1e-10)


def test_beats_single_gaussian_and_independent_held_out(fitted_mixed: GaussianMixture) -> None:
    train, _ = mixed_data(3000)
    test, _ = mixed_data(2000, seed=1)
    cont = train[:, [0, 2]]
    gauss = stats.multivariate_normal(cont.mean(axis=0), np.cov(cont.T)).logpdf(test[:, [0, 2]])
    freq = np.bincount(train[:, 1].astype(int), minlength=3) / len(train)
    baseline = (gauss + np.log(freq[test[:, 1].astype(int)])).mean()
    one = GaussianMixture(n_components=1).fit(train, seed=0, schema=MIXED).log_prob(test).mean()
    ours = fitted_mixed.log_prob(test).mean()
    assert one == pytest.approx(baseline, abs=0.01)  # K=1 is that Gaussian x independent model
    assert ours > baseline + 0.5


def test_latent_class_beats_independent_held_out() -> None:
    x, schema, _ = latent_class_data(3000)
    test, _, _ = latent_class_data(2000, seed=1)
    ours = CategoricalMixture().fit(x, seed=0, schema=schema).log_prob(test).mean()
    indep = CategoricalMixture(n_components=1).fit(x, seed=0, schema=schema).log_prob(test).mean()
    assert ours > indep + 0.1
    # log-masses of every full configuration sum to 1
    grid = np.array(np.meshgrid(*[np.arange(f.levels) for f in schema.fields])).reshape(5, -1).T
    m = CategoricalMixture(n_components=2).fit(x, seed=0, schema=schema)
    assert np.exp(m.log_prob(grid.astype(float))).sum() == pytest.approx(1.0, abs=1e-12)


# ------------------------------------------------------------------ conditioning
def test_condition_on_tied_discrete_gives_its_component() -> None:
    rng = np.random.default_rng(3)
    z = rng.integers(2, size=2000)
    x = np.column_stack([rng.normal(np.where(z == 1, 5.0, -5.0), 1.0), z.astype(float)])
    schema = Schema((Field("v", "continuous"), Field("z", "discrete", 2)))
    m = GaussianMixture(n_components=2, alpha=1e-6).fit(x, seed=0, schema=schema)
    s = m.sample(4000, seed=1, condition={1: 1})
    assert s.shape == (4000, 2)
    assert (s[:, 1] == 1).all()
    assert (s[:, 0] > 0).all()
    assert s[:, 0].mean() == pytest.approx(5.0, abs=0.1)


def test_condition_on_continuous_matches_analytic_posterior(fitted_mixed: GaussianMixture) -> None:
    p, v = fitted_mixed.params_, -1.5
    lik = np.array([p.weights[k] * stats.norm(p.means[k, 0], np.sqrt(p.covs[k, 0, 0])).pdf(v)
                    for k in range(p.k)])
    post = lik / lik.sum()
    np.testing.assert_allclose(fitted_mixed._posterior({0: v}), post, rtol=1e-10)
    n = 20_000
    s = fitted_mixed.sample(n, seed=2, condition={0: v})
    assert s.shape == (n, 3) and (s[:, 0] == v).all()
    # the discrete field's law: sum_k post_k probs_k ; and E[b | a = v] analytic
    want_c = post @ p.probs
    got_c = np.bincount(s[:, 1].astype(int), minlength=3) / n
    assert np.abs(got_c - want_c).max() < 4 * np.sqrt(0.25 / n)
    cond_means = p.means[:, 1] + p.covs[:, 1, 0] / p.covs[:, 0, 0] * (v - p.means[:, 0])
    cond_vars = p.covs[:, 1, 1] - p.covs[:, 1, 0] ** 2 / p.covs[:, 0, 0]
    want_mean = post @ cond_means
    sd = np.sqrt(post @ (cond_vars + cond_means**2) - want_mean**2)
    assert s[:, 2].mean() == pytest.approx(want_mean, abs=4 * sd / np.sqrt(n))


def test_condition_on_mixed_evidence(fitted_mixed: GaussianMixture) -> None:
    p = fitted_mixed.params_
    lik = np.array([p.weights[k] * p.probs[k, 2] * stats.multivariate_normal(
        p.means[k], p.covs[k]).pdf([3.5, -2.0]) for k in range(p.k)])
    np.testing.assert_allclose(fitted_mixed._posterior({0: 3.5, 1: 2, 2: -2.0}),
                               lik / lik.sum(), rtol=1e-9)
    s = fitted_mixed.sample(7, seed=0, condition={0: 3.5, 1: 2, 2: -2.0})
    np.testing.assert_array_equal(s, np.tile([3.5, 2.0, -2.0], (7, 1)))


def test_latent_class_conditional_law() -> None:
    x, schema, _ = latent_class_data(3000)
    m = CategoricalMixture(n_components=2).fit(x, seed=0, schema=schema)
    p, n = m.params_, 20_000
    post = p.weights * p.probs[:, 1]  # field 0 has levels at columns 0..1 of probs
    post /= post.sum()
    s = m.sample(n, seed=3, condition={0: 1})
    assert (s[:, 0] == 1).all()
    want = post @ p.probs[:, 2:5]  # field 1 (3 levels)
    got = np.bincount(s[:, 1].astype(int), minlength=3) / n
    assert np.abs(got - want).max() < 4 * np.sqrt(0.25 / n)


def test_unconditional_moments_match_the_model(fitted_mixed: GaussianMixture) -> None:
    p, n = fitted_mixed.params_, 40_000
    s = fitted_mixed.sample(n, seed=5)
    mean = p.weights @ p.means
    cov = np.einsum("k,kij->ij", p.weights, p.covs + np.einsum("ki,kj->kij", p.means, p.means))
    cov -= np.outer(mean, mean)
    assert (np.abs(s[:, [0, 2]].mean(axis=0) - mean) < 4 * np.sqrt(cov.diagonal() / n)).all()
    np.testing.assert_allclose(np.cov(s[:, [0, 2]].T), cov, rtol=0.05, atol=0.05)
    freq = np.bincount(s[:, 1].astype(int), minlength=3) / n
    assert np.abs(freq - p.weights @ p.probs).max() < 4 * np.sqrt(0.25 / n)
    assert set(np.unique(s[:, 1])) == {0.0, 1.0, 2.0}


# ------------------------------------------------------------------ persistence, seeds
def test_save_load_round_trip_is_bitwise(fitted_mixed: GaussianMixture) -> None:
    blob = st_save(fitted_mixed.state())
    extra = json.loads(json.dumps(fitted_mixed.extra()))
    fresh = GaussianMixture(max_components=5)
    fresh.schema_ = Schema.from_json(json.loads(json.dumps(MIXED.to_json())))
    fresh.load_state(st_load(blob), extra)
    x, _ = mixed_data(100, seed=9)
    assert np.array_equal(fresh.log_prob(x), fitted_mixed.log_prob(x))
    assert np.array_equal(fresh.sample(50, seed=4), fitted_mixed.sample(50, seed=4))
    cond = {0: 0.3, 1: 1}
    assert np.array_equal(fresh.sample(50, seed=4, condition=cond),
                          fitted_mixed.sample(50, seed=4, condition=cond))
    assert fresh.bic_ == fitted_mixed.bic_ and fresh.aic_ == fitted_mixed.aic_


def test_load_state_rejects_wrong_shapes(fitted_mixed: GaussianMixture) -> None:
    state = fitted_mixed.state()
    state["probs"] = state["probs"][:, :2]
    fresh = GaussianMixture()
    fresh.schema_ = MIXED
    with pytest.raises(ValueError, match="probs"):
        fresh.load_state(state, fitted_mixed.extra())


def test_same_seed_same_bits() -> None:
    x, _ = mixed_data(6000)  # more rows than `subsample`: the subsample path is covered too
    a = GaussianMixture(max_components=4, n_init=2, subsample=1000).fit(x, seed=11, schema=MIXED)
    b = GaussianMixture(max_components=4, n_init=2, subsample=1000).fit(x, seed=11, schema=MIXED)
    for key, arr in a.state().items():
        assert np.array_equal(arr, b.state()[key]), key
    assert np.array_equal(a.sample(100, seed=1), b.sample(100, seed=1))
    assert not np.array_equal(a.sample(100, seed=1), a.sample(100, seed=2))


def test_only_continuous_and_only_discrete() -> None:
    x, _ = mixed_data(1500)
    cont = GaussianMixture(max_components=4).fit(x[:, [0, 2]], seed=0)
    assert cont.params_.k == 3 and cont.sample(10, seed=0, condition={1: 0.5}).shape == (10, 2)
    disc = Schema((Field("c", "discrete", 3),))
    only = GaussianMixture(n_components=2).fit(x[:, [1]], seed=0, schema=disc)
    grid = np.arange(3.0)[:, None]
    assert np.exp(only.log_prob(grid)).sum() == pytest.approx(1.0, abs=1e-12)


def test_budget_stops_early_but_fits() -> None:
    x, _ = mixed_data(1000)
    m = GaussianMixture(max_components=8).fit(x, seed=0, schema=MIXED, budget=1e-9)
    assert list(m.bic_) == [1] and np.isfinite(m.log_prob(x)).all()


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("name", "value"), [
    ("n_components", -1), ("n_components", 2.5), ("max_components", 0), ("alpha", 0.0),
    ("alpha", -1.0), ("reg_covar", 0.0), ("n_init", 0), ("max_iter", 0), ("tol", -1e-3),
    ("subsample", 1), ("n_components", True), ("criterion", "loo"),
])
def test_invalid_hyperparameters(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        GaussianMixture(**{name: value})


def test_invalid_fit_arguments() -> None:
    x, _ = mixed_data(20)
    with pytest.raises(ValueError, match="n_components"):
        GaussianMixture(n_components=30).fit(x, seed=0, schema=MIXED)
    with pytest.raises(ValueError, match="n_components"):
        GaussianMixture(n_components=10, subsample=5).fit(x, seed=0, schema=MIXED)
    with pytest.raises(ValueError, match="budget"):
        GaussianMixture().fit(x, seed=0, schema=MIXED, budget=-1)
    with pytest.raises(ValueError, match="reg_covar"):
        CategoricalMixture(reg_covar=1e-3)
    with pytest.raises(ValueError, match="discrete fields only"):
        CategoricalMixture().fit(x, seed=0, schema=MIXED)
