"""Small value-level helpers of the tabular codec: typed JSON values, dtypes, decimals.

Levels and constants are stored in JSON together with their Python type, so that a
saved codec gives back ``2007`` (int), ``2007.0`` (float), ``"2007"`` (str) or ``True``
exactly as they were in training.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

VALUE_TYPES = ("str", "int", "float", "bool", "datetime")
MAX_EXACT_INT = 2**53


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pd.NA (scalars only)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return False


def value_type(values: Sequence[Any]) -> str:
    """The common JSON type tag of non-missing Python/numpy scalars (``str`` if mixed)."""
    tags = {_tag(v) for v in values}
    if len(tags) == 1:
        return tags.pop()
    if tags <= {"int", "float"}:
        return "float"
    return "str"


def _tag(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "bool"
    if isinstance(v, numbers.Integral):
        return "int"
    if isinstance(v, numbers.Real):
        return "float"
    if isinstance(v, pd.Timestamp | np.datetime64):
        return "datetime"
    return "str"


def values_to_json(values: Sequence[Any], vtype: str | None = None) -> dict:
    """``{"type": tag, "values": [...]}`` with plain JSON scalars (no NaN)."""
    vtype = vtype or value_type(values)
    if vtype == "int":
        out = [int(v) for v in values]
    elif vtype == "float":
        out = [float(v) for v in values]
        if not all(math.isfinite(v) for v in out):
            raise ValueError("levels: non-finite float levels cannot be stored")
    elif vtype == "bool":
        out = [bool(v) for v in values]
    elif vtype == "datetime":
        out = [pd.Timestamp(v).isoformat() for v in values]
    else:
        out = [str(v) for v in values]
    return {"type": vtype, "values": out}


def values_from_json(data: Mapping[str, Any]) -> list[Any]:
    vtype, values = data["type"], data["values"]
    if vtype not in VALUE_TYPES:
        raise ValueError(
            f"codec.json: unknown value type {vtype!r}; allowed: {', '.join(VALUE_TYPES)}"
        )
    if vtype == "int":
        return [int(v) for v in values]
    if vtype == "float":
        return [float(v) for v in values]
    if vtype == "bool":
        return [bool(v) for v in values]
    if vtype == "datetime":
        return [pd.Timestamp(v) for v in values]
    return [str(v) for v in values]


def dtype_to_json(dtype: Any) -> dict:
    """A dtype as JSON; a categorical dtype keeps its categories (typed) and order."""
    if isinstance(dtype, pd.CategoricalDtype):
        cats = list(dtype.categories)
        return {
            "dtype": "category",
            "categories": values_to_json(cats),
            "ordered": bool(dtype.ordered),
        }
    return {"dtype": str(dtype)}


def dtype_from_json(data: Mapping[str, Any]) -> Any:
    if data["dtype"] == "category":
        return pd.CategoricalDtype(values_from_json(data["categories"]), ordered=data["ordered"])
    return pd.api.types.pandas_dtype(data["dtype"])


def make_series(
    values: Sequence[Any] | np.ndarray, missing: np.ndarray | None, dtype: Any
) -> pd.Series:
    """A Series of ``dtype`` from object/typed ``values``; ``missing`` rows become NA."""
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if missing is not None and missing.any():
        arr = arr.astype(object, copy=True)
        arr[missing] = None
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.Series(pd.Categorical(arr, dtype=dtype))
    if dtype == np.dtype(bool) and missing is not None and missing.any():
        dtype = "boolean"
    if (
        pd.api.types.is_integer_dtype(dtype)
        and isinstance(dtype, np.dtype)
        and missing is not None
        and missing.any()
    ):
        dtype = "Int64"
    return pd.Series(arr, dtype=dtype)


def count_decimals(values: np.ndarray, max_decimals: int = 6) -> int | None:
    """Fewest decimals (0..max) that reproduce every finite value; None if more are needed."""
    v = values[np.isfinite(values)]
    for d in range(max_decimals + 1):
        r = np.round(v, d)
        if np.all(np.abs(r - v) <= 4 * np.spacing(np.abs(v))):  # a few ulps of float noise
            return d
    return None


def robust_scale(v: np.ndarray) -> tuple[float, float]:
    """Mean and a positive finite scale (std, else range, else 1) of finite values."""
    if v.size == 0:
        return 0.0, 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(np.mean(v))
        if not math.isfinite(mean):
            mean = float(np.median(v))
        std = float(np.std(v))
        if math.isfinite(std) and std > 0:
            return mean, std
        rng = float(np.max(v) - np.min(v))
        if math.isfinite(rng) and rng > 0:
            return mean, rng
        big = float(np.max(np.abs(v)))
        return mean, big if math.isfinite(big) and big > 0 else 1.0


def as_float(s: pd.Series, name: str) -> np.ndarray:
    """Numeric column (any numeric/nullable/object-of-numbers dtype) -> float64 with NaN."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64").to_numpy()
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        out = pd.to_numeric(s.astype(object), errors="raise")
    except (TypeError, ValueError):
        bad = _first_non_numeric(s)
        raise ValueError(
            f"data: column {name!r} holds a non-numeric value {bad!r}; allowed: numbers or missing"
        ) from None
    arr = np.asarray(out, dtype=np.float64)
    n_inf = int(np.isinf(arr).sum())
    if n_inf:
        raise ValueError(
            f"data: column {name!r} has {n_inf} infinite value(s); "
            "allowed: finite numbers or missing"
        )
    return arr


def _first_non_numeric(s: pd.Series) -> Any:
    for v in s:
        if is_missing(v):
            continue
        try:
            float(v)
        except (TypeError, ValueError):
            return v
    return None


def parse_number(value: Any, name: str) -> float:
    """A user's scalar as a finite float (numbers or numeric strings; not bools)."""
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"condition: column {name!r} is numeric; got the boolean {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"condition: column {name!r} is numeric; got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"condition: value for {name!r} must be finite, got {value!r}")
    return v


def jsonable(value: Any) -> Any:
    """Numpy/pandas scalars -> plain JSON scalars (NaN -> None)."""
    if is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def shorten(items: Sequence[Any], k: int = 10, *, quote: bool = True) -> str:
    """``'a', 'b', ... (N in all)`` for error messages (``a, b, ...`` without ``quote``)."""
    shown = ", ".join(repr(v) if quote and isinstance(v, str) else str(v) for v in list(items)[:k])
    return shown + (f", ... ({len(items)} in all)" if len(items) > k else "")
