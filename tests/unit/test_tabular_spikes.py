"""Spikes (point masses) of numeric columns in the tabular codec: detection, layout per
mode, exact round trips, likelihood units, conditions, serialization, and the spike
frequency reproduced by real models (the old codec smeared it, most of all in discrete
mode, where bayesnet made almost no exact zeros)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genmodels as gm
from genmodels.codecs.base import codec_from_json
from genmodels.codecs.tabular import TabularCodec
from genmodels.codecs.tabular_spikes import find_spikes

MODES = ["mixed", "discrete", "continuous"]


def _fit(df: pd.DataFrame, mode: str = "mixed", **kw) -> TabularCodec:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return TabularCodec(inputs=mode, **kw).fit(df, seed=0)


def zero_inflated(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """``gain``: 0 in ~80% of rows (more often when x is low), else a skewed amount;
    ``hours``: 40 in ~45% of rows, an interior spike; ``amt``: a cap at 99.0 and
    missing values; ``x`` continuous; ``grp`` categorical tied to ``gain == 0``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n)
    zero = rng.random(n) < np.where(x < 0, 0.9, 0.7)
    gain = np.where(zero, 0, np.round(rng.lognormal(8.0, 1.0, n))).astype(np.int64)
    hours = np.where(rng.random(n) < 0.45, 40, np.clip(np.round(rng.normal(38, 12, n)), 1, 99))
    amt = np.where(rng.random(n) < 0.15, 99.0, np.round(rng.normal(50, 15, n).clip(0, 98), 1))
    amt[rng.random(n) < 0.1] = np.nan
    grp = np.where(zero & (rng.random(n) < 0.8), "a", np.where(rng.random(n) < 0.5, "b", "c"))
    return pd.DataFrame({"gain": gain, "hours": hours.astype(np.int64), "amt": amt,
                         "x": np.round(x, 3), "grp": grp})


# ------------------------------------------------------------------ detection
def test_find_spikes_takes_values_that_stand_out() -> None:
    rng = np.random.default_rng(0)
    rest = rng.normal(100, 10, 900)
    obs = np.concatenate([np.zeros(600), np.full(150, 99.0), np.full(40, 150.0), rest])
    values, shares = find_spikes(obs, 0.05, 3)
    assert values.tolist() == [0.0, 99.0]  # 150.0 is only 2.4% of the rows
    assert np.allclose(shares, [600 / len(obs), 150 / len(obs)])
    assert find_spikes(obs, 0.02, 3)[0].tolist() == [0.0, 99.0, 150.0]
    beside = np.concatenate([obs, np.full(100, 0.5)])  # next to a larger spike: not one
    assert find_spikes(beside, 0.05, 3)[0].tolist() == [0.0, 99.0]
    assert find_spikes(obs, 0.05, 1)[0].tolist() == [0.0]  # the most frequent first
    assert find_spikes(obs, 0.05, 0)[0].size == 0


def test_find_spikes_leaves_smooth_uniform_and_few_valued_columns_alone() -> None:
    rng = np.random.default_rng(0)
    assert find_spikes(np.arange(10.0), 0.05, 3)[0].size == 0  # each value 10%, none stands out
    assert find_spikes(rng.poisson(4.0, 2000).astype(float), 0.05, 3)[0].size == 0
    assert find_spikes(rng.integers(0, 5, 500).astype(float), 0.05, 3)[0].size == 0
    few = np.concatenate([np.zeros(80), [1.0, 2.0, 3.0, 4.0] * 5])  # 5 values: categorical
    assert find_spikes(few, 0.05, 3)[0].size == 0
    more = np.concatenate([np.zeros(80), np.arange(1.0, 21.0)])
    assert find_spikes(more, 0.05, 3)[0].tolist() == [0.0]


def test_datetime_columns_have_no_spikes() -> None:
    days = pd.Series(pd.date_range("2020-01-01", periods=30, freq="D"))
    df = pd.DataFrame({"d": pd.concat([days, pd.Series([days[0]] * 70)], ignore_index=True)})
    codec = _fit(df)
    assert [f.name for f in codec.schema.fields] == ["d"]
    assert codec.summary()[0]["spikes"] is None


