"""The ``vae``: bounds that must hold, learning that must happen, conditioning, bits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import multivariate_normal

import genmodels as gm
from genmodels.models import registry
from genmodels.models._cond_table import ConditionTable
from genmodels.models.base import Schema
from tests.conftest import make_mixed_frame

VAE = registry()["vae"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def correlated(n: int, seed: int, rho: float = 0.9) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]], size=n)


def exact_linear_log_prob(model, x: np.ndarray) -> np.ndarray:
    """A VAE with no hidden layer has a linear-Gaussian decoder: p(x) is N(b, WW' + S)."""
    (lin,) = [m for m in model.net_.decoder.modules() if isinstance(m, torch.nn.Linear)]
    w, b = lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy()
    s2 = model.net_.sigma().detach().double().numpy() ** 2
    return multivariate_normal(b, w @ w.T + np.diag(s2)).logpdf(x)


def test_elbo_below_iwae_below_exact_and_iwae_tightens_with_k():
    x = correlated(400, 0)
    model = VAE(hidden=[], latent_dim=2, epochs=15, batch_size=50).fit(x, seed=0)
    exact = exact_linear_log_prob(model, x).mean()
    elbo = model.elbo(x).mean()
    iwae = {k: model.iwae(x, k=k).mean() for k in (1, 8, 128)}
    assert elbo < exact - 0.01  # a strict bound: q is not the true posterior
    assert abs(iwae[1] - elbo) < 0.3  # k=1 IWAE is a one-draw ELBO (noisier)
    assert elbo <= iwae[8] <= iwae[128] <= exact + 0.02
    assert exact - iwae[128] < 0.5 * (exact - elbo)
    assert np.allclose(model.log_prob(x), model.iwae(x, k=64))


@pytest.mark.slow
def test_beats_independent_and_reproduces_the_correlation():
    train, test = correlated(2000, 1), correlated(1000, 2)
    vae = VAE(epochs=60, batch_size=100, hidden=[64, 64], latent_dim=4).fit(train, seed=0)
    indep = registry()["independent"]().fit(train, seed=0)
    ll_vae, ll_ind = vae.log_prob(test).mean(), indep.log_prob(test).mean()
    true = multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]]).logpdf(test).mean()
    assert ll_vae > ll_ind + 0.4, (ll_vae, ll_ind)
    assert ll_vae < true + 0.1  # cannot beat the truth by more than noise
    synth = vae.sample(4000, seed=3)
    assert np.corrcoef(synth.T)[0, 1] > 0.8
    assert np.allclose(synth.std(0), 1.0, atol=0.2)
    hist = vae.train_result_.history
    assert hist[-1]["loss"] < hist[0]["loss"] - 0.5


def test_elbo_improves_from_init_on_mixed_data():
    frame = make_mixed_frame()
    gen = gm.Generator("vae", epochs=40).fit(frame, seed=0)
    hist = gen.model.train_result_.history
    assert hist[-1]["loss"] < 0.88 * hist[0]["loss"]
    x = gen.codec.encode(frame)
    assert gen.model.iwae(x).mean() >= gen.model.elbo(x).mean()
    assert gen.metrics_["training"]["steps"] == gen.model.train_result_.steps


def test_beta_trades_kl_for_reconstruction():
    x = correlated(400, 4)
    kl = {}
    for beta in (1.0, 20.0):
        m = VAE(beta=beta, epochs=15, batch_size=50, hidden=[32]).fit(x, seed=0)
        kl[beta] = m.train_result_.history[-1]["kl"]
    assert kl[20.0] < 0.5 * kl[1.0]


def test_same_seed_same_bits_and_save_load_round_trip(tmp_path):
    frame = make_mixed_frame()
    a = gm.Generator("vae", epochs=3, condition_columns=["cat"]).fit(frame, seed=5)
    b = gm.Generator("vae", epochs=3, condition_columns=["cat"]).fit(frame, seed=5)
    sa, sb = a.model.state(), b.model.state()
    assert sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)
    pd.testing.assert_frame_equal(a.sample(50, seed=1), b.sample(50, seed=1))
    c = gm.Generator("vae", epochs=3, condition_columns=["cat"]).fit(frame, seed=6)
    assert not np.array_equal(sa["net.log_sigma"], c.model.state()["net.log_sigma"])

    back = gm.load(a.save(tmp_path / "vae"))
    sl = back.model.state()
    assert all(np.array_equal(sa[k], sl[k]) and sa[k].dtype == sl[k].dtype for k in sa)
    pd.testing.assert_frame_equal(a.sample(64, seed=2), back.sample(64, seed=2))
    x = a.codec.encode(frame)
    assert np.array_equal(a.model.log_prob(x), back.model.log_prob(x))


@pytest.fixture(scope="module")
def cvae() -> gm.Generator:
    torch.set_num_threads(1)
    return gm.Generator("vae", epochs=40, batch_size=30, condition_columns=["cat"]).fit(make_mixed_frame(), seed=0)


def test_native_condition_gives_exact_n_and_the_right_conditional(cvae):
    frame = make_mixed_frame()
    for level, sign in (("high", 1), ("low", -1)):
        synth = cvae.sample(157, seed=1, condition={"cat": level})
        assert len(synth) == 157 and (synth["cat"] == level).all()
        real = frame.loc[frame["cat"] == level, "x"].mean()
        assert abs(synth["x"].mean() - real) < 0.6
        assert sign * (synth["x"].mean() - frame["x"].mean()) > 1.0


