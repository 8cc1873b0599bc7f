"""Categorical columns (categorical, boolean, text): sorted observed levels, plus one
level for missing values if training had any.

* mixed / discrete: one discrete field holding the level's code.
* continuous, at most ``max_onehot`` levels: one continuous 0/1 field per level
  (``species=Gentoo``), decoded by argmax.
* continuous, more levels: one continuous field holding the normal score of the level's
  frequency interval (levels sorted by frequency), decoded by the interval that
  ``Phi(z)`` falls into. Memory is linear in the number of levels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from genmodels.codecs.tabular_column import Column
from genmodels.codecs.tabular_values import (
    as_float,
    dtype_from_json,
    dtype_to_json,
    is_missing,
    make_series,
    shorten,
    value_type,
    values_from_json,
    values_to_json,
)
from genmodels.models.base import Field

_TRUE, _FALSE = {"true", "1", "yes", "t", "y"}, {"false", "0", "no", "f", "n"}


class CategoricalColumn(Column):
    type = "categorical"

    def __init__(self, name: str, kind: str, mode: str, max_onehot: int = 50) -> None:
        super().__init__(name, kind, mode)
        self.max_onehot = max_onehot
        self.vtype = "str"
        self.levels: list[Any] = []
        self.dtype: Any = np.dtype(object)
        self.has_missing = False
        self.counts = np.zeros(0, np.int64)  # per code, the missing level last
        self._cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ fit
    def fit(self, s: pd.Series, source: str) -> None:
        missing = s.isna().to_numpy()
        observed = s[~missing]
        self.vtype = _level_type(s, source)
        self.dtype = _out_dtype(s, self.vtype)
        values = self._normalize(observed)
        levels = sorted(pd.unique(values).tolist())
        self.levels = values_from_json(values_to_json(levels, self.vtype))  # plain typed values
        if self.kind == "boolean" and len(self.levels) > 2:
            raise ValueError(
                f"metadata: column {self.name!r} has {len(self.levels)} distinct values; "
                "kind 'boolean' allows at most 2"
            )
        if source == "mixed" and not _fits_dtype(self.levels, self.dtype):
            self.dtype = np.dtype(object)  # e.g. intervals: their str() is not an interval
        self.has_missing = bool(missing.any())
        self.missing_rate = float(missing.mean())
        self._cache = {}
        codes = self._codes(s)
        self.counts = np.bincount(codes, minlength=self.n_levels).astype(np.int64)

    @property
    def n_levels(self) -> int:
        return len(self.levels) + int(self.has_missing)

    @property
    def layout(self) -> str:
        if self.mode != "continuous":
            return "code"
        return "onehot" if self.n_levels <= self.max_onehot else "normal"

    def fields(self) -> list[Field]:
        if self.layout == "code":
            return [Field(self.name, "discrete", self.n_levels)]
        if self.layout == "normal":
            return [Field(self.name, "continuous")]
        names = [f"{self.name}={v}" for v in self.levels]
        names += [f"{self.name}=<missing>"] if self.has_missing else []
        return [Field(n, "continuous") for n in names]

    # --------------------------------------------------------------- encode
    def _normalize(self, observed: pd.Series) -> np.ndarray:
        """Non-missing values -> an array comparable with the levels."""
        if self.vtype == "int" and pd.api.types.is_signed_integer_dtype(observed.dtype):
            return observed.to_numpy(dtype=np.int64)  # exact beyond 2**53
        if self.vtype in ("int", "float"):
            return as_float(observed, self.name)
        if self.vtype == "datetime":
            return pd.to_datetime(observed).to_numpy()
        if self.vtype == "bool":
            return observed.astype(object).to_numpy()
        values = observed.to_numpy(dtype=object)
        if not pd.api.types.is_string_dtype(observed.dtype) or pd.api.types.is_object_dtype(
            observed.dtype
        ):
            values = np.array([v if isinstance(v, str) else str(v) for v in values], dtype=object)
        return values

    def _index(self) -> pd.Index:
        if "index" not in self._cache:
            dtype = {"int": "int64", "float": "float64"}.get(self.vtype, object)
            levels = self.levels if self.vtype != "datetime" else pd.DatetimeIndex(self.levels)
            self._cache["index"] = pd.Index(
                levels, dtype=dtype if self.vtype != "datetime" else None
            )
        return self._cache["index"]

    def _codes(self, s: pd.Series) -> np.ndarray:
        missing = s.isna().to_numpy()
        if missing.any() and not self.has_missing:
            raise ValueError(
                f"data: column {self.name!r} has {int(missing.sum())} missing value(s) "
                "but had none in training; allowed: values only"
            )
        codes = np.full(len(s), len(self.levels), np.int64)
        values = self._normalize(s[~missing])
        found = self._index().get_indexer(values)
        if (found < 0).any():
            bad = values[np.flatnonzero(found < 0)[0]]
            raise ValueError(
                f"data: column {self.name!r} has value {bad!r} not seen in training; "
                f"allowed: {shorten(self.levels)}"
            )
        codes[~missing] = found
        return codes

    def encode(self, s: pd.Series, rng: np.random.Generator) -> np.ndarray:
        codes = self._codes(s)
        if self.layout == "code":
            return codes.astype(np.float64)[:, None]
        if self.layout == "normal":
            return self._scores()[codes][:, None]
        out = np.zeros((len(codes), self.n_levels))
        out[np.arange(len(codes)), codes] = 1.0
        return out

    def _scores(self) -> np.ndarray:
        """Per code: the normal score of the midpoint of its frequency interval."""
        if "scores" not in self._cache:
            from scipy.special import ndtri  # lazy: keeps `import genmodels.codecs` light

            order, edges = self._intervals()
            scores = np.empty(self.n_levels)
            scores[order] = ndtri((edges[:-1] + edges[1:]) / 2)
            self._cache["scores"] = scores
        return self._cache["scores"]

    def _intervals(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(-self.counts, kind="stable")
        edges = np.concatenate([[0.0], np.cumsum(self.counts[order])]) / self.counts.sum()
        return order, edges

    # --------------------------------------------------------------- decode
    def decode(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series:
        if self.layout == "code":
            codes = np.clip(np.rint(block[:, 0]), 0, self.n_levels - 1).astype(np.int64)
        elif self.layout == "onehot":
            codes = np.argmax(block, axis=1)
        else:
            from scipy.special import ndtr

            order, edges = self._intervals()
            k = np.searchsorted(edges[1:-1], ndtr(block[:, 0]), side="right")
            codes = order[np.clip(k, 0, self.n_levels - 1)]
        return self._series(codes)

    def _series(self, codes: np.ndarray) -> pd.Series:
        if "levels" not in self._cache:
            lv = np.empty(len(self.levels) + 1, dtype=object)
            lv[: len(self.levels)] = self.levels
            self._cache["levels"] = lv
        missing = codes == len(self.levels)
        return make_series(self._cache["levels"][codes], missing, self.dtype)

    # ----------------------------------------------------------- conditions
    def match(self, value: Any) -> int:
        """The code of a user's value; strings for numbers ("1") when unambiguous."""
        if is_missing(value):
            if not self.has_missing:
                raise ValueError(
                    f"condition: column {self.name!r} had no missing values in "
                    f"training; allowed: {shorten(self.levels)}"
                )
            return len(self.levels)
        index = self._index()
        codes = {
            int(c) for c in (index.get_indexer([x])[0] for x in self._candidates(value)) if c >= 0
        }
        if len(codes) == 1:
            return codes.pop()
        why = "is ambiguous" if codes else "was not seen in training"
        raise ValueError(
            f"condition: value {value!r} for column {self.name!r} {why}; "
            f"allowed: {shorten(self.levels)}"
        )

    def _candidates(self, value: Any) -> list[Any]:
        if self.vtype == "bool":
            if isinstance(value, bool | np.bool_):
                return [bool(value)]
            text = str(value).strip().lower()
            return [True] if text in _TRUE else [False] if text in _FALSE else []
        if self.vtype in ("int", "float"):
            if isinstance(value, bool | np.bool_):
                return []
            try:
                v = float(value)
            except (TypeError, ValueError):
                return []
            return [v] if np.isfinite(v) else []
        if self.vtype == "datetime":
            try:
                ts = pd.Timestamp(value)
                tz = getattr(self.dtype, "tz", None)
                return [ts.tz_localize(tz) if ts.tzinfo is None and tz is not None else ts]
            except (TypeError, ValueError):
                return []
        out = [value] if isinstance(value, str) else [str(value)]
        if isinstance(value, float) and value.is_integer():
            out.append(str(int(value)))
        return out

    def condition(self, value: Any) -> dict[int, float]:
        code = self.match(value)
        if self.layout == "code":
            return {0: float(code)}
        if self.layout == "normal":
            return {0: float(self._scores()[code])}
        return {j: float(j == code) for j in range(self.n_levels)}

    def fill(self, value: Any, n: int) -> pd.Series:
        return self._series(np.full(n, self.match(value), np.int64))

    # ---------------------------------------------------------------- facts
    def facts(self) -> dict:
        return {
            **super().facts(),
            "n_levels": len(self.levels),
            "dtype": dtype_to_json(self.dtype)["dtype"],
        }

    def summary(self) -> dict:
        return {**super().summary(), "levels": len(self.levels)}

    def to_json(self) -> dict:
        return {
            **super().to_json(),
            "max_onehot": self.max_onehot,
            "levels": values_to_json(self.levels, self.vtype),
            "dtype": dtype_to_json(self.dtype),
            "has_missing": self.has_missing,
            "counts": self.counts.tolist(),
        }

    @classmethod
    def from_json(cls, d: dict) -> CategoricalColumn:
        col = cls(d["name"], d["kind"], d["mode"], d["max_onehot"])
        col._load_common(d)
        col.vtype = d["levels"]["type"]
        col.levels = values_from_json(d["levels"])
        col.dtype = dtype_from_json(d["dtype"])
        col.has_missing = d["has_missing"]
        col.counts = np.asarray(d["counts"], dtype=np.int64)
        return col


def _level_type(s: pd.Series, source: str) -> str:
    if source in ("mixed", "string", "isodate", "empty"):
        return "str"
    if source == "bool":
        return "bool"
    if source == "datetime":
        return "datetime"
    if source == "category":
        cats = list(s.cat.categories)
        return value_type(cats) if cats else "str"
    if pd.api.types.is_integer_dtype(s.dtype):
        return "int"
    if pd.api.types.is_float_dtype(s.dtype):
        return "float"
    return value_type(s.dropna().tolist())  # object column of numbers


def _out_dtype(s: pd.Series, vtype: str) -> Any:
    """The dtype to decode into: the training dtype, with categories made consistent."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = values_from_json(values_to_json(list(s.cat.categories), vtype))
        return pd.CategoricalDtype(cats, ordered=s.dtype.ordered)
    return s.dtype


def _fits_dtype(levels: list[Any], dtype: Any) -> bool:
    try:
        back = make_series(np.asarray(levels, dtype=object), None, dtype)
    except (TypeError, ValueError):
        return False
    return [str(v) for v in back] == [str(v) for v in levels]
