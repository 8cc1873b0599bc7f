"""The tabular codec: round trips per kind and mode, dtypes, bounds, missing values, ids,
conditions, likelihood units, serialization, scale, and every refusal with its message."""

from __future__ import annotations

import json
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from palmerpenguins import load_penguins
from scipy import stats

from genmodels.codecs.base import codec_from_json
from genmodels.codecs.tabular import TabularCodec, infer_metadata

MODES = ["mixed", "discrete", "continuous"]


def _fit(df: pd.DataFrame, mode: str = "mixed", **kw) -> TabularCodec:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return TabularCodec(inputs=mode, **kw).fit(df, seed=0)


def _same(a: pd.Series, b: pd.Series) -> bool:
    na = a.isna().to_numpy()
    if not (na == b.isna().to_numpy()).all():
        return False
    return bool((a[~na].astype(object).to_numpy() == b[~na].astype(object).to_numpy()).all())


def _kinds_frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    miss = rng.random(n) < 0.2
    return pd.DataFrame(
        {
            "cont": np.where(miss, np.nan, np.round(rng.normal(50, 10, n), 2)),
            "count": rng.integers(0, 1000, n),
            "nint": pd.array(np.where(miss, None, rng.integers(0, 90, n)).tolist(), dtype="Int64"),
            "flag": rng.random(n) < 0.3,
            "nflag": pd.array(np.where(miss, None, rng.random(n) < 0.5).tolist(), dtype="boolean"),
            "color": pd.Series(
                np.where(miss, None, rng.choice(["red", "green", "blue"], n)), dtype="str"
            ),
            "year": rng.choice([2007, 2008, 2009], n),
            "size": pd.Categorical(
                rng.choice(["S", "M"], n), categories=["S", "M", "L"], ordered=True
            ),
            "when": pd.Series(pd.date_range("2021-03-26", periods=n, freq="3h", tz="Europe/Paris")),
            "day": pd.date_range("1999-12-01", periods=n, freq="D").astype("datetime64[s]"),
            "date_str": pd.Series([f"2020-02-{i % 28 + 1:02d}" for i in range(n)], dtype="str"),
            "const": ["same"] * n,
            "empty": [np.nan] * n,
            "rowid": np.arange(1000, 1000 + n),
            "code": pd.Series([f"ID-{i:06d}" for i in range(n)], dtype="str"),
        }
    )


# ------------------------------------------------------------------ inference
def test_infer_metadata_kinds_and_facts() -> None:
    meta = infer_metadata(_kinds_frame())
    assert meta["format"] == "genmodels.metadata/1"
    kinds = {k: v["kind"] for k, v in meta["columns"].items()}
    assert kinds == {
        "cont": "continuous",
        "count": "integer",
        "nint": "integer",
        "flag": "boolean",
        "nflag": "boolean",
        "color": "categorical",
        "year": "categorical",
        "size": "categorical",
        "when": "datetime",
        "day": "datetime",
        "date_str": "datetime",
        "const": "constant",
        "empty": "empty",
        "rowid": "id",
        "code": "id",
    }
    cols = meta["columns"]
    assert cols["cont"]["decimals"] == 2 and 0.1 < cols["cont"]["missing_rate"] < 0.3
    assert cols["when"]["timezone"] == "Europe/Paris"
    assert cols["color"]["n_levels"] == 3
    json.dumps(meta, allow_nan=False)


def test_penguins_kinds() -> None:
    cols = infer_metadata(load_penguins())["columns"]
    assert (
        cols["bill_length_mm"]["kind"] == "continuous" and cols["bill_length_mm"]["decimals"] == 1
    )
    assert cols["flipper_length_mm"]["kind"] == "integer"
    assert cols["species"]["kind"] == "categorical" and cols["year"]["kind"] == "categorical"


def test_numbers_with_few_values_are_categorical_others_keep_their_kind() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "poisson": rng.poisson(4.0, 300),
            "likert": rng.integers(1, 6, 300),
            "half": rng.choice([0.5, 1.5], 300),
            "whole": rng.integers(0, 100, 300).astype(float),
            "serial": np.arange(300),
            "serial_float": np.arange(300.0),
        }
    )
    kinds = {k: v["kind"] for k, v in infer_metadata(df)["columns"].items()}
    assert kinds == {
        "poisson": "integer",
        "likert": "categorical",
        "half": "categorical",
        "whole": "integer",
        "serial": "id",
        "serial_float": "integer",
    }
    out = _fit(df).decode(_fit(df).encode(df))
    assert out["whole"].dtype == np.int64 and (out["whole"] == df["whole"]).all()
    assert out["half"].dtype == np.float64 and set(out["half"]) == {0.5, 1.5}


