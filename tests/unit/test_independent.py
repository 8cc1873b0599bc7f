"""``independent``: histogram and smoothed-frequency marginals, the baseline."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save
from scipy import stats

from genmodels.models.base import Field, Schema
from genmodels.models.independent import MAX_AUTO_BINS, Independent, auto_bins

SCHEMA = Schema((Field("c", "continuous"), Field("d", "discrete", 4), Field("e", "continuous")))


def data(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.c_[rng.normal(size=n), rng.choice(4, size=n, p=[0.5, 0.3, 0.2, 0.0]),
                 rng.exponential(size=n)]


@pytest.fixture(scope="module")
def fitted() -> Independent:
    return Independent().fit(data(2000), seed=0, schema=SCHEMA)


def test_auto_bins_is_freedman_diaconis_capped() -> None:
    x = np.random.default_rng(0).normal(size=1000)
    q75, q25 = np.percentile(x, [75, 25])
    width = 2 * (q75 - q25) / 1000 ** (1 / 3)
    assert auto_bins(x) == int(np.ceil((x.max() - x.min()) / width))
    assert auto_bins(np.random.default_rng(0).normal(size=10**6)) == MAX_AUTO_BINS
    assert auto_bins(np.r_[np.zeros(100), 1.0, 2.0]) == int(np.ceil(np.log2(102))) + 1  # IQR 0
    assert auto_bins(np.ones(10)) == 1


def test_discrete_field_is_smoothed_frequencies(fitted) -> None:
    x = data(2000)
    counts = np.bincount(x[:, 1].astype(int), minlength=4)
    np.testing.assert_allclose(fitted.probs_[1], (counts + 0.5) / (2000 + 4 * 0.5))
    assert fitted.probs_[1][3] > 0  # unseen level: only the pseudo-count
    s = fitted.sample(50000, seed=1)
    assert set(np.unique(s[:, 1])) <= {0.0, 1.0, 2.0, 3.0}
    np.testing.assert_allclose(np.bincount(s[:, 1].astype(int), minlength=4) / 5e4,
                               fitted.probs_[1], atol=0.01)
    none = Independent(alpha=0.0).fit(x, seed=0, schema=SCHEMA)
    assert not np.any(none.sample(5000, seed=1)[:, 1] == 3)
    assert none.log_prob(np.array([[0.0, 3.0, 1.0]]))[0] == -np.inf


def test_log_prob_is_the_sum_of_the_histogram_and_level_terms(fitted) -> None:
    x = data(2000)
    row = np.array([[0.1, 2.0, 0.7]])
    terms = []
    for j in (0, 2):
        edges = np.linspace(x[:, j].min(), x[:, j].max(), fitted.edges_[j].size)
        counts = np.histogram(x[:, j], bins=edges)[0]
        b = np.searchsorted(edges, row[0, j]) - 1
        bins = edges.size - 1
        terms.append(np.log((counts[b] + 0.5 / bins) / (2000 + 1.5) / (edges[1] - edges[0])))
    expected = sum(terms) + np.log(fitted.probs_[1][2])
    assert fitted.log_prob(row)[0] == pytest.approx(expected, rel=1e-12)


def test_histogram_density_integrates_to_one_and_is_finite_outside(fitted) -> None:
    edges = fitted.edges_[0]
    width = edges[1] - edges[0]
    grid = np.unique(np.r_[np.linspace(edges[0] - 60 * width, edges[-1] + 60 * width, 200001), edges])
    mids = 0.5 * (grid[1:] + grid[:-1])
    dens = np.exp(fitted._log_histogram(0, mids))
    assert np.sum(dens * np.diff(grid)) == pytest.approx(1.0, abs=1e-4)
    just_out, far_out = edges[-1] + 0.1 * width, edges[-1] + 100.0
    inside = fitted._log_histogram(0, np.array([edges[-1] - 0.1 * width]))[0]
    near, far = fitted._log_histogram(0, np.array([just_out, far_out]))
    assert np.isfinite(far) and far < near < inside


def test_samples_reproduce_the_marginals(fitted) -> None:
    x = data(2000)
    s = fitted.sample(20000, seed=2)
    for j in (0, 2):
        assert stats.ks_2samp(x[:, j], s[:, j]).statistic < 0.03
    outside = (s[:, 0] < x[:, 0].min()) | (s[:, 0] > x[:, 0].max())
    assert 0 < outside.mean() < 0.003  # the tails hold 1 / (n + 1.5) of the mass


def test_beats_a_single_bin_on_held_out_data() -> None:
    x, test = data(2000), data(2000, seed=1)
    auto = Independent().fit(x, seed=0, schema=SCHEMA).log_prob(test).mean()
    one = Independent(bins=1).fit(x, seed=0, schema=SCHEMA).log_prob(test).mean()
    assert Independent(bins=7).fit(x, seed=0, schema=SCHEMA).edges_[0].size == 8
    assert auto > one + 0.5


def test_conditioning_fixes_columns_and_leaves_the_others_alone(fitted) -> None:
    s = fitted.sample(20000, seed=3, condition={1: 2, 2: 0.25})
    assert s.shape == (20000, 3)
    assert np.all(s[:, 1] == 2) and np.all(s[:, 2] == 0.25)
    free = fitted.sample(20000, seed=4)[:, 0]
    assert stats.ks_2samp(s[:, 0], free).pvalue > 1e-3
    none = Independent(alpha=0.0).fit(data(2000), seed=0, schema=SCHEMA)
    with pytest.raises(ValueError, match="'d'"):
        none.sample(3, seed=0, condition={1: 3})


def test_round_trip_and_seeds_are_bitwise(fitted) -> None:
    fresh = Independent(**fitted.config)
    fresh.schema_ = Schema.from_json(json.loads(json.dumps(SCHEMA.to_json())))
    fresh.load_state(st_load(st_save(fitted.state())), json.loads(json.dumps(fitted.extra())))
    test = data(100, seed=5)
    assert np.array_equal(fresh.log_prob(test), fitted.log_prob(test))
    for cond in (None, {1: 0}):
        a = fitted.sample(200, seed=7, condition=cond)
        assert np.array_equal(fresh.sample(200, seed=7, condition=cond), a)
        assert np.array_equal(fitted.sample(200, seed=7, condition=cond), a)
        assert not np.array_equal(fitted.sample(200, seed=8, condition=cond), a)


@pytest.mark.parametrize("bad", [{"bins": -1}, {"bins": 2.5}, {"alpha": -0.1}, {"alpha": "x"}])
def test_invalid_hyperparameters_are_named(bad) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Independent(**bad)


def test_load_state_names_a_bad_array(fitted) -> None:
    fresh = Independent()
    fresh.schema_ = SCHEMA
    state = fitted.state()
    state["field1.probs"] = state["field1.probs"][:3]
    with pytest.raises(ValueError, match="field1.probs"):
        fresh.load_state(state, {})
    state = fitted.state()
    del state["field2.weights"]
    with pytest.raises(ValueError, match="field2.weights"):
        fresh.load_state(state, {})
