"""The ``flow`` model: exact likelihood that integrates to one, beats a Gaussian on
two-moons, dequantized discrete fields, native conditioning on context fields,
stability on heavy-tailed and near-constant columns, save/load and determinism."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import make_moons

import genmodels as gm
from genmodels.models import Field, Schema, make_model

SMALL = {"hidden": 32, "n_layers": 3, "depth": 2, "val_fraction": 0.0}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def moons(n: int, seed: int) -> np.ndarray:
    return make_moons(n, noise=0.08, random_state=seed)[0]


def mixture_data(n: int, seed: int) -> tuple[np.ndarray, Schema]:
    """``c`` in {0, 1, 2} with p = (.2, .5, .3); ``x | c ~ N(mu_c, 0.5^2)``, mu = (-3, 0, 3)."""
    rng = np.random.default_rng(seed)
    c = rng.choice(3, size=n, p=[0.2, 0.5, 0.3])
    x = np.array([-3.0, 0.0, 3.0])[c] + 0.5 * rng.standard_normal(n)
    return np.c_[x, c], Schema((Field("x", "continuous"), Field("c", "discrete", 3)))


def mixture_log_prob(data: np.ndarray) -> np.ndarray:
    p = np.array([0.2, 0.5, 0.3])[data[:, 1].astype(int)]
    mu = np.array([-3.0, 0.0, 3.0])[data[:, 1].astype(int)]
    return np.log(p) + stats.norm.logpdf(data[:, 0], mu, 0.5)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["realnvp", "maf", "nsf", "nsf_ar"])
def test_density_integrates_to_one_on_a_grid_after_a_short_fit(kind):
    model = make_model("flow", kind=kind, epochs=8, bins=6, **SMALL).fit(moons(1000, 0), seed=0)
    g1, g2 = np.linspace(-6, 7, 521), np.linspace(-6, 6, 481)
    xx, yy = np.meshgrid(g1, g2, indexing="ij")
    dens = np.exp(model.log_prob(np.c_[xx.ravel(), yy.ravel()])).reshape(xx.shape)
    mass = np.trapezoid(np.trapezoid(dens, g2, axis=1), g1)
    assert abs(mass - 1.0) < 0.02, mass


@pytest.mark.slow
def test_beats_a_gaussian_on_two_moons_test_nll():
    train, test = moons(2000, 0), moons(2000, 1)
    flow = make_model("flow", kind="nsf", epochs=40, hidden=64, n_layers=4, val_fraction=0.0)
    flow.fit(train, seed=0)
    gauss = make_model("gaussian").fit(train, seed=0)
    nll_flow, nll_gauss = -flow.log_prob(test).mean(), -gauss.log_prob(test).mean()
    assert nll_flow < nll_gauss - 0.6, (nll_flow, nll_gauss)  # about 1.9 vs < 1.0
    out = flow.sample(2000, seed=3)
    # samples lie on the moons: most are close to a training point
    d = np.min(np.linalg.norm(out[:500, None, :] - train[None, :, :], axis=2), axis=1)
    assert np.median(d) < 0.08


def test_same_seed_same_bits_other_seed_other_weights():
    data = moons(300, 0)
    a = make_model("flow", epochs=2, **SMALL).fit(data, seed=4)
    b = make_model("flow", epochs=2, **SMALL).fit(data, seed=4)
    c = make_model("flow", epochs=2, **SMALL).fit(data, seed=5)
    for k, v in a.state().items():
        assert np.array_equal(v, b.state()[k]), k
    assert any(not np.array_equal(v, c.state()[k]) for k, v in a.state().items())
    np.testing.assert_array_equal(a.sample(50, seed=1), b.sample(50, seed=1))
    assert not np.array_equal(a.sample(50, seed=1), a.sample(50, seed=2))


def test_save_load_is_bitwise(tmp_path):
    data, _ = mixture_data(400, 0)
    frame = {"x": data[:, 0], "c": np.array(["a", "b", "c"])[data[:, 1].astype(int)]}
    import pandas as pd

    frame = pd.DataFrame(frame)
    gen = gm.Generator("flow", kind="nsf_ar", epochs=2, condition_columns=["c"], **SMALL)
    gen.fit(frame, seed=0)
    back = gm.load(gen.save(tmp_path / "flow"))
    pd.testing.assert_frame_equal(gen.sample(40, seed=2), back.sample(40, seed=2))
    pd.testing.assert_frame_equal(gen.sample(9, seed=2, condition={"c": "b"}),
                                  back.sample(9, seed=2, condition={"c": "b"}))
    np.testing.assert_array_equal(gen.log_prob(frame), back.log_prob(frame))


def test_log_prob_of_a_row_does_not_depend_on_the_batch():
    data, schema = mixture_data(300, 1)
    model = make_model("flow", epochs=2, **SMALL).fit(data, seed=0, schema=schema)
    full = model.log_prob(data)
    np.testing.assert_allclose(model.log_prob(data[7:9]), full[7:9], rtol=1e-6)


@pytest.mark.slow
def test_conditional_flow_is_exact_and_native_on_a_discrete_context():
    data, schema = mixture_data(3000, 0)
    model = make_model("flow", kind="nsf", epochs=25, condition_columns=["c"], **SMALL)
    model.fit(data, seed=0, schema=schema)
    assert model.log_prob_is_exact and model.extra()["log_prob"] == "exact"
    out = model.sample(2000, seed=1, condition={1: 2.0})
    assert out.shape == (2000, 2) and (out[:, 1] == 2).all()
    assert abs(out[:, 0].mean() - 3.0) < 0.1 and abs(out[:, 0].std() - 0.5) < 0.1
    free = model.sample(4000, seed=2)
    freq = np.bincount(free[:, 1].astype(int), minlength=3) / 4000
    np.testing.assert_allclose(freq, [0.2, 0.5, 0.3], atol=0.03)
    test, _ = mixture_data(2000, 9)
    gap = mixture_log_prob(test).mean() - model.log_prob(test).mean()
    assert -0.02 < gap < 0.1, gap  # the true density is the best one can do


@pytest.mark.slow
def test_dequantized_discrete_field_gives_a_lower_bound_of_its_mass():
    data, schema = mixture_data(3000, 0)
    model = make_model("flow", kind="nsf", epochs=25, lr=3e-3, **SMALL)
    model.fit(data, seed=0, schema=schema)
    assert not model.log_prob_is_exact
    assert model.extra()["log_prob"] == "dequantization bound"
    test, _ = mixture_data(2000, 9)
    lp = model.log_prob(test)
    assert np.isfinite(lp).all()
    gap = mixture_log_prob(test).mean() - lp.mean()
    assert 0.0 < gap < 0.3, gap  # a bound: below the truth, but not far
    freq = np.bincount(model.sample(4000, seed=2)[:, 1].astype(int), minlength=3) / 4000
    np.testing.assert_allclose(freq, [0.2, 0.5, 0.3], atol=0.05)


def test_discrete_only_masses_sum_to_at_most_one():
    rng = np.random.default_rng(0)
    data = rng.choice(4, size=(500, 1), p=[0.1, 0.2, 0.3, 0.4]).astype(float)
    model = make_model("flow", kind="nsf", epochs=30, lr=3e-3, **SMALL)
    model.fit(data, seed=0, schema=Schema((Field("k", "discrete", 4),)))
    mass = np.exp(model.log_prob(np.arange(4.0)[:, None]))
    assert 0.85 < mass.sum() <= 1.0 + 1e-3, mass  # each term bounds its level's mass
    np.testing.assert_allclose(mass, [0.1, 0.2, 0.3, 0.4], atol=0.06)


@pytest.mark.slow
def test_conditions_natively_on_a_continuous_context_field():
    rng = np.random.default_rng(0)
    a = rng.normal(size=3000)
    data = np.c_[a, a**2 + 0.2 * rng.normal(size=3000)]
    model = make_model("flow", kind="nsf", epochs=40, lr=3e-3, condition_columns=["x0"],
                       **SMALL)
    model.fit(data, seed=0)
    out = model.sample(1000, seed=1, condition={0: 1.5})
    assert (out[:, 0] == 1.5).all()
    assert abs(out[:, 1].mean() - 2.25) < 0.1 and abs(out[:, 1].std() - 0.2) < 0.06
    free = model.sample(3000, seed=2)
    assert abs(free[:, 0].std() - 1.0) < 0.1
    assert np.isfinite(model.log_prob(data[:100])).all()


@pytest.mark.slow
def test_continuous_condition_outside_the_context_by_importance_resampling():
    """x1 | x0 = 1 of a bivariate normal with correlation 0.8 is N(0.8, 0.6^2)."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4000, 2))
    data = np.c_[z[:, 0], 0.8 * z[:, 0] + 0.6 * z[:, 1]]
    model = make_model("flow", kind="nsf", epochs=15, lr=3e-3, **SMALL).fit(data, seed=0)
    out = model.sample(1000, seed=1, condition={0: 1.0})
    assert out.shape == (1000, 2) and (out[:, 0] == 1.0).all()
    assert abs(out[:, 1].mean() - 0.8) < 0.08 and abs(out[:, 1].std() - 0.6) < 0.08
    np.testing.assert_array_equal(out, model.sample(1000, seed=1, condition={0: 1.0}))


