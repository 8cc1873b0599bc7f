"""gm.evaluate and its metrics: ideal values on ideal data, clear signals on broken data."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from genmodels.evaluation import TableReport, evaluate
from genmodels.evaluation import fidelity as fid
from genmodels.evaluation._tables import align, joint_codes, quantile_codes
from genmodels.evaluation.utility import tstr


def make_table(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Correlated mixed table: x, y = 0.8 x + noise, a category driven by x, a flag,
    a date, and missing values in two columns."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) + shift
    y = 0.8 * x + 0.6 * rng.normal(size=n)
    cat = np.where(x + 0.5 * rng.normal(size=n) > 0, "high", "low").astype(object)
    cat[rng.random(n) < 0.2] = "mid"
    flag = (y + rng.normal(size=n)) > 0.5
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    frame = pd.DataFrame({"x": x, "y": y, "cat": cat, "flag": flag, "day": day,
                          "count": rng.poisson(3, n)})
    frame.loc[rng.random(n) < 0.1, "y"] = np.nan
    frame.loc[rng.random(n) < 0.05, "cat"] = None
    return frame


def shuffle_columns(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Same marginals, every dependence between columns destroyed."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: frame[c].to_numpy()[rng.permutation(len(frame))] for c in frame})


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return make_table(2000, seed=0)


# ------------------------------------------------------------------ metric functions
def test_ks_statistic_matches_hand_computed_value() -> None:
    assert fid.ks_statistic(np.array([0.0, 1, 2, 3]), np.array([2.0, 3, 4, 5])) == 0.5
    assert fid.ks_statistic(np.array([1.0, np.nan]), np.array([1.0, 1.0])) == 0.0
    assert fid.ks_statistic(np.array([1.0]), np.array([np.nan])) == 1.0


def test_tv_and_contingency_tv_hand_computed() -> None:
    assert fid.tv_distance(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1]), 2) == 0.25
    assert fid.tv_distance(np.array([0, 1]), np.array([2, 2]), 3) == 1.0
    # same margins, opposite dependence: 2-way tables disjoint
    a, b = np.array([0, 1, 0, 1]), np.array([0, 1, 0, 1])
    assert fid.contingency_tv(a, b, a, 1 - b, 2, 2) == 1.0
    assert fid.contingency_tv(a, b, a, b, 2, 2) == 0.0


def test_missing_rate_diff_and_correlation_of_constant_column() -> None:
    assert fid.missing_rate_diff(np.array([True, False]), np.array([False, False])) == 0.5
    x = np.column_stack([np.arange(5.0), 2 * np.arange(5.0), np.ones(5)])
    corr = fid.correlation_matrix(x)
    assert corr[0, 1] == pytest.approx(1.0) and corr[0, 2] == 0.0 and not np.isnan(corr).any()


def test_joint_codes_cap_other_and_missing() -> None:
    real = pd.Series(["a"] * 5 + ["b"] * 3 + ["c", None])
    synth = pd.Series(["c", "d", None, "a"])
    cr, cs, k = joint_codes(real, synth, max_levels=2)
    assert k == 4  # a, b, other, missing
    assert list(cr) == [0] * 5 + [1] * 3 + [2, 3]
    assert list(cs) == [2, 2, 3, 0]


def test_quantile_codes_bin_at_real_deciles() -> None:
    real = np.arange(100.0)
    cr, cs, k = quantile_codes(real, np.array([-5.0, 50.0, 1e9, np.nan]), bins=10)
    assert k == 11 and np.bincount(cr).tolist() == [10] * 10
    assert cs.tolist() == [0, 5, 9, 10]


# ------------------------------------------------------------------ evaluate
def test_copy_of_real_gives_ideal_values(real: pd.DataFrame) -> None:
    report = evaluate(real, real.copy(), seed=0)
    assert (report.columns["statistic"] == 0).all()
    assert (report.columns["distance"] == 0).all()
    assert (report.pairwise["distance"] == 0).all()
    assert report.c2st_auc == 0.5  # twins share a fold: no memorisation artefact
    assert report.score == 1.0
    assert report.exact_match_rate == 1.0


def test_fresh_sample_of_same_distribution_is_near_ideal(real: pd.DataFrame) -> None:
    report = evaluate(real, make_table(2000, seed=1), seed=0)
    assert report.columns["distance"].max() < 0.06
    assert report.corr_diff < 0.05 and report.contingency_tv < 0.06
    assert 0.4 < report.c2st_auc < 0.58
    assert report.score > 0.9
    assert report.exact_match_rate == 0.0


def test_shifted_column_has_high_ks_and_others_do_not(real: pd.DataFrame) -> None:
    synth = make_table(2000, seed=1)
    synth["x"] += 1.0
    cols = evaluate(real, synth).columns.set_index("column")
    assert cols.loc["x", "metric"] == "ks" and cols.loc["x", "statistic"] > 0.3
    # N(0,1) vs N(1,1): KS = 2 * Phi(0.5) - 1 = 0.383
    assert cols.loc["x", "statistic"] == pytest.approx(0.383, abs=0.05)
    assert cols.drop(index="x")["distance"].max() < 0.06


def test_decorrelated_copy_keeps_marginals_but_is_detected(real: pd.DataFrame) -> None:
    report = evaluate(real, shuffle_columns(real, seed=3))
    assert (report.columns["distance"] < 1e-12).all()  # the same values per column
    xy = report.pairwise.set_index(["column_a", "column_b"]).loc[("x", "y")]
    assert xy["real"] == pytest.approx(0.8, abs=0.05) and abs(xy["synth"]) < 0.06
    assert report.corr_diff > 0.15 and report.mixed_tv > 0.05
    assert report.c2st_auc > 0.7
    assert report.score < 0.85


def test_c2st_keeps_its_power_on_discrete_tables() -> None:
    """Common cells are split across folds (only rare twins are grouped), so a wrong
    joint distribution over few cells is still detected."""
    def table(n: int, seed: int, dependent: bool) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        a = rng.integers(0, 6, n)
        b = (a + rng.integers(0, 2, n)) % 6 if dependent else rng.integers(0, 6, n)
        return pd.DataFrame({"a": a.astype(str), "b": b.astype(str)})

    real = table(2000, 0, True)
    assert evaluate(real, table(2000, 1, True)).c2st_auc < 0.56
    assert evaluate(real, table(2000, 2, False)).c2st_auc > 0.75  # Bayes-optimal ~0.83


def test_shifted_dates_and_missing_rates_are_seen(real: pd.DataFrame) -> None:
    synth = real.copy()
    synth["day"] = synth["day"] + pd.Timedelta(days=120)
    synth.loc[: len(synth) // 2, "x"] = np.nan
    cols = evaluate(real, synth).columns.set_index("column")
    assert cols.loc["day", "kind"] == "datetime" and cols.loc["day", "statistic"] > 0.3
    assert cols.loc["x", "missing_diff"] == pytest.approx(0.5, abs=0.01)
    assert cols.loc["x", "distance"] >= 0.49  # KS alone would ignore the missing half
    assert cols.loc["flag", "metric"] == "tv" and cols.loc["flag", "distance"] == 0


def test_categorical_frequencies_give_exact_tv() -> None:
    real = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 50, "v": np.arange(100.0)})
    synth = pd.DataFrame({"c": ["a"] * 80 + ["b"] * 10 + [None] * 10, "v": np.arange(100.0)})
    cols = evaluate(real, synth).columns.set_index("column")
    # |0.5-0.8| + |0.5-0.1| + |0-0.1| = 0.8, halved
    assert cols.loc["c", "statistic"] == pytest.approx(0.4)
    assert cols.loc["c", "missing_synth"] == pytest.approx(0.1)


def test_utility_tstr_tracks_dependence(real: pd.DataFrame) -> None:
    fresh, _ = align(real, make_table(2000, seed=1))
    shuffled, kinds = align(real, shuffle_columns(real, seed=3))
    good = tstr(real, fresh, kinds, "cat")
    bad = tstr(real, shuffled, kinds, "cat")
    assert good.task == "classification" and good.metric == "macro_f1"
    assert good.ratio > 0.85
    assert bad.synth_score < good.synth_score - 0.2
    reg = tstr(real, fresh, kinds, "x")
    assert reg.task == "regression" and reg.metric == "r2"
    assert reg.real_score > 0.5 and reg.ratio > 0.8
    assert evaluate(real.head(300), fresh.head(300), target="flag").utility.target == "flag"


def test_column_order_and_dtype_of_synth_do_not_matter(real: pd.DataFrame) -> None:
    synth = make_table(500, seed=2)
    a = evaluate(real, synth, seed=4)
    reordered = synth[list(reversed(synth.columns))].copy()
    reordered["count"] = reordered["count"].astype(str)  # as read back from a CSV
    b = evaluate(real, reordered, seed=4)
    pd.testing.assert_frame_equal(a.columns, b.columns)
    assert a.c2st_auc == b.c2st_auc


def test_same_seed_same_report_and_json(real: pd.DataFrame) -> None:
    synth = make_table(800, seed=5)
    a, b = evaluate(real, synth, seed=7), evaluate(real, synth, seed=7)
    da, db = a.to_dict(), b.to_dict()
    for d in (da, db):
        d.pop("seconds"), d.pop("timings")
    assert da == db
    text = json.dumps(a.to_dict(), allow_nan=False)
    assert json.loads(text)["summary"]["score"] == pytest.approx(a.score)
    assert a.to_dict()["fidelity"]["c2st"]["rows_per_side"] == 800


def test_report_views(real: pd.DataFrame) -> None:
    report = evaluate(real, make_table(600, seed=6), target="flag")
    assert isinstance(report, TableReport)
    frame = report.to_frame()
    assert list(frame.columns) == ["group", "name", "metric", "value"]
    assert frame["value"].dtype == np.float64
    summary = frame[frame.group == "summary"].set_index("metric")["value"]
    assert summary["score"] == pytest.approx(report.score)
    assert summary["c2st_auc"] == pytest.approx(report.c2st_auc)
    fid = frame[frame.group == "fidelity"]
    assert len(fid[fid.name.str.contains(" x ")]) == len(report.pairwise) == 15
    assert fid.set_index(["name", "metric"]).loc[("x", "ks"), "value"] == pytest.approx(
        report.columns.set_index("column").loc["x", "statistic"])
    util = frame[frame.group == "utility"].set_index(["name", "metric"])["value"]
    assert util[("hgb", "ratio")] == pytest.approx(report.utility.ratio)
    assert set(frame.group) == {"summary", "fidelity", "utility", "privacy"}
    text = report.summary()
    assert "score" in text and "C2ST" in text and "utility" in text and "privacy" in text
    assert len(text.splitlines()) <= 12


def test_score_formula(real: pd.DataFrame) -> None:
    r = evaluate(real, shuffle_columns(real, seed=1))
    expected = np.mean([1 - r.column_distance, 1 - r.pairwise_distance,
                        1 - 2 * max(r.c2st_auc - 0.5, 0)])
    assert r.score == pytest.approx(expected)


def test_arrays_and_single_column_work() -> None:
    rng = np.random.default_rng(0)
    r = evaluate(rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + [0, 3])
    assert list(r.columns["column"]) == ["x0", "x1"]
    assert r.columns["statistic"].iloc[1] > 0.8 and r.c2st_auc > 0.9
    single = evaluate(pd.DataFrame({"a": [1.0, 2, 3, 4]}), pd.DataFrame({"a": [1.0, 2, 3, 5]}))
    assert len(single.pairwise) == 0 and math.isnan(single.pairwise_distance)
    assert 0 <= single.score <= 1


def test_many_levels_stay_cheap() -> None:
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"id": rng.integers(0, 5000, 3000).astype(str),
                         "g": rng.choice(list("abc"), 3000)})
    synth = pd.DataFrame({"id": rng.integers(0, 5000, 3000).astype(str),
                          "g": rng.choice(list("abc"), 3000)})
    r = evaluate(real, synth)
    assert r.columns.set_index("column").loc["id", "statistic"] > 0.5  # mostly unseen ids
    assert r.contingency_tv <= 1.0


@pytest.mark.parametrize(("real_", "synth_", "match"), [
    (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]}), r"missing from synth \['a'\]"),
    (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": [1.0], "b": [2]}), r"not in real \['b'\]"),
    (pd.DataFrame({"a": []}), pd.DataFrame({"a": [1.0]}), "real: got an empty table"),
    (pd.DataFrame({"a": [1.0]}), pd.DataFrame(), "synth: got an empty table"),
    (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": ["x"]}), "column 'a'"),
    ([1, 2], pd.DataFrame({"a": [1.0]}), "real: got list"),
    (np.zeros(3), pd.DataFrame({"a": [1.0]}), "2-D"),
])
def test_bad_tables_raise_value_error(real_: object, synth_: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        evaluate(real_, synth_)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"target": "nope"}, "target: got 'nope'"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"max_rows": 0}, "max_rows"),
])
def test_bad_arguments_raise_value_error(real: pd.DataFrame, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        evaluate(real, real, **kwargs)


def test_csv_and_parquet_paths_and_numpy_seed(real: pd.DataFrame, tmp_path) -> None:
    synth = make_table(400, seed=8)
    real.to_csv(tmp_path / "real.csv", index=False)
    synth.to_parquet(tmp_path / "synth.parquet", index=False)
    from_paths = evaluate(str(tmp_path / "real.csv"), tmp_path / "synth.parquet",
                          seed=np.int64(3))
    assert from_paths.n_real == 2000 and from_paths.n_synth == 400 and from_paths.seed == 3
    assert from_paths.columns.set_index("column").loc["x", "statistic"] < 0.1


def test_max_rows_caps_the_c2st_sample(real: pd.DataFrame) -> None:
    r = evaluate(real, make_table(1500, seed=9), max_rows=300)
    assert r.c2st.rows_per_side == 300 and r.c2st.folds == 5
