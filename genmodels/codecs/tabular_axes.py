"""Numeric axes: a numeric, integer or datetime column <-> one float per row.

An axis reads a column as floats (NaN for missing; datetimes as seconds since the epoch,
UTC) and writes floats back in the column's own type: clipped to the training range,
rounded to the decimals (or time granularity) seen in training, with the original dtype.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from genmodels.codecs.tabular_meta import iso_format, strftime_format
from genmodels.codecs.tabular_values import (
    MAX_EXACT_INT,
    as_float,
    count_decimals,
    jsonable,
    parse_number,
)

_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_GRAINS_S = (86400, 3600, 60, 1, 1e-3, 1e-6, 1e-9)  # day .. nanosecond
_NAT = np.iinfo(np.int64).min


class NumberAxis:
    """Continuous or integer values; ``decimals`` None means no rounding."""

    def __init__(self, name: str, kind: str) -> None:
        self.name, self.kind = name, kind
        self.dtype: str = "float64"
        self.lo = self.hi = 0.0
        self.decimals: int | None = 0 if kind == "integer" else None

    def fit(self, s: pd.Series) -> np.ndarray:
        v = self.to_float(s)
        obs = v[~np.isnan(v)]
        self.lo, self.hi = float(obs.min()), float(obs.max())
        has_missing = bool(np.isnan(v).any())
        if self.kind == "integer":
            if not np.all(obs == np.round(obs)) or max(abs(self.lo), abs(self.hi)) >= MAX_EXACT_INT:
                raise ValueError(
                    f"metadata: column {self.name!r} has values that are not integers "
                    f"below 2**53 in size; allowed kinds: 'continuous', 'categorical'"
                )
            self.dtype = _int_dtype(s.dtype, has_missing)
        else:
            self.decimals = count_decimals(obs)
            self.dtype = str(s.dtype) if pd.api.types.is_float_dtype(s.dtype) else "float64"
        return v

    def to_float(self, s: pd.Series) -> np.ndarray:
        return as_float(s, self.name)

    def from_float(self, v: np.ndarray, missing: np.ndarray, *, exact: bool = False) -> pd.Series:
        """``v: (n,)`` floats -> the column; ``exact`` skips clipping and rounding."""
        if not exact:
            v = np.clip(v, self.lo, self.hi)
            if self.decimals is not None:
                v = np.clip(np.round(v, self.decimals), self.lo, self.hi)
        if self.kind == "integer":
            ints = np.rint(np.where(missing, 0.0, v)).astype(np.int64)
            arr = pd.arrays.IntegerArray(ints, missing.copy())
            return pd.Series(arr).astype(self.dtype)
        return pd.Series(np.where(missing, np.nan, v)).astype(self.dtype)

    def parse(self, value: Any) -> float:
        v = parse_number(value, self.name)
        if not self.lo <= v <= self.hi:
            raise ValueError(
                f"condition: value {value!r} for {self.name!r} is outside the "
                f"training range [{_num(self.lo)}, {_num(self.hi)}]"
            )
        if self.kind == "integer" and v != round(v):
            raise ValueError(f"condition: column {self.name!r} holds integers; got {value!r}")
        return v

    def typed(self, v: float) -> Any:
        return self.from_float(np.array([v]), np.zeros(1, bool), exact=True).iloc[0]

    def facts(self) -> dict:
        out = {"min": _num(self.lo), "max": _num(self.hi), "dtype": self.dtype}
        if self.kind == "continuous":
            out["decimals"] = self.decimals
        return out

    def to_json(self) -> dict:
        return {
            "axis": "number",
            "kind": self.kind,
            "dtype": self.dtype,
            "lo": self.lo,
            "hi": self.hi,
            "decimals": self.decimals,
        }

    @classmethod
    def from_json(cls, name: str, d: Mapping[str, Any]) -> NumberAxis:
        axis = cls(name, d["kind"])
        axis.dtype, axis.lo, axis.hi, axis.decimals = d["dtype"], d["lo"], d["hi"], d["decimals"]
        return axis


def _int_dtype(dtype: Any, has_missing: bool) -> str:
    if pd.api.types.is_integer_dtype(dtype):
        if isinstance(dtype, np.dtype) and has_missing:
            return "Int64"
        return str(dtype)
    return "Int64" if has_missing else "int64"


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() and abs(v) < MAX_EXACT_INT else float(v)


class TimeAxis:
    """Datetimes (naive or with a timezone, any resolution) or ISO date strings."""

    kind = "datetime"

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = "datetime64[us]"
        self.unit, self.tz, self.fmt = "us", None, None  # fmt: strftime format of ISO strings
        self.grain = 1  # rounding step, in units
        self.wall_lo = self.wall_hi = 0  # local clock range, in units
        self.origin = 0  # UTC minimum, in units
        self.lo = self.hi = 0.0  # UTC seconds range, from origin

    def fit(self, s: pd.Series) -> np.ndarray:
        if not pd.api.types.is_datetime64_any_dtype(s.dtype):
            uniques = pd.Series(pd.unique(s.dropna().to_numpy(dtype=object)), dtype=object)
            self.fmt = iso_format(uniques.astype(str)) if len(uniques) else None
            if self.fmt is None:
                raise ValueError(
                    f"metadata: column {self.name!r} is not made of datetimes or "
                    "ISO dates (YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]); allowed kinds: "
                    "'categorical', 'text', 'id'"
                )
        self.dtype = str(s.dtype)
        dt = self._as_datetime(s)
        self.unit, self.tz = str(dt.dt.unit), _tz_name(dt)
        if self.unit not in _PER_SECOND:
            raise ValueError(
                f"data: column {self.name!r} has datetime unit {self.unit!r}; "
                f"allowed: {', '.join(_PER_SECOND)}"
            )
        wall = _ints(dt.dt.tz_localize(None) if self.tz else dt)
        ok = wall != _NAT
        self.wall_lo, self.wall_hi = int(wall[ok].min()), int(wall[ok].max())
        per = _PER_SECOND[self.unit]
        self.grain = next(
            int(g * per) for g in _GRAINS_S if g * per >= 1 and np.all(wall[ok] % int(g * per) == 0)
        )
        utc = self._utc_ints(dt)
        self.origin = int(utc[utc != _NAT].min())
        v = self._seconds(utc)
        self.lo, self.hi = float(np.nanmin(v)), float(np.nanmax(v))
        return v

    def _as_datetime(self, s: pd.Series) -> pd.Series:
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            return s
        fmt = strftime_format(self.fmt)[0] if self.fmt else "ISO8601"
        try:
            out = pd.to_datetime(s.astype(object), format=fmt, utc=self.tz is not None)
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
            raise ValueError(
                f"data: column {self.name!r} holds a value that is not a date of "
                f"the form {self.fmt or 'ISO 8601'!r}"
            ) from None
        return out if self.fmt is None else out.astype("datetime64[us]")

    def to_float(self, s: pd.Series) -> np.ndarray:
        """Seconds since the training minimum, UTC (naive values are read as UTC; the
        shift from the epoch keeps nanoseconds exact over short spans); NaN for missing."""
        return self._seconds(self._utc_ints(self._as_datetime(s)))

    def _utc_ints(self, dt: pd.Series) -> np.ndarray:
        if self.tz is not None and getattr(dt.dt, "tz", None) is None:
            dt = dt.dt.tz_localize(
                self.tz, ambiguous=np.zeros(len(dt), bool), nonexistent="shift_forward"
            )
        if self.tz is not None:
            dt = dt.dt.tz_convert("UTC").dt.tz_localize(None)
        elif getattr(dt.dt, "tz", None) is not None:
            raise ValueError(
                f"data: column {self.name!r} was naive in training; got timezone {_tz_name(dt)!r}"
            )
        return _ints(dt.dt.as_unit(self.unit))

    def _seconds(self, ints: np.ndarray) -> np.ndarray:
        per = _PER_SECOND[self.unit]
        o_s, o_f = divmod(self.origin, per)
        secs, frac = np.divmod(ints, per)
        out = (secs - o_s).astype(np.float64) + (frac - o_f) / per
        out[ints == _NAT] = np.nan
        return out

    def _units(self, v: np.ndarray) -> np.ndarray:
        """Seconds from the origin -> int64 UTC timestamps in the column's unit."""
        per = _PER_SECOND[self.unit]
        o_s, o_f = divmod(self.origin, per)
        secs = np.floor(v)
        frac = np.rint((v - secs) * per).astype(np.int64)
        return (o_s + secs.astype(np.int64)) * per + o_f + frac

    def from_float(self, v: np.ndarray, missing: np.ndarray, *, exact: bool = False) -> pd.Series:
        v = np.clip(np.where(missing, self.lo, v), self.lo, self.hi)
        wall = self._to_wall(self._units(v))
        if not exact:
            g = self.grain
            wall = np.clip((wall + g // 2) // g * g, self.wall_lo, self.wall_hi)
        wall = np.where(missing, _NAT, wall)
        idx = pd.DatetimeIndex(wall.astype(f"datetime64[{self.unit}]"))
        if self.fmt is not None:
            fmt, digits = strftime_format(self.fmt)
            text = pd.Series(idx.strftime(fmt), dtype=object)
            if 0 < digits < 6:
                text = text.str[: digits - 6]
            return pd.Series(np.where(missing, None, text.to_numpy(dtype=object)), dtype=self.dtype)
        if self.tz is not None:
            idx = idx.tz_localize(
                self.tz, ambiguous=np.zeros(len(idx), bool), nonexistent="shift_forward"
            )
        return pd.Series(idx).astype(self.dtype)

    def _to_wall(self, utc: np.ndarray) -> np.ndarray:
        if self.tz is None:
            return utc
        idx = pd.DatetimeIndex(utc.astype(f"datetime64[{self.unit}]")).tz_localize("UTC")
        return _ints(pd.Series(idx.tz_convert(self.tz).tz_localize(None)))

    def parse(self, value: Any) -> float:
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"condition: column {self.name!r} holds datetimes; got {value!r}"
            ) from None
        if ts.tzinfo is None and self.tz is not None:
            ts = ts.tz_localize(self.tz)
        elif ts.tzinfo is not None and self.tz is None:
            raise ValueError(
                f"condition: column {self.name!r} holds naive datetimes; got "
                f"{value!r} with a timezone"
            )
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        try:
            v = float(self._seconds(_ints(pd.Series([ts]).dt.as_unit(self.unit)))[0])
        except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
            v = -np.inf if ts.year < 1970 else np.inf
        if not self.lo <= v <= self.hi:
            raise ValueError(
                f"condition: value {value!r} for {self.name!r} is outside the training "
                f"range [{self.typed(self.lo)}, {self.typed(self.hi)}]"
            )
        return v

    def typed(self, v: float) -> Any:
        return self.from_float(np.array([v]), np.zeros(1, bool), exact=self.fmt is None).iloc[0]

    def facts(self) -> dict:
        return {
            "min": jsonable(self.typed(self.lo)),
            "max": jsonable(self.typed(self.hi)),
            "timezone": self.tz,
            "dtype": self.dtype,
            "format": self.fmt,
        }

    def to_json(self) -> dict:
        keys = ("dtype", "unit", "tz", "fmt", "grain", "wall_lo", "wall_hi", "origin", "lo", "hi")
        return {"axis": "time", **{k: getattr(self, k) for k in keys}}

    @classmethod
    def from_json(cls, name: str, d: Mapping[str, Any]) -> TimeAxis:
        axis = cls(name)
        for k in (
            "dtype",
            "unit",
            "tz",
            "fmt",
            "grain",
            "wall_lo",
            "wall_hi",
            "origin",
            "lo",
            "hi",
        ):
            setattr(axis, k, d[k])
        return axis


def _ints(dt: pd.Series) -> np.ndarray:
    """datetime64 Series (naive) -> int64 in its unit, NaT as int64 min."""
    return dt.to_numpy().view(np.int64).copy()


def _tz_name(dt: pd.Series) -> str | None:
    tz = getattr(dt.dt, "tz", None)
    return None if tz is None else str(tz)


def make_axis(name: str, kind: str) -> NumberAxis | TimeAxis:
    return TimeAxis(name) if kind == "datetime" else NumberAxis(name, kind)


def axis_from_json(name: str, d: Mapping[str, Any]) -> NumberAxis | TimeAxis:
    return TimeAxis.from_json(name, d) if d["axis"] == "time" else NumberAxis.from_json(name, d)