def test_continuous_condition_gives_n_rows_or_an_error_naming_the_field():
    from genmodels.models._flow_condition import importance_resample

    model = make_model("flow", epochs=2, **SMALL).fit(moons(300, 0), seed=0)
    out = model.sample(5, seed=0, condition={1: 0.25})
    assert out.shape == (5, 2) and (out[:, 1] == 0.25).all()
    far = model.sample(5, seed=0, condition={1: 1e4})  # the flow's tail: still defined
    assert np.isfinite(far).all() and (far[:, 1] == 1e4).all()
    with pytest.raises(ValueError, match="'x1'.*too improbable"):  # a degenerate proposal
        importance_resample(model, 5, np.random.default_rng(0), {1: 0.25}, min_ess=1e9)


def test_rejection_meets_a_condition_on_a_non_context_discrete_field():
    data, schema = mixture_data(600, 0)
    model = make_model("flow", epochs=3, **SMALL).fit(data, seed=0, schema=schema)
    out = model.sample(30, seed=0, condition={1: 1.0})
    assert out.shape == (30, 2) and (out[:, 1] == 1).all()


@pytest.mark.parametrize("bad", [["nope"], [7]])
def test_unknown_condition_columns_are_named(bad):
    with pytest.raises(ValueError, match="condition_columns"):
        make_model("flow", epochs=1, condition_columns=bad, **SMALL).fit(moons(50, 0), seed=0)