# ------------------------------------------------------------------ layout
def test_fields_per_mode() -> None:
    df = zero_inflated()
    mixed = _fit(df).schema.fields
    assert [(f.name, f.kind, f.levels) for f in mixed[:5]] == [
        ("gain", "continuous", 0), ("gain__state", "discrete", 2),
        ("hours", "continuous", 0), ("hours__state", "discrete", 2),
        ("amt", "continuous", 0),
    ]
    assert (mixed[5].name, mixed[5].levels) == ("amt__state", 3)  # value, missing, 99.0
    cont = [f.name for f in _fit(df, "continuous").schema.fields]
    assert cont[:6] == ["gain", "gain__spike=0", "hours", "hours__spike=40", "amt",
                        "amt__missing"]
    assert cont[6] == "amt__spike=99.0"
    disc = _fit(df, "discrete", bins=10).columns
    assert [c.n_levels for c in disc[:3]] == [11, 11, 12]  # bins + spike (+ missing)
    off = _fit(df, max_spikes=0).schema.fields
    assert [f.name for f in off[:4]] == ["gain", "hours", "amt", "amt__missing"]


# ------------------------------------------------------------- round trips
@pytest.mark.parametrize("mode", MODES)
def test_round_trip_keeps_spike_rows_exact(mode: str) -> None:
    df = zero_inflated()
    codec = _fit(df, mode)
    x = codec.encode(df)
    out = codec.decode(x, seed=4)
    if mode != "discrete":
        pd.testing.assert_frame_equal(out, df)
    for name, spike in (("gain", 0), ("hours", 40), ("amt", 99.0)):
        real = (df[name] == spike).to_numpy()
        assert ((out[name] == spike).to_numpy() == real).all(), name
    assert (out["amt"].isna() == df["amt"].isna()).all()
    assert (out["gain"][df["gain"] > 0] >= df["gain"][df["gain"] > 0].min()).all()


def test_model_like_resampling_reproduces_spike_shares() -> None:
    """A "model" that resamples encoded rows: the decoded shares are the data's (the old
    discrete mode spread the zero over its bin and gave almost none)."""
    df = zero_inflated()
    for mode in MODES:
        codec = _fit(df, mode)
        x = codec.encode(df)
        boot = x[np.random.default_rng(1).integers(0, len(x), 20_000)]
        synth = codec.decode(boot, seed=2)
        for name, spike in (("gain", 0), ("hours", 40), ("amt", 99.0)):
            assert abs((synth[name] == spike).mean() - (df[name] == spike).mean()) < 0.015


def test_filler_of_spike_rows_follows_the_non_spike_values() -> None:
    df = zero_inflated()
    codec = _fit(df)
    x = codec.encode(df)
    assert np.array_equal(x, codec.encode(df))  # deterministic
    z = x[:, 0]
    spike = (df["gain"] == 0).to_numpy()
    rest = df["gain"][~spike].to_numpy(float)
    col = codec.columns[0]
    assert np.isclose(col.mean, rest.mean()) and np.isclose(col.scale, rest.std())
    filled = z[spike] * col.scale + col.mean
    assert filled.min() >= rest.min() and filled.max() <= rest.max()
    assert abs(np.median(filled) - np.median(rest)) < 0.15 * rest.std()
    assert np.allclose(filled, np.round(filled))  # an integer column gets integer fillers


def test_non_spike_rows_never_decode_to_a_spike() -> None:
    """A value the model puts near an interior spike (or below a spike at the minimum)
    is moved one rounding step off it; only the state decides a spike."""
    df = zero_inflated()
    for mode in ("mixed", "continuous"):
        codec = _fit(df[["hours", "gain"]], mode)
        x = np.zeros((6, len(codec.schema)))
        col_h, col_g = codec.columns
        x[:, 0] = (np.array([39.6, 40.0, 40.4, 40.49, 12.0, 40.2]) - col_h.mean) / col_h.scale
        j = len(col_h.fields())
        x[:, j] = (np.array([0.2, -50.0, 0.0, 1.0, 3.0, 0.0]) - col_g.mean) / col_g.scale
        out = codec.decode(x)
        assert out["hours"].tolist() == [39, 41, 41, 41, 12, 41]
        assert out["gain"].tolist() == [1, 1, 1, 1, 3, 1]


# --------------------------------------------------------------- likelihood
def test_log_det_is_zero_for_spike_rows_and_a_scale_otherwise() -> None:
    df = zero_inflated()
    spike = (df["gain"] == 0).to_numpy()
    for mode in ("mixed", "continuous"):
        codec = _fit(df[["gain"]], mode)
        ldj = codec.log_det_jacobian(df[["gain"]])
        assert (ldj[spike] == 0).all()
        assert np.allclose(ldj[~spike], -np.log(df["gain"][~spike].std(ddof=0)))
    disc = _fit(df[["gain"]], "discrete", bins=8)
    codes = disc.encode(df[["gain"]])[:, 0].astype(int)
    ldj = disc.log_det_jacobian(df[["gain"]])
    width = np.diff(disc.columns[0].edges)
    assert (ldj[spike] == 0).all() and (codes[spike] == 8).all()
    assert np.allclose(ldj[~spike], -np.log(width[codes[~spike]]))