def test_other_discrete_conditions_by_rejection_and_mixed(cvae):
    synth = cvae.sample(33, seed=2, condition={"flag": True})
    assert len(synth) == 33 and synth["flag"].all()
    both = cvae.sample(21, seed=3, condition={"flag": False, "cat": "mid"})
    assert len(both) == 21 and (~both["flag"]).all() and (both["cat"] == "mid").all()


def test_continuous_condition_by_importance_resampling(cvae):
    frame = make_mixed_frame()
    high = cvae.sample(300, seed=5, condition={"x": 12.5})
    low = cvae.sample(300, seed=5, condition={"x": 7.5})
    assert len(high) == 300 and (high["x"] == 12.5).all() and (low["x"] == 7.5).all()
    assert (high["cat"] == "high").mean() > 0.7 and (low["cat"] == "low").mean() > 0.7
    slope = np.polyfit(frame.dropna()["x"], frame.dropna()["y"], 1)[0]  # y ~ 2x
    assert abs((high["y"].mean() - low["y"].mean()) / 5.0 - slope) < 0.6
    both = cvae.sample(40, seed=6, condition={"x": 11.0, "cat": "high", "flag": True})
    assert len(both) == 40 and (both["x"] == 11.0).all() and both["flag"].all()
    with pytest.raises(ValueError, match="too improbable"):
        cvae.model.sample(5, seed=0, condition={0: 1e4})


def test_unconditional_cvae_draws_the_condition_from_its_frequencies(cvae):
    frame = make_mixed_frame()
    synth = cvae.sample(3000, seed=4)
    real = frame["cat"].value_counts(normalize=True)
    got = synth["cat"].value_counts(normalize=True).reindex(real.index)
    assert (got - real).abs().max() < 0.04


def test_bad_condition_columns_and_params():
    x = make_mixed_frame()
    with pytest.raises(ValueError, match="condition_columns.*'x'.*allowed"):
        gm.Generator("vae", epochs=1, condition_columns=["x"]).fit(x, seed=0)
    with pytest.raises(ValueError, match="hidden"):
        VAE(hidden=[0])
    with pytest.raises(ValueError, match="iwae_k"):
        VAE(iwae_k=0)
    m = VAE(epochs=1).fit(correlated(50, 0), seed=0)
    with pytest.raises(ValueError, match="k: got"):
        m.elbo(correlated(5, 0), k=0)


def test_condition_table_is_a_distribution_with_exact_conditionals():
    rng = np.random.default_rng(0)
    codes = np.stack([rng.integers(0, 3, 500), rng.integers(0, 2, 500)], axis=1)
    codes[codes[:, 0] == 2, 1] = 0  # (2, 1) never seen
    table = ConditionTable.fit(codes, [3, 2])
    every = np.array([[a, b] for a in range(3) for b in range(2)])
    mass = np.exp(table.log_prob(every))
    assert abs(mass.sum() - 1.0) < 1e-12 and mass[5] > 0
    draws = table.sample(200_000, rng)
    freq = np.array([np.mean((draws == row).all(1)) for row in every])
    assert np.abs(freq - mass).max() < 0.005
    given = table.sample(100_000, rng, {0: 2})
    assert (given[:, 0] == 2).all()
    p1 = mass[5] / (mass[4] + mass[5])
    assert abs(given[:, 1].mean() - p1) < 0.003
    back = ConditionTable([3, 2], table.combos, table.counts, table.n)
    assert np.array_equal(back.log_prob(every), table.log_prob(every))


def test_schema_with_only_discrete_or_only_continuous_fields():
    rng = np.random.default_rng(0)
    disc = np.stack([rng.integers(0, 4, 300), rng.integers(0, 2, 300)], 1).astype(float)
    schema = Schema.from_json([{"name": "a", "kind": "discrete", "levels": 4},
                               {"name": "b", "kind": "discrete", "levels": 2}])
    m = VAE(epochs=5).fit(disc, seed=0, schema=schema)
    s = m.sample(100, seed=0)
    assert set(np.unique(s[:, 0])) <= {0, 1, 2, 3} and set(np.unique(s[:, 1])) <= {0, 1}
    lp = m.log_prob(disc[:20])
    assert np.all(lp <= 1e-6)  # a probability mass: log <= 0


def test_generator_passes_run_options_and_refuses_unknown_ones():
    frame = make_mixed_frame()
    gen = gm.Generator("vae", epochs=2).fit(frame, seed=0, run={"device": "cpu", "threads": 1})
    assert gen.fit_info_["run"]["device"] == "cpu" and gen.fit_info_["run"]["threads"] == 1
    assert len(gen.metrics_["training"]["history"]["loss"]) == 2
    with pytest.raises(ValueError, match="run: unknown option 'gpus'"):
        gm.Generator("vae", epochs=2).fit(frame, seed=0, run={"gpus": 2})
    with pytest.raises(ValueError, match="device"):
        gm.Generator("vae", epochs=2).fit(frame, seed=0, run={"device": "tpu"})
