"""The contract, checked over every registered model (DESIGN.md: one suite for all).

A new family is covered by registering it: nothing here names a model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import genmodels as gm
from genmodels.models import registry
from tests.conftest import make_mixed_frame

MODELS = sorted(n for n, cls in registry().items() if "table" in cls.capabilities.modalities)
FAST = {"gmm": {"max_components": 3}, "categorical_mixture": {"max_components": 3},
        "vae": {"epochs": 60, "batch_size": 30, "hidden": [64, 64], "latent_dim": 16},
        "flow": {"epochs": 30, "hidden": 64},
        "gan": {"epochs": 60, "batch_size": 30, "lr": 1e-3, "pac": 1, "ema": 0.99,
                "g_width": 64, "d_width": 64, "noise_dim": 32, "diag_every": 0}}


def fitted(name: str, data=None, seed: int = 0) -> gm.Generator:
    data = make_mixed_frame() if data is None else data
    return gm.Generator(name, **FAST.get(name, {})).fit(data, seed=seed)


@pytest.fixture(scope="module", params=MODELS)
def gen(request) -> gm.Generator:
    return fitted(request.param)


def test_registry_is_not_empty():
    assert {"independent", "gaussian", "bayes_gaussian", "gmm", "copula", "bayesnet",
            "categorical_mixture"} <= set(MODELS)


def test_samples_have_the_columns_dtypes_and_support(gen, mixed_frame):
    synth = gen.sample(400, seed=1)
    assert isinstance(synth, pd.DataFrame) and len(synth) == 400
    assert list(synth.columns) == list(mixed_frame.columns)
    assert set(synth["cat"].dropna()) <= set(mixed_frame["cat"])
    assert synth["flag"].dropna().isin([True, False]).all()
    counts = synth["count"].dropna()
    assert (counts == counts.round()).all()
    assert str(synth["count"].dtype) in ("int64", "Int64")
    for col in ("x", "y", "count"):
        lo, hi = mixed_frame[col].min(), mixed_frame[col].max()
        assert synth[col].dropna().between(lo, hi).all(), col
    assert synth["x"].notna().all() and synth["cat"].notna().all()


def test_marginals_are_close_to_the_data(gen, mixed_frame):
    """A broken sampler (wrong frequencies, lost missing values) fails this."""
    synth = gen.sample(2000, seed=2)
    real_freq = mixed_frame["cat"].value_counts(normalize=True)
    synth_freq = synth["cat"].value_counts(normalize=True).reindex(real_freq.index).fillna(0)
    assert 0.5 * np.abs(real_freq - synth_freq).sum() < 0.12
    assert abs(synth["y"].isna().mean() - mixed_frame["y"].isna().mean()) < 0.05
    assert abs(synth["x"].mean() - mixed_frame["x"].mean()) < 0.4
    assert abs(synth["x"].std() - mixed_frame["x"].std()) < 0.5


def test_same_seed_same_bits_other_seed_other_rows(gen):
    a, b, c = gen.sample(50, seed=7), gen.sample(50, seed=7), gen.sample(50, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_fit_is_deterministic():
    for name in MODELS:
        a = fitted(name, seed=3).sample(30, seed=0)
        b = fitted(name, seed=3).sample(30, seed=0)
        pd.testing.assert_frame_equal(a, b, obj=name)


def test_save_load_gives_the_same_samples_and_log_prob(gen, tmp_path, mixed_frame):
    path = gen.save(tmp_path / "model")
    back = gm.load(path)
    pd.testing.assert_frame_equal(gen.sample(64, seed=5), back.sample(64, seed=5))
    pd.testing.assert_frame_equal(gen.sample(16, seed=5, condition={"cat": "low"}),
                                  back.sample(16, seed=5, condition={"cat": "low"}))
    if gen.codec.exact_units:
        np.testing.assert_array_equal(gen.log_prob(mixed_frame), back.log_prob(mixed_frame))


@pytest.mark.parametrize("value", ["low", "high"])
def test_conditional_sampling_gives_exactly_n_rows_meeting_it(gen, value):
    out = gen.sample(37, seed=3, condition={"cat": value})
    assert len(out) == 37 and (out["cat"] == value).all()


def test_conditional_sampling_moves_the_other_columns(gen, mixed_frame):
    """cat is tied to x: conditioning on 'high' must raise x's mean (not just relabel)."""
    high = gen.sample(500, seed=4, condition={"cat": "high"})["x"].mean()
    low = gen.sample(500, seed=4, condition={"cat": "low"})["x"].mean()
    if gen.model_name == "independent":
        assert abs(high - low) < 0.5       # the baseline keeps columns independent
    else:
        assert high - low > 1.5, (high, low)


def test_condition_on_a_numeric_value_is_exact(gen):
    out = gen.sample(20, seed=0, condition={"x": 10.5})
    assert len(out) == 20 and (out["x"] == 10.5).all()


def test_bad_conditions_name_the_problem(gen):
    with pytest.raises(ValueError, match="nope"):
        gen.sample(5, seed=0, condition={"nope": 1})
    with pytest.raises(ValueError, match="Dodo"):
        gen.sample(5, seed=0, condition={"cat": "Dodo"})


@pytest.mark.parametrize("n", [0, -3, 2.5, "10", True])
def test_bad_n_is_refused(gen, n):
    with pytest.raises(ValueError, match="n"):
        gen.sample(n, seed=0)


def test_log_prob_prefers_real_rows_to_shifted_ones(gen, mixed_frame):
    numeric = mixed_frame[["x", "y", "count"]].dropna().reset_index(drop=True)
    g = fitted(gen.model_name, numeric)
    real = g.log_prob(numeric)
    assert real.shape == (len(numeric),) and np.isfinite(real).all()
    shifted = numeric.assign(y=numeric["y"] - 4 * (numeric["x"] - numeric["x"].mean()))
    shifted["y"] = shifted["y"].clip(numeric["y"].min(), numeric["y"].max())
    if gen.model_name != "independent":  # breaks the x–y relation only
        assert g.log_prob(shifted).mean() < real.mean() - 0.5


def test_log_prob_needs_units_or_says_why(gen, mixed_frame):
    if gen.codec.exact_units:
        lp = gen.log_prob(mixed_frame)
        assert lp.shape == (len(mixed_frame),) and np.isfinite(lp).all()
    else:
        with pytest.raises(ValueError, match="log_prob"):
            gen.log_prob(mixed_frame)


def test_invalid_hyperparameters_name_the_parameter():
    for name in MODELS:
        cls = gm.models.get_model_class(name)
        with pytest.raises(ValueError, match="bogus_param"):
            gm.Generator(name, bogus_param=1)
        for param in cls.params:
            with pytest.raises(ValueError, match=param):
                gm.Generator(name, **{param: "not-a-valid-value"})


def test_arrays_in_arrays_out():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 2))
    data = np.c_[z[:, 0], z[:, 0] + 0.3 * z[:, 1]]
    for name in MODELS:
        g = fitted(name, data)
        out = g.sample(100, seed=0)
        assert isinstance(out, np.ndarray) and out.shape == (100, 2), name
        assert np.corrcoef(out.T)[0, 1] > (0.5 if name != "independent" else -0.3), name