def test_every_column_as_context_is_refused():
    with pytest.raises(ValueError, match="every column"):
        make_model("flow", epochs=1, condition_columns=["x0", "x1"]).fit(moons(50, 0), seed=0)


@pytest.mark.parametrize("key,value", [("kind", "glow"), ("bins", 1), ("lu", "yes"),
                                       ("condition_columns", "c"), ("tail_bound", -1.0)])
def test_bad_hyperparameters_are_named(key, value):
    with pytest.raises(ValueError, match=key):
        make_model("flow", **{key: value})


@pytest.mark.parametrize("kind", ["realnvp", "maf", "nsf", "nsf_ar"])
def test_stable_on_heavy_tailed_and_near_constant_columns(kind):
    rng = np.random.default_rng(0)
    n = 600
    heavy = stats.t.rvs(1.5, size=n, random_state=1) * 10.0
    tiny = 1.0 + 1e-8 * rng.standard_normal(n)  # std 1e-8 of its level
    constant = np.full(n, 5.0)
    data = np.c_[heavy, tiny, rng.standard_normal(n), constant]
    model = make_model("flow", kind=kind, epochs=6, lr=3e-3, **SMALL).fit(data, seed=0)
    lp = model.log_prob(data)
    assert np.isfinite(lp).all()
    far = np.c_[[1e6, -1e6], [1.0, 1.0], [0.0, 0.0], [5.0, 5.0]]
    assert np.isfinite(model.log_prob(far)).all()
    out = model.sample(2000, seed=1)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[:, 3], 5.0, rtol=1e-9)
    spread = out[:, 1].std()
    assert 1e-9 < spread < 1e-7, spread  # the tiny column keeps its scale
    q = np.quantile(out[:, 0], [0.25, 0.5, 0.75])
    q_data = np.quantile(heavy, [0.25, 0.5, 0.75])
    assert abs(q[1] - q_data[1]) < 0.5 * (q_data[2] - q_data[0])  # the bulk is where it was


def test_budget_stops_training_cleanly():
    model = make_model("flow", epochs=10_000, **SMALL)
    model.fit(moons(500, 0), seed=0, budget=1.0)
    assert model.train_result_.stopped == "budget"
    assert np.isfinite(model.log_prob(moons(50, 1))).all()


@pytest.mark.parametrize("columns", [["x0"], ["c"], []])
def test_state_and_extra_rebuild_the_model_on_a_fresh_instance(columns):
    import json

    rng = np.random.default_rng(0)
    data = np.c_[rng.normal(size=300), rng.normal(size=300), rng.integers(3, size=300)]
    schema = Schema((Field("x0", "continuous"), Field("x1", "continuous"),
                     Field("c", "discrete", 3)))
    model = make_model("flow", epochs=1, condition_columns=columns, **SMALL)
    model.fit(data, seed=0, schema=schema)
    fresh = make_model("flow", epochs=1, condition_columns=columns, **SMALL)
    fresh.schema_ = schema
    fresh.load_state({k: np.array(v) for k, v in model.state().items()},
                     json.loads(json.dumps(model.extra())))
    np.testing.assert_array_equal(model.sample(30, seed=3), fresh.sample(30, seed=3))
    np.testing.assert_array_equal(model.log_prob(data), fresh.log_prob(data))
    cond = {2: 1.0}
    np.testing.assert_array_equal(model.sample(8, seed=3, condition=cond),
                                  fresh.sample(8, seed=3, condition=cond))
