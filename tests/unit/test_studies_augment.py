"""Augmentation: exact counts per class, the condition honoured, original rows untouched;
and the downstream study's machinery."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from genmodels.studies import load_result
from genmodels.studies.augment import augment, augment_plan
from genmodels.studies.augment_study import _draw, _oversample, augment_study


def imbalanced(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.choice(["common", "rare", "middle"], size=n, p=[0.7, 0.1, 0.2])
    x = np.where(y == "rare", 3.0, 0.0) + rng.normal(0, 1, n)
    return pd.DataFrame({"x": x.round(3), "k": rng.integers(0, 5, n).astype(np.int64),
                         "colour": rng.choice(["red", "blue"], n), "y": y})


def test_plan_balance_and_ratio_counts() -> None:
    y = pd.Series(["a"] * 10 + ["b"] * 3 + ["c"] * 5 + [None])
    assert augment_plan(y, balance=True) == {"a": 0, "c": 5, "b": 7}
    assert augment_plan(y, ratio=0.5) == {"a": 5, "c": 3, "b": 2}  # 2.5 rounds up
    assert augment_plan(y, ratio=1) == {"a": 10, "c": 5, "b": 3}


@pytest.mark.parametrize("model", ["bayesnet", "gmm"])
def test_balance_adds_exact_rows_per_class_and_keeps_the_original(model: str) -> None:
    df = imbalanced()
    before = df.copy(deep=True)
    out = augment(df, "y", model, balance=True, seed=1, mark="synthetic")
    counts = df["y"].value_counts()
    added = out[out["synthetic"]]["y"].value_counts()
    for label, c in counts.items():
        assert added.get(label, 0) == counts.max() - c
    assert (out["y"].value_counts() == counts.max()).all()
    # original rows first and unchanged; the input frame itself untouched
    pd.testing.assert_frame_equal(out.iloc[: len(df)].drop(columns="synthetic"), df)
    pd.testing.assert_frame_equal(df, before)
    assert not out["synthetic"].iloc[: len(df)].any() and out["synthetic"].iloc[len(df):].all()
    assert (out.drop(columns="synthetic").dtypes == df.dtypes).all()


def test_the_condition_is_honoured_and_follows_the_class() -> None:
    """Synthetic 'rare' rows carry y == 'rare' and look like the rare class (x near 3)."""
    df = imbalanced(n=600)
    out = augment(df, "y", "gmm", balance=True, seed=0, hyperparams={"n_components": 3})
    synth = out.iloc[len(df):]
    rare = synth[synth["y"] == "rare"]
    assert len(rare) == (df["y"] == "common").sum() - (df["y"] == "rare").sum()
    assert abs(rare["x"].mean() - 3.0) < 0.4
    middle = synth[synth["y"] == "middle"]
    assert abs(middle["x"].mean()) < 0.4


def test_ratio_and_per_class_method_give_the_same_counts() -> None:
    df = imbalanced()
    plan = augment_plan(df["y"], ratio=0.3)
    for method in ("condition", "per_class"):
        out = augment(df, "y", "independent", ratio=0.3, seed=0, method=method)
        added = out.iloc[len(df):]["y"].value_counts().to_dict()
        assert added == {k: v for k, v in plan.items() if v}
        pd.testing.assert_frame_equal(out.iloc[: len(df)], df)


def test_same_seed_same_rows() -> None:
    df = imbalanced()
    a = augment(df, "y", "copula", balance=True, seed=5)
    b = augment(df, "y", "copula", balance=True, seed=5)
    pd.testing.assert_frame_equal(a, b)
    c = augment(df, "y", "copula", balance=True, seed=6)
    assert not a.equals(c)


def test_nothing_to_add_returns_a_copy() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": ["a", "a", "b", "b"]})
    out = augment(df, "y", "independent", balance=True)
    pd.testing.assert_frame_equal(out, df)
    assert out is not df


def test_bad_arguments_name_the_argument() -> None:
    df = imbalanced(n=50)
    with pytest.raises(ValueError, match="give exactly one of ratio"):
        augment(df, "y", "copula")
    with pytest.raises(ValueError, match="give exactly one of ratio"):
        augment(df, "y", "copula", ratio=1.0, balance=True)
    with pytest.raises(ValueError, match="ratio: got -1"):
        augment(df, "y", "copula", ratio=-1)
    with pytest.raises(ValueError, match="target: got 'nope'"):
        augment(df, "nope", "copula", balance=True)
    with pytest.raises(ValueError, match="model: unknown name 'nope'"):
        augment(df, "y", "nope", balance=True)
    with pytest.raises(ValueError, match="mark: got 'x'"):
        augment(df, "y", "copula", balance=True, mark="x")
    with pytest.raises(ValueError, match="method: got 'magic'"):
        augment(df, "y", "copula", balance=True, method="magic")
    with pytest.raises(ValueError, match="n_components"):
        augment(df, "y", "gmm", balance=True, hyperparams={"n_components": -1})
    big = imbalanced(n=60).assign(x=np.arange(60.0))
    with pytest.raises(ValueError, match="target: 'x' has 60 distinct values"):
        augment(big, "x", "copula", ratio=1.0)


# ----------------------------------------------------------------- the study
def test_draw_subsamples_the_minority_exactly() -> None:
    codes = np.array([0] * 300 + [1] * 100)
    rng = np.random.default_rng(0)
    idx = _draw(codes, 1, 200, 0.05, rng, np.arange(400))
    assert len(idx) == 200 == len(set(idx)) and (codes[idx] == 1).sum() == 10
    with pytest.raises(ValueError, match="too few rows"):
        _draw(codes, 1, 400, 0.4, rng, np.arange(400))


def test_oversample_balances() -> None:
    df = imbalanced()
    out = _oversample(df, "y", np.random.default_rng(0))
    assert (out["y"].value_counts() == df["y"].value_counts().max()).all()


def test_study_machinery() -> None:
    df = imbalanced(n=1200)
    r = augment_study(df, "y", ["independent"], minority_share=0.05, n_train=300,
                      n_test=300, repeats=2, classifiers=["logistic"], seed=0)
    assert r.arms == ["real", "oversample", "independent"] and r.minority == "rare"
    assert len(r.records) == 2 * 3 and not r.failures
    rec = r.records.set_index(["repeat", "arm"])
    assert rec.loc[(0, "real"), "n_rows"] == 300
    # balanced arms: every class at the majority count of the training draw
    assert rec.loc[(0, "oversample"), "n_rows"] == rec.loc[(0, "independent"), "n_rows"] > 600
    for m in ("accuracy", "macro_f1", "minority_f1", "balanced_accuracy"):
        assert r.records[m].between(0, 1).all()
    # "rare" is well separated (x ~ 3): the real arm already finds it
    assert r.values("real", "logistic", "minority_f1").mean() > 0.5
    d = r.to_dict()
    again = load_result(json.loads(json.dumps(d, allow_nan=False)))
    assert again.to_dict() == d and again.sentences() == r.sentences()
    html = r.to_html()
    assert "data:image/png;base64," in html and "minority-class F1" in html
    assert set(r.verdicts()) == {"logistic/oversample", "logistic/independent"}
    summary = r.summary()
    assert len(summary) == 3 and summary["minority_f1_mean"].notna().all()


def test_a_failing_arm_is_recorded() -> None:
    df = imbalanced(n=800)
    r = augment_study(df, "y", ["gmm"], n_train=100, n_test=100, repeats=1,
                      classifiers=["logistic"], hyperparams={"gmm": {"n_components": 500}})
    assert [f["arm"] for f in r.failures] == ["gmm"]
    assert np.isnan(r.values("gmm", "logistic", "accuracy")).all()
    assert np.isfinite(r.values("real", "logistic", "accuracy")).all()