def test_exact_units_with_spikes() -> None:
    df = zero_inflated()[["gain", "x"]]
    assert _fit(df, "mixed").exact_units and _fit(df, "discrete").exact_units
    assert not _fit(df, "continuous").exact_units
    assert _fit(df, "continuous", max_spikes=0).exact_units


# ----------------------------------------------------------------- conditions
def test_condition_on_a_spike_sets_its_state_only() -> None:
    df = zero_inflated()
    mixed = _fit(df)
    names = [f.name for f in mixed.schema.fields]
    assert mixed.encode_condition({"gain": 0}) == {names.index("gain__state"): 1.0}
    assert mixed.encode_condition({"amt": 99}) == {names.index("amt__state"): 2.0}
    assert mixed.encode_condition({"amt": None}) == {names.index("amt__state"): 1.0}
    enc = mixed.encode_condition({"gain": 5000})
    col = mixed.columns[0]
    assert enc == {0: (5000 - col.mean) / col.scale, names.index("gain__state"): 0.0}

    cont = _fit(df, "continuous")
    names = [f.name for f in cont.schema.fields]
    assert cont.encode_condition({"amt": 99.0}) == {
        names.index("amt__missing"): 0.0, names.index("amt__spike=99.0"): 1.0}
    assert cont.encode_condition({"amt": None}) == {
        names.index("amt__missing"): 1.0, names.index("amt__spike=99.0"): 0.0}

    disc = _fit(df, "discrete", bins=10)
    assert disc.encode_condition({"gain": 0}) == {0: 10.0}
    assert disc.encode_condition({"amt": None})[2] == 11.0


@pytest.mark.parametrize("mode", MODES)
def test_conditioned_spike_decodes_exactly(mode: str) -> None:
    df = zero_inflated()
    codec = _fit(df, mode)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, len(codec.schema)))
    for j, f in enumerate(codec.schema.fields):
        if f.kind == "discrete":
            x[:, j] = rng.integers(0, f.levels, 300)
    for condition in ({"gain": 0}, {"hours": 40, "amt": 99.0}, {"gain": 1234}):
        xc = x.copy()
        for j, v in codec.encode_condition(condition).items():
            xc[:, j] = v
        out = codec.decode(xc, condition=condition)
        codec.check_decoded(out, condition)
        for name, value in condition.items():
            assert (out[name] == value).all()


def test_unseen_value_in_per_value_levels_lists_the_spikes() -> None:
    df = pd.DataFrame({"v": np.concatenate([np.zeros(80), np.arange(1.0, 11.0) + 0.5])})
    codec = _fit(df, "discrete")
    assert codec.encode_condition({"v": 0})[0] == 10.0
    with pytest.raises(ValueError, match=r"value 2.0 for 'v' was not seen in training; "
                                         r"allowed: 0.0, 1.5, 2.5"):
        codec.encode_condition({"v": 2.0})


# ------------------------------------------------------ reports and storage
def test_summary_and_metadata_report_the_spikes() -> None:
    df = zero_inflated()
    codec = _fit(df)
    rows = {r["name"]: r for r in codec.summary()}
    share = (df["gain"] == 0).mean()
    assert rows["gain"]["spikes"] == [{"value": 0, "share": round(share, 6)}]
    assert rows["amt"]["spikes"][0]["value"] == 99.0
    assert rows["x"]["spikes"] == [] and rows["grp"]["spikes"] is None
    assert rows["gain"]["fields"] == ["gain", "gain__state"]
    meta = codec.metadata()["columns"]
    assert meta["hours"]["spikes"] == [{"value": 40, "share": round((df["hours"] == 40).mean(), 6)}]
    json.dumps(rows, allow_nan=False)
    json.dumps(meta, allow_nan=False)


@pytest.mark.parametrize("mode", MODES)
def test_json_round_trip_keeps_spikes(mode: str) -> None:
    df = zero_inflated()
    codec = _fit(df, mode, spike_min_frac=0.1, max_spikes=2)
    data = json.loads(json.dumps(codec.to_json(), allow_nan=False))
    assert data["spike_min_frac"] == 0.1 and data["max_spikes"] == 2
    again = codec_from_json(data)
    assert again.schema == codec.schema and again.summary() == codec.summary()
    x = codec.encode(df)
    assert np.array_equal(again.encode(df), x)
    pd.testing.assert_frame_equal(again.decode(x, seed=3), codec.decode(x, seed=3))
    assert np.array_equal(again.log_det_jacobian(df), codec.log_det_jacobian(df))
    assert again.encode_condition({"amt": 99}) == codec.encode_condition({"amt": 99})