def test_text_mixed_and_empty_columns_warn_with_their_name() -> None:
    n = 40
    df = pd.DataFrame(
        {
            "review": [f"I bought item number {i} and it was quite good overall" for i in range(n)],
            "mixed": [1, "a", 2.5, None] * (n // 4),
            "blank": [None] * n,
            "x": np.arange(n) % 3,
        }
    )
    with pytest.warns(UserWarning) as record:
        codec = TabularCodec().fit(df)
    messages = " | ".join(str(w.message) for w in record)
    assert "'review' looks like free text" in messages
    assert "'mixed' holds values of mixed types" in messages
    assert "'blank' is all missing" in messages
    assert [s["kind"] for s in codec.summary()] == ["text", "categorical", "empty", "categorical"]
    out = codec.decode(codec.encode(df))
    assert (
        out["mixed"].dropna().isin(["1", "a", "2.5"]).all() and out["mixed"].isna().sum() == n // 4
    )
    assert out["blank"].isna().all() and set(out["review"]) == set(df["review"])


def test_other_dtypes_and_overrides() -> None:
    n = 12
    df = pd.DataFrame(
        {
            "span": pd.to_timedelta(np.arange(n) % 3, unit="D"),
            "name": [f"person {chr(65 + i)}" for i in range(n)],
            "t": pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC")
            + pd.Timedelta(days=1) * (np.arange(n) % 2),
        }
    )
    with pytest.warns(UserWarning, match="column 'span' has dtype timedelta64"):
        codec = TabularCodec({"name": "id", "t": "categorical"}).fit(df)
    out = codec.decode(codec.encode(df))
    assert _same(out["span"], df["span"]) and _same(out["t"], df["t"])
    assert out["name"].is_unique and out["name"].str.fullmatch(r"name-\d+").all()


def test_metadata_overrides_kinds(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": np.arange(30) % 5, "b": np.arange(30) * 1.5})
    meta = infer_metadata(df)
    assert meta["columns"]["a"]["kind"] == "categorical"
    meta["columns"]["a"]["kind"] = "integer"
    path = tmp_path / "meta.json"
    path.write_text(json.dumps(meta))
    for spec in (meta, str(path), path, {"a": "integer"}, {"columns": {"a": {"kind": "integer"}}}):
        codec = _fit(df, metadata=spec)
        assert [f.kind for f in codec.schema.fields] == ["continuous", "continuous"]


def test_metadata_refusals(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    with pytest.raises(ValueError, match=r"metadata: unknown column\(s\) 'zz'; allowed: a, b$"):
        TabularCodec({"zz": "integer"}).fit(df)
    with pytest.raises(
        ValueError, match="column 'a' has unknown kind 'number'; allowed: continuous"
    ):
        TabularCodec({"a": "number"})
    with pytest.raises(ValueError, match="is not a file"):
        TabularCodec(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        TabularCodec(bad)
    with pytest.raises(ValueError, match="non-numeric value 'x'"):
        TabularCodec({"b": "continuous"}).fit(df)
    with pytest.raises(ValueError, match="is not constant"):
        TabularCodec({"a": "constant"}).fit(df)
    with pytest.raises(ValueError, match="not made of datetimes or ISO dates"):
        TabularCodec({"b": "datetime"}).fit(df)


def test_constructor_refusals() -> None:
    with pytest.raises(ValueError, match="inputs: got 'both'"):
        TabularCodec(inputs="both")
    with pytest.raises(ValueError, match="bins: got 1; allowed: an integer >= 2"):
        TabularCodec(bins=1)
    with pytest.raises(ValueError, match="max_onehot: got -1"):
        TabularCodec(max_onehot=-1)


# ---------------------------------------------------------------- round trips
@pytest.mark.parametrize("mode", ["mixed", "continuous"])
def test_round_trip_every_kind_is_exact(mode: str) -> None:
    df = _kinds_frame()
    codec = _fit(df, mode)
    out = codec.decode(codec.encode(df))
    assert list(out.columns) == list(df.columns)
    for name in df.columns:
        assert str(out[name].dtype) == str(df[name].dtype), name
        if name not in ("rowid", "code"):
            assert _same(df[name], out[name]), name
    assert out["when"].dt.tz is not None and str(out["when"].dt.tz) == "Europe/Paris"
    assert list(out["size"].cat.categories) == ["S", "M", "L"] and out["size"].cat.ordered


def test_round_trip_discrete_mode() -> None:
    df = _kinds_frame()
    codec = _fit(df, "discrete", bins=10)
    x = codec.encode(df)
    assert all(f.kind == "discrete" for f in codec.schema.fields)
    out = codec.decode(x, seed=1)
    for name in ["flag", "nflag", "color", "year", "size", "const", "empty"]:
        assert _same(df[name], out[name]), name
    for name in ["cont", "count", "nint", "when", "day", "date_str"]:
        assert str(out[name].dtype) == str(df[name].dtype), name
        assert (df[name].isna().to_numpy() == out[name].isna().to_numpy()).all(), name
        got, ref = out[name].dropna(), df[name].dropna()
        assert got.min() >= ref.min() and got.max() <= ref.max(), name
    assert (out["cont"].dropna() == out["cont"].dropna().round(2)).all()


def test_discrete_values_fall_in_their_bin_and_per_value_levels_are_exact() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"v": rng.normal(size=500), "k": rng.integers(0, 15, 500)})
    codec = _fit(df, "discrete", bins=16)
    x = codec.encode(df)
    col = codec.columns[0]
    assert codec.schema.fields[0].levels == len(col.edges) - 1 == 16
    assert codec.schema.fields[1].levels == 15  # integer with <= bins values: one level each
    out = codec.decode(x, seed=3)
    codes = x[:, 0].astype(int)
    assert ((out["v"] >= col.edges[codes]) & (out["v"] <= col.edges[codes + 1])).all()
    assert (out["k"] == df["k"]).all()
    assert codec.decode(x, seed=3).equals(out) and not codec.decode(x, seed=4).equals(out)


def test_penguins_round_trip_and_missing_rates() -> None:
    df = load_penguins()
    for mode in ["mixed", "continuous"]:
        codec = _fit(df, mode)
        out = codec.decode(codec.encode(df))
        expected = df.astype({"flipper_length_mm": "Int64", "body_mass_g": "Int64"})
        pd.testing.assert_frame_equal(out, expected)
    codec = _fit(df, "mixed")
    x = codec.encode(df)
    boot = x[np.random.default_rng(0).integers(0, len(x), 20_000)]  # a "model" that resamples rows
    synth = codec.decode(boot)
    rates, ref = synth.isna().mean(), df.isna().mean()
    assert np.allclose(rates, ref, atol=0.006), (rates, ref)
    assert (synth["bill_length_mm"].dropna() == synth["bill_length_mm"].dropna().round(1)).all()


def test_decode_clips_to_training_range_and_rounds() -> None:
    df = load_penguins()
    codec = _fit(df, "mixed")
    x = codec.encode(df)
    wild = x.copy()
    for j in codec.schema.continuous_idx:
        wild[:, j] = np.linspace(-50, 50, len(x))
    out = codec.decode(wild)
    for name in ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]:
        got = out[name].dropna()
        assert got.min() == df[name].min() and got.max() == df[name].max(), name
    assert out["flipper_length_mm"].dtype == "Int64"
    assert (
        out["bill_depth_mm"].dropna() * 10 == (out["bill_depth_mm"].dropna() * 10).round()
    ).all()


def test_missing_rate_follows_the_indicator() -> None:
    df = pd.DataFrame({"v": [1.5, np.nan, 2.5, 3.5] * 10, "c": ["a", None, "b", "a"] * 10})
    codec = _fit(df, "mixed", metadata={"v": "continuous"})  # 3 values: categorical otherwise
    x = np.zeros((1000, len(codec.schema)))
    x[:, 1] = np.arange(1000) < 300  # v__missing for 30% of rows
    x[:, 2] = np.where(np.arange(1000) % 10 == 0, 2, 0)  # c: missing level for 10%
    out = codec.decode(x)
    assert out["v"].isna().mean() == 0.3 and out["c"].isna().mean() == 0.1


def test_id_columns_are_regenerated_unique_with_their_form() -> None:
    n = 30
    df = pd.DataFrame(
        {
            "code": [f"ID-{i:06d}" for i in range(5, 5 + n)],
            "num": np.arange(10, 10 + n),
            "uuid": [f"{i:08x}-aaaa-4bbb-8ccc-{i:012x}" for i in range(n)],
            "v": np.arange(n) % 4,
        }
    )
    codec = _fit(df)
    assert [s["fields"] for s in codec.summary()][:3] == [[], [], []]
    out = codec.decode(np.zeros((3 * n, len(codec.schema))), seed=5)
    assert out["code"].is_unique and out["code"].str.fullmatch(r"ID-\d{6}").all()
    assert out["num"].is_unique and out["num"].dtype == np.int64 and out["num"].min() == 10
    pattern = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert out["uuid"].is_unique and out["uuid"].str.fullmatch(pattern).all()
    assert out["uuid"].equals(codec.decode(np.zeros((3 * n, len(codec.schema))), seed=5)["uuid"])


def test_level_types_survive(tmp_path: Path) -> None:
    n = 30
    df = pd.DataFrame(
        {
            "i": [2007, 2008] * (n // 2),
            "f": [2007.0, 2008.5] * (n // 2),
            "s": ["2007", "2008"] * (n // 2),
            "b": [True, None] * (n // 2),
        }
    )
    codec = TabularCodec.from_json(json.loads(json.dumps(_fit(df).to_json())))
    out = codec.decode(codec.encode(df))
    assert out["i"].tolist()[:2] == [2007, 2008] and out["i"].dtype == np.int64
    assert out["f"].tolist()[:2] == [2007.0, 2008.5] and out["f"].dtype == np.float64
    assert out["s"].tolist()[:2] == ["2007", "2008"]
    assert out["b"].tolist()[:2] == [True, None]


def test_never_an_unseen_category() -> None:
    df = pd.DataFrame({"c": list("abcab") * 8})
    for mode in MODES:
        codec = _fit(df, mode)
        noise = np.random.default_rng(0).normal(scale=5, size=(500, len(codec.schema)))
        if mode != "continuous":
            noise = np.abs(np.round(noise))
        assert set(codec.decode(noise)["c"]) <= {"a", "b", "c"}


# ----------------------------------------------------------- high cardinality
def _zip_frame(n: int = 50_000, k: int = 10_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    zips = np.array([f"{z:05d}" for z in range(k)], dtype=object)
    codes = rng.integers(0, k, n)
    codes[:k] = np.arange(k)
    return pd.DataFrame({"zip": pd.Series(zips[codes], dtype="str"), "v": rng.normal(size=n)})


@pytest.mark.parametrize("mode", MODES)
def test_ten_thousand_levels_memory_is_linear(mode: str) -> None:
    df = _zip_frame()
    tracemalloc.start()
    codec = _fit(df, mode)
    x = codec.encode(df)
    out = codec.decode(x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 80e6, f"peak {peak / 1e6:.0f} MB"  # n x K float64 alone would be 4 GB
    assert x.shape == (50_000, 2)
    assert (out["zip"] == df["zip"]).all()
    if mode == "continuous":  # normal-score path: one field
        assert codec.schema.fields[0].kind == "continuous"
        z = codec.encode_condition({"zip": "01234"})[0]
        assert codec.decode(np.array([[z, 0.0]]))["zip"].iloc[0] == "01234"


def test_normal_score_encoding_orders_levels_by_frequency() -> None:
    df = pd.DataFrame({"c": ["a"] * 60 + ["b"] * 30 + ["c"] * 10})
    codec = _fit(df, "continuous", max_onehot=2)
    x = codec.encode(df)[:, 0]
    # a: [0, .6) -> ndtri(.3); b: [.6, .9) -> ndtri(.75); c: [.9, 1) -> ndtri(.95)
    assert np.allclose(sorted(set(x)), stats.norm.ppf([0.3, 0.75, 0.95]))
    z = np.random.default_rng(0).normal(size=100_000)[:, None]
    freq = codec.decode(z)["c"].value_counts(normalize=True)
    assert abs(freq["a"] - 0.6) < 0.01 and abs(freq["c"] - 0.1) < 0.01


def test_two_hundred_columns_are_quick() -> None:
    rng = np.random.default_rng(0)
    makers = [
        lambda: rng.normal(size=500),
        lambda: rng.integers(0, 100, 500),
        lambda: rng.choice(list("abcdefgh"), 500),
        lambda: rng.random(500) < 0.5,
    ]
    df = pd.DataFrame({f"c{j}": makers[j % 4]() for j in range(200)})
    for mode in MODES:
        codec = _fit(df, mode)
        start = time.perf_counter()
        out = codec.decode(codec.encode(df))
        assert time.perf_counter() - start < 5.0
        assert out.shape == df.shape


# ----------------------------------------------------------------- conditions
def test_condition_encoding_per_mode() -> None:
    df = load_penguins()
    mixed = _fit(df, "mixed")
    names = [f.name for f in mixed.schema.fields]
    enc = mixed.encode_condition({"species": "Gentoo", "bill_length_mm": 40.0, "year": "2008"})
    mean, std = df["bill_length_mm"].mean(), df["bill_length_mm"].std(ddof=0)
    assert enc[names.index("species")] == 2.0 and enc[names.index("year")] == 1.0
    assert np.isclose(enc[names.index("bill_length_mm")], (40.0 - mean) / std)
    assert enc[names.index("bill_length_mm__missing")] == 0.0
    assert mixed.encode_condition({"sex": None}) == {names.index("sex"): 2.0}

    onehot = _fit(df, "continuous")
    names = [f.name for f in onehot.schema.fields]
    enc = onehot.encode_condition({"species": "Chinstrap"})
    assert enc == {
        names.index("species=Adelie"): 0.0,
        names.index("species=Chinstrap"): 1.0,
        names.index("species=Gentoo"): 0.0,
    }

    disc = _fit(df, "discrete")
    col = disc.columns[2]
    code = disc.encode_condition({"bill_length_mm": 45.3})[2]
    assert col.edges[int(code)] <= 45.3 <= col.edges[int(code) + 1]


@pytest.mark.parametrize("mode", MODES)
def test_conditioned_columns_take_exactly_the_values(mode: str) -> None:
    df = load_penguins()
    codec = _fit(df, mode)
    condition = {"species": "Gentoo", "bill_length_mm": 45.37, "body_mass_g": 4000, "year": 2009}
    enc = codec.encode_condition(condition)
    x = np.random.default_rng(0).normal(size=(200, len(codec.schema)))
    for j, f in enumerate(codec.schema.fields):
        if f.kind == "discrete":
            x[:, j] = np.random.default_rng(j).integers(0, f.levels, 200)
    for j, v in enc.items():
        x[:, j] = v
    out = codec.decode(x, condition=condition)
    assert len(out) == 200
    assert (out["species"] == "Gentoo").all() and (out["bill_length_mm"] == 45.37).all()
    assert (out["body_mass_g"] == 4000).all() and (out["year"] == 2009).all()
    codec.check_decoded(out, condition)
    out.loc[3, "species"] = "Adelie"
    with pytest.raises(ValueError, match="column 'species' differs from 'Gentoo' in 1 of 200 rows"):
        codec.check_decoded(out, condition)


def test_condition_refusals() -> None:
    df = _kinds_frame()
    codec = _fit(df)
    with pytest.raises(
        ValueError, match=r"condition: unknown column 'x'; allowed: cont, count, nint, "
    ):
        codec.encode_condition({"x": 1})
    wide = _fit(pd.DataFrame({f"col{i}": np.arange(4) % 2 for i in range(40)}))
    with pytest.raises(ValueError, match=r"allowed: col0, col1, .*, col19, \.\.\. \(40 in all\)$"):
        wide.encode_condition({"nope": 1})
    with pytest.raises(
        ValueError,
        match="value 'purple' for column 'color' was not seen in training; "
        "allowed: 'blue', 'green', 'red'",
    ):
        codec.encode_condition({"color": "purple"})
    with pytest.raises(ValueError, match=r"value 500 for 'cont' is outside the training range \["):
        codec.encode_condition({"cont": 500})
    with pytest.raises(ValueError, match="column 'count' holds integers; got 100.5"):
        codec.encode_condition({"count": 100.5})
    with pytest.raises(ValueError, match="column 'rowid' is an id column"):
        codec.encode_condition({"rowid": 1000})
    with pytest.raises(ValueError, match="column 'const' is constant in the training data"):
        codec.encode_condition({"const": "same"})
    with pytest.raises(ValueError, match="column 'empty' is all missing"):
        codec.encode_condition({"empty": 1.0})
    with pytest.raises(ValueError, match="column 'flag' had no missing values"):
        codec.encode_condition({"flag": None})
    with pytest.raises(ValueError, match="column 'cont' is numeric; got 'abc'"):
        codec.encode_condition({"cont": "abc"})
    with pytest.raises(ValueError, match="outside the training range"):
        codec.encode_condition({"day": "1990-01-01"})
    many = _fit(pd.DataFrame({"c": [f"L{i:02d}" for i in range(30)] * 2}))
    with pytest.raises(ValueError, match=r"allowed: 'L00', .*'L09', \.\.\. \(30 in all\)"):
        many.encode_condition({"c": "L99"})


def test_condition_value_conversions() -> None:
    df = _kinds_frame()
    codec = _fit(df)
    year = [f.name for f in codec.schema.fields].index("year")
    assert codec.encode_condition({"year": "2008"}) == {year: 1.0}
    assert codec.encode_condition({"year": 2008.0}) == {year: 1.0}
    assert codec.encode_condition({"flag": "true"}) == codec.encode_condition({"flag": True})
    out = codec.decode(
        codec.encode(df), condition={"when": "2021-03-28 03:00", "date_str": "2020-02-03"}
    )
    assert (out["when"] == pd.Timestamp("2021-03-28 03:00", tz="Europe/Paris")).all()
    assert (out["date_str"] == "2020-02-03").all()


# ------------------------------------------------------------------ encoding
def test_encode_is_deterministic_and_fills_missing_from_training_values() -> None:
    df = load_penguins()
    codec = _fit(df)
    a, b = codec.encode(df), codec.encode(df)
    assert np.array_equal(a, b)
    j = [f.name for f in codec.schema.fields].index("bill_length_mm")
    filled = a[df["bill_length_mm"].isna().to_numpy(), j]
    std = df["bill_length_mm"].std(ddof=0)
    lo, hi = (df["bill_length_mm"].agg(["min", "max"]) - df["bill_length_mm"].mean()) / std
    assert np.all((filled >= lo) & (filled <= hi))
    other = TabularCodec().fit(df, seed=7).encode(df)
    observed = ~df["bill_length_mm"].isna().to_numpy()
    assert np.array_equal(other[observed], a[observed]) and not np.array_equal(other, a)


def test_encode_refusals() -> None:
    df = pd.DataFrame({"c": ["a", "b"] * 5, "v": np.arange(10.0)})
    codec = _fit(df)
    with pytest.raises(
        ValueError, match="column 'c' has value 'z' not seen in training; allowed: 'a', 'b'"
    ):
        codec.encode(pd.DataFrame({"c": ["z"], "v": [1.0]}))
    with pytest.raises(ValueError, match="column 'v' has 1 missing value"):
        codec.encode(pd.DataFrame({"c": ["a"], "v": [np.nan]}))
    with pytest.raises(ValueError, match=r"missing column\(s\) 'v'"):
        codec.encode(pd.DataFrame({"c": ["a"]}))
    with pytest.raises(ValueError, match="need at least 2 rows"):
        TabularCodec().fit(df.iloc[:1])
    with pytest.raises(ValueError, match="has 0 rows"):
        codec.encode(df.iloc[:0])
    with pytest.raises(TypeError, match="allowed: a pandas DataFrame"):
        codec.encode(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"column 'v' has 1 infinite value\(s\)"):
        codec.encode(pd.DataFrame({"c": ["a"], "v": [np.inf]}))
    with pytest.raises(ValueError, match=r"x: expected shape \(n, 2\)"):
        codec.decode(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="tabular codec is not fitted"):
        TabularCodec().encode(df)


def test_encode_accepts_reordered_columns_and_paths(tmp_path: Path) -> None:
    df = pd.DataFrame({"c": ["a", "b"] * 5, "v": np.arange(10.0)})
    codec = _fit(df)
    assert np.array_equal(codec.encode(df[["v", "c"]]), codec.encode(df))
    df.to_csv(tmp_path / "t.csv", index=False)
    assert np.array_equal(codec.encode(tmp_path / "t.csv"), codec.encode(df))


# --------------------------------------------------------------- likelihood
def test_log_det_gives_data_unit_density() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"v": np.round(rng.normal(3.0, 2.0, 400), 3)})
    codec = _fit(df)
    z = codec.encode(df)[:, 0]
    ours = stats.norm.logpdf(z) + codec.log_det_jacobian(df)
    ref = stats.norm(df["v"].mean(), df["v"].std(ddof=0)).logpdf(df["v"])
    assert np.allclose(ours, ref)


def test_log_det_discrete_bins_and_missing() -> None:
    df = pd.DataFrame({"v": np.linspace(0, 10, 101), "w": [1.0, np.nan] * 50 + [1.0]})
    disc = _fit(df, "discrete", bins=4)
    edges = disc.columns[0].edges
    codes = disc.encode(df)[:, 0].astype(int)
    assert np.allclose(disc.log_det_jacobian(df), -np.log(np.diff(edges))[codes])
    mixed = _fit(pd.DataFrame({"w": [1.0, np.nan, 3.0, 5.0] * 5}), metadata={"w": "continuous"})
    ldj = mixed.log_det_jacobian(pd.DataFrame({"w": [1.0, np.nan]}))
    assert ldj[1] == 0.0 and np.isclose(ldj[0], -np.log(np.std([1.0, 3.0, 5.0])))


def test_exact_units() -> None:
    df = pd.DataFrame({"v": np.arange(10.0), "c": ["a", "b"] * 5})
    assert _fit(df, "mixed").exact_units and _fit(df, "discrete").exact_units
    assert not _fit(df, "continuous").exact_units
    assert _fit(df[["v"]], "continuous").exact_units


# ------------------------------------------------------------- serialization
@pytest.mark.parametrize("mode", MODES)
def test_json_round_trip_gives_identical_results(mode: str) -> None:
    df = _kinds_frame()
    codec = _fit(df, mode)
    text = json.dumps(codec.to_json(), allow_nan=False)
    assert json.loads(text)["codec"] == "tabular"
    again = codec_from_json(json.loads(text))
    assert isinstance(again, TabularCodec) and again.schema == codec.schema
    x = codec.encode(df)
    assert np.array_equal(again.encode(df), x)
    pd.testing.assert_frame_equal(again.decode(x, seed=3), codec.decode(x, seed=3))
    assert np.array_equal(again.log_det_jacobian(df), codec.log_det_jacobian(df))
    assert again.encode_condition({"color": "red"}) == codec.encode_condition({"color": "red"})


def test_schema_field_names() -> None:
    df = load_penguins()
    names = [f.name for f in _fit(df, "continuous").schema.fields]
    assert names[:3] == ["species=Adelie", "species=Chinstrap", "species=Gentoo"]
    assert "bill_length_mm__missing" in names and "sex=<missing>" in names
    mixed = _fit(df).schema
    assert [f.levels for f in mixed.fields if f.name == "sex"] == [3]
    assert [f.kind for f in mixed.fields if f.name == "body_mass_g__missing"] == ["discrete"]


def test_summary_rows() -> None:
    rows = _fit(load_penguins()).summary()
    by_name = {r["name"]: r for r in rows}
    assert by_name["species"]["levels"] == 3 and by_name["species"]["kind"] == "categorical"
    assert by_name["bill_length_mm"]["min"] == 32.1 and by_name["bill_length_mm"]["max"] == 59.6
    assert by_name["bill_length_mm"]["fields"] == ["bill_length_mm", "bill_length_mm__missing"]
    assert 0 < by_name["sex"]["missing_rate"] < 0.05
    json.dumps(rows, allow_nan=False)


# ------------------------------------------------------------ property test
RANDOM_KINDS = [
    "float",
    "whole",
    "int",
    "nullable_int",
    "str",
    "bool",
    "boolean",
    "datetime",
    "datetime_tz",
    "category",
    "mixed",
    "allnan",
    "object_num",
    "isodate",
    "const",
]


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 24))
    cols = {}
    for j in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(RANDOM_KINDS))
        cols[f"c{j}_{kind}"] = draw(_column(kind, n))
    if draw(st.booleans()):
        cols[0] = [1] * n  # a non-string column name
    return pd.DataFrame(cols)


@st.composite
def _column(draw: st.DrawFn, kind: str, n: int) -> pd.Series:
    missing = (
        draw(st.lists(st.booleans(), min_size=n, max_size=n))
        if draw(st.booleans())
        else [False] * n
    )
    k = draw(st.integers(1, 6))
    ints = draw(st.lists(st.integers(-(10**6), 10**6), min_size=n, max_size=n))
    small = [i % k for i in ints]
    floats = draw(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=n, max_size=n))
    if kind == "float":
        return pd.Series([np.nan if m else f for f, m in zip(floats, missing, strict=True)])
    if kind == "whole":
        return pd.Series([np.nan if m else float(i) for i, m in zip(ints, missing, strict=True)])
    if kind == "int":
        return pd.Series(ints if draw(st.booleans()) else small, dtype="int64")
    if kind == "nullable_int":
        return pd.Series(
            [None if m else i for i, m in zip(small, missing, strict=True)], dtype="Int64"
        )
    if kind == "str":
        alphabet = draw(st.sampled_from(["ab", "xyz01", "\u00e9\u00fc "]))
        words = draw(st.lists(st.text(alphabet, max_size=4), min_size=n, max_size=n))
        return pd.Series(
            [None if m else w for w, m in zip(words, missing, strict=True)], dtype="str"
        )
    if kind == "bool":
        return pd.Series([i % 2 == 0 for i in small], dtype=bool)
    if kind == "boolean":
        return pd.Series(
            [None if m else i % 2 == 0 for i, m in zip(small, missing, strict=True)],
            dtype="boolean",
        )
    if kind in ("datetime", "datetime_tz"):
        ts = pd.to_datetime(np.array(ints, dtype=np.int64) * 3600, unit="s")
        ts = pd.Series(ts).where(~np.array(missing))
        return (
            ts.dt.tz_localize("America/New_York", nonexistent="shift_forward", ambiguous="NaT")
            if kind == "datetime_tz"
            else ts
        )
    if kind == "category":
        return pd.Series(
            pd.Categorical([None if m else f"v{i}" for i, m in zip(small, missing, strict=True)])
        )
    if kind == "mixed":
        return pd.Series(
            [None if m else (i if i % 2 else f"s{i}") for i, m in zip(small, missing, strict=True)],
            dtype=object,
        )
    if kind == "allnan":
        return pd.Series([np.nan] * n)
    if kind == "object_num":
        return pd.Series(
            [None if m else (i if i % 3 else i + 0.5) for i, m in zip(small, missing, strict=True)],
            dtype=object,
        )
    if kind == "isodate":
        days = pd.Timestamp("2000-01-01") + pd.to_timedelta(np.array(small), unit="D")
        return pd.Series(
            [None if m else d.strftime("%Y-%m-%d") for d, m in zip(days, missing, strict=True)],
            dtype=object,
        )
    return pd.Series(["k"] * n)


def _noisy(codec: TabularCodec, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What a model might return: noise on continuous fields, random codes on discrete ones."""
    out = x + rng.normal(scale=2.0, size=x.shape)
    for j, f in enumerate(codec.schema.fields):
        if f.kind == "discrete":
            out[:, j] = rng.integers(0, f.levels, size=len(x))
    return out


@pytest.mark.parametrize("mode", ["mixed", "discrete", "continuous"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=frames())
def test_random_frames_work_or_raise_value_error(mode: str, df: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            codec = TabularCodec(inputs=mode).fit(df, seed=1)
        except ValueError:
            return
        x = codec.encode(df)
        assert x.shape == (len(df), len(codec.schema)) and np.isfinite(x).all()
        for xx in (x, _noisy(codec, x, np.random.default_rng(0))):
            out = codec.decode(xx, seed=2)
            assert list(out.columns) == [str(c) for c in df.columns]
            assert len(out) == len(df)
        back = codec.decode(x)
        for name in back.columns:
            a, b = df[name if name in df.columns else int(name)], back[name]
            assert (a.isna().to_numpy() == b.isna().to_numpy()).all(), name
        for name in back.columns:  # condition on a decoded value: exact in the output
            condition = {name: back[name].iloc[-1]}
            try:
                codec.encode_condition(condition)
            except ValueError:
                continue
            out = codec.decode(_noisy(codec, x, np.random.default_rng(1)), condition=condition)
            codec.check_decoded(out, condition)
