"""Columns that are not modelled (no encoded field): id, constant and empty columns.

* id: regenerated on decode as unique values of the same form (an integer sequence from
  the training minimum, ``ID-000123``-style counters, or UUIDs drawn from the seed).
* constant: reproduced exactly (same value, same dtype).
* empty: all missing in training, all missing on decode.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import numpy as np
import pandas as pd

from genmodels.codecs.tabular_column import Column
from genmodels.codecs.tabular_meta import id_form
from genmodels.codecs.tabular_values import (
    as_float,
    dtype_from_json,
    dtype_to_json,
    jsonable,
    make_series,
    value_type,
    values_from_json,
    values_to_json,
)


class FixedColumn(Column):
    type = "fixed"

    def __init__(self, name: str, kind: str, mode: str) -> None:
        super().__init__(name, kind, mode)
        self.dtype: Any = np.dtype(object)
        self.value: Any = None  # constant
        self.form: dict = {}  # id

    def fit(self, s: pd.Series, source: str) -> None:
        missing = s.isna()
        self.missing_rate = float(missing.mean())
        self.dtype = s.dtype
        observed = s[~missing]
        if self.kind == "empty":
            if len(observed):
                raise ValueError(
                    f"metadata: column {self.name!r} is not all missing; kind 'empty' "
                    "is for all-missing columns"
                )
        elif self.kind == "constant":
            self._fit_constant(observed, source, len(s))
        else:
            self.form = _fit_id(self.name, observed, source)

    def _fit_constant(self, observed: pd.Series, source: str, n: int) -> None:
        values = observed.astype(object)
        if source == "mixed":
            values = values.map(str)
        uniq = pd.unique(values.to_numpy(dtype=object))
        if len(uniq) != 1 or len(observed) != n:
            raise ValueError(
                f"metadata: column {self.name!r} is not constant ({len(uniq)} distinct "
                f"values, {n - len(observed)} missing); kind 'constant' needs one value "
                "and no missing values"
            )
        value = uniq[0]
        vtype = value_type([value])
        if vtype == "int" and pd.api.types.is_float_dtype(self.dtype):
            vtype = "float"
        self.value = values_from_json(values_to_json([value], vtype))[0]
        if source == "mixed":
            self.dtype = np.dtype(object)
        if isinstance(self.dtype, pd.CategoricalDtype):
            cats = values_from_json(values_to_json(list(self.dtype.categories)))
            self.dtype = pd.CategoricalDtype(cats, ordered=self.dtype.ordered)

    def decode(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series:
        n = block.shape[0]
        if self.kind == "empty":
            return pd.Series(index=pd.RangeIndex(n), dtype=self.dtype)
        if self.kind == "constant":
            values = np.empty(n, dtype=object)
            values[:] = [self.value] * n
            return make_series(values, None, self.dtype)
        return _make_ids(self.form, n, rng, self.dtype)

    def condition(self, value: Any) -> dict[int, float]:
        why = {
            "id": "an id column (regenerated as unique values, not modelled)",
            "constant": f"constant in the training data (always {self.value!r}; not modelled)",
            "empty": "all missing in the training data (not modelled)",
        }[self.kind]
        raise ValueError(f"condition: column {self.name!r} is {why}; it cannot be conditioned on")

    def fill(self, value: Any, n: int) -> pd.Series:
        self.condition(value)
        raise AssertionError("unreachable")

    def facts(self) -> dict:
        out = {**super().facts(), "dtype": dtype_to_json(self.dtype)["dtype"]}
        if self.kind == "constant":
            out["value"] = jsonable(self.value)
        if self.kind == "id":
            out["form"] = self.form["form"]
        return out

    def to_json(self) -> dict:
        value = None if self.kind != "constant" else values_to_json([self.value])
        return {
            **super().to_json(),
            "dtype": dtype_to_json(self.dtype),
            "value": value,
            "form": self.form,
        }

    @classmethod
    def from_json(cls, d: dict) -> FixedColumn:
        col = cls(d["name"], d["kind"], d["mode"])
        col._load_common(d)
        col.dtype = dtype_from_json(d["dtype"])
        col.value = None if d["value"] is None else values_from_json(d["value"])[0]
        col.form = d["form"]
        return col


def _fit_id(name: str, observed: pd.Series, source: str) -> dict:
    if source in ("number", "bool") or pd.api.types.is_numeric_dtype(observed.dtype):
        v = as_float(observed, name)
        start = math.ceil(float(np.min(v))) if len(v) else 0
        return {"form": "int", "start": int(start)}
    uniques = pd.Series(pd.unique(observed.astype(object).to_numpy()), dtype=object).astype(str)
    form = id_form(uniques) if len(uniques) else None
    return form or {"form": "counter", "prefix": f"{name}-", "width": 0, "start": 1}


def _make_ids(form: dict, n: int, rng: np.random.Generator, dtype: Any) -> pd.Series:
    if form["form"] == "int":
        values = np.arange(form["start"], form["start"] + n, dtype=np.int64)
        if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            return pd.Series(values).astype(dtype)
        return make_series(values.astype(object), None, dtype)
    if form["form"] == "uuid":
        raw = rng.bytes(16 * n)
        values = [str(uuid.UUID(bytes=raw[16 * i : 16 * i + 16], version=4)) for i in range(n)]
        if form["upper"]:
            values = [v.upper() for v in values]
    else:
        prefix, width, start = form["prefix"], form["width"], form["start"]
        values = [f"{prefix}{k:0{width}d}" for k in range(start, start + n)]
    if isinstance(dtype, pd.CategoricalDtype) or not pd.api.types.is_string_dtype(dtype):
        dtype = np.dtype(object)
    return make_series(np.asarray(values, dtype=object), None, dtype)