def test_codec_json_without_spike_keys_still_loads() -> None:
    df = zero_inflated()[["x", "grp"]]
    data = _fit(df).to_json()
    del data["spike_min_frac"], data["max_spikes"]
    for c in data["columns"]:
        for key in ("spikes", "spike_shares", "spike_min_frac", "max_spikes"):
            c.pop(key, None)
    again = codec_from_json(data)
    assert np.array_equal(again.encode(df), _fit(df).encode(df))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"spike_min_frac": 0}, r"spike_min_frac: got 0; allowed: a number in \(0, 1\]"),
        ({"spike_min_frac": 1.5}, "spike_min_frac: got 1.5"),
        ({"spike_min_frac": "5%"}, "spike_min_frac: got '5%'"),
        ({"max_spikes": -1}, "max_spikes: got -1; allowed: an integer >= 0"),
        ({"max_spikes": 2.0}, "max_spikes: got 2.0"),
        ({"max_spikes": True}, "max_spikes: got True"),
    ],
)
def test_spike_parameters_are_validated(kw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TabularCodec(**kw)


@st.composite
def spiky_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(20, 60))
    spike = draw(st.sampled_from([0.0, -1.5, 99.0, 1e6]))
    share = draw(st.floats(0.3, 0.9))
    rest = draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=n, max_size=n))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    v = np.where(rng.random(n) < share, spike, np.round(rest, 2))
    if draw(st.booleans()):
        v[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame({"v": v, "w": np.round(rest, 1)})


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=spiky_frames())
def test_random_spiky_columns_round_trip_and_condition(mode: str, df: pd.DataFrame) -> None:
    codec = _fit(df, mode)
    x = codec.encode(df)
    assert np.isfinite(x).all() and np.isfinite(codec.log_det_jacobian(df)).all()
    out = codec.decode(x, seed=1)
    col = codec.columns[0]  # all one value: a constant or categorical column, no spikes
    for value in getattr(col, "spikes", []):
        assert ((out["v"] == value) == (df["v"] == value)).all()
        condition = {"v": col.axis.typed(value)}
        noisy = x + np.random.default_rng(0).normal(size=x.shape)
        for j, val in codec.encode_condition(condition).items():
            noisy[:, j] = val
        codec.check_decoded(codec.decode(np.rint(noisy) if mode == "discrete" else noisy,
                                         condition=condition), condition)


# ------------------------------------------------------- through real models
MODELS = ["bayesnet", "copula", "gmm", "independent"]
FAST = {"gmm": {"max_components": 4}}


@pytest.fixture(scope="module")
def fitted() -> dict[str, gm.Generator]:
    df = zero_inflated()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return {m: gm.Generator(m, **FAST.get(m, {})).fit(df, seed=0) for m in MODELS}


@pytest.mark.parametrize("model", MODELS)
def test_models_reproduce_spike_frequencies(fitted: dict, model: str) -> None:
    df = zero_inflated()
    synth = fitted[model].sample(3000, seed=1)
    for name, spike in (("gain", 0), ("hours", 40), ("amt", 99.0)):
        real, got = (df[name] == spike).mean(), (synth[name] == spike).mean()
        assert abs(got - real) < 0.04, (name, real, got)
    assert abs(synth["amt"].isna().mean() - df["amt"].isna().mean()) < 0.04


@pytest.mark.parametrize("model", MODELS)
def test_models_condition_on_a_spike(fitted: dict, model: str) -> None:
    df = zero_inflated()
    gen = fitted[model]
    out = gen.sample(400, seed=2, condition={"gain": 0})
    assert len(out) == 400 and (out["gain"] == 0).all()
    other = gen.sample(400, seed=2, condition={"gain": 5000})
    assert len(other) == 400 and (other["gain"] == 5000).all()
    if model != "independent":  # grp is tied to gain == 0: the condition must move it
        real = (df["grp"][df["gain"] == 0] == "a").mean()
        assert abs((out["grp"] == "a").mean() - real) < 0.12
        assert (other["grp"] == "a").mean() < real - 0.3


@pytest.mark.parametrize("model", MODELS)
def test_models_log_prob_is_finite_and_prefers_real_spikes(fitted: dict, model: str) -> None:
    df = zero_inflated().iloc[:300].reset_index(drop=True)
    lp = fitted[model].log_prob(df)
    assert lp.shape == (300,) and np.isfinite(lp).all()
    # a zero moved off its spike to the nearest non-spike value is far less likely
    zero = df.index[df["gain"] == 0]
    moved = df.copy()
    moved.loc[zero, "gain"] = int(df["gain"][df["gain"] > 0].min())
    assert fitted[model].log_prob(moved)[zero].mean() < lp[zero].mean() - 1.0
