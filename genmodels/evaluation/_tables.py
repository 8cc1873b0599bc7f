"""Input checks and column preparation shared by the table metrics.

Every metric sees a column either as a float vector (numeric and datetime columns,
``NaN`` for missing) or as integer codes (categorical and boolean columns, where a
missing value is a level of its own).
"""

from __future__ import annotations

import os
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api import types as pdt

Kind = Literal["numeric", "datetime", "categorical"]


def as_frame(data: Any, argument: str) -> pd.DataFrame:
    """A DataFrame, a 2-D array (columns ``x0..``) or a CSV/Parquet path -> DataFrame."""
    if isinstance(data, str | os.PathLike):
        from genmodels.codecs.tabular_io import read_table

        data = read_table(data)
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ValueError(f"{argument}: got an array of shape {data.shape}; allowed: 2-D (n, d)")
        data = pd.DataFrame(data, columns=[f"x{i}" for i in range(data.shape[1])])
    if not isinstance(data, pd.DataFrame):
        raise ValueError(
            f"{argument}: got {type(data).__name__}; allowed: a pandas DataFrame, a 2-D numpy "
            "array or a CSV/Parquet path"
        )
    if data.columns.has_duplicates:
        dup = sorted(map(str, data.columns[data.columns.duplicated()]))
        raise ValueError(f"{argument}: duplicate column names {dup}; allowed: unique names")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise ValueError(f"{argument}: got an empty table of shape {data.shape}; allowed: "
                         "at least one row and one column")
    return data


def column_kind(s: pd.Series) -> Kind:
    """How a column is compared: numeric (incl. timedelta), datetime or categorical."""
    if pdt.is_bool_dtype(s.dtype):
        return "categorical"
    if pdt.is_datetime64_any_dtype(s.dtype):
        return "datetime"
    if pdt.is_numeric_dtype(s.dtype) or pdt.is_timedelta64_dtype(s.dtype):
        return "numeric"
    return "categorical"


def _coerce(s: pd.Series, kind: Kind, argument: str = "synth") -> pd.Series:
    """Bring a column to the kind of its real counterpart, or raise."""
    if kind == "categorical" or column_kind(s) == kind:
        return s
    try:
        if kind == "numeric":
            return pd.to_numeric(s, errors="raise")
        return pd.to_datetime(s, errors="raise")
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{argument}: column {s.name!r} has dtype {s.dtype} and cannot be read as {kind} "
            f"like the real column; allowed: {kind} values"
        ) from err


def align(real: pd.DataFrame, synth: pd.DataFrame, argument: str = "synth"
          ) -> tuple[pd.DataFrame, dict[str, Kind]]:
    """Check that both tables have the same columns; return ``synth`` (named ``argument``
    in errors) in real's column order, coerced to the real columns' kinds, and each
    column's kind."""
    missing = [str(c) for c in real.columns if c not in synth.columns]
    extra = [str(c) for c in synth.columns if c not in real.columns]
    if missing or extra:
        raise ValueError(
            f"{argument}: columns differ from real: "
            f"missing from {argument} {missing}, not in real {extra}; allowed: the same columns"
        )
    kinds = {c: column_kind(real[c]) for c in real.columns}
    synth = pd.DataFrame({c: _coerce(synth[c], kinds[c], argument) for c in real.columns})
    return synth, kinds


def to_float(s: pd.Series, kind: Kind) -> np.ndarray:
    """Numeric or datetime column -> ``(n,)`` float64, ``NaN`` where missing.
    Datetimes become seconds since 1970 (UTC), timedeltas seconds."""
    if kind == "datetime":
        s = pd.to_datetime(s, utc=True)
        return ((s - pd.Timestamp(0, tz="UTC")).dt.total_seconds()).to_numpy(np.float64)
    if pdt.is_timedelta64_dtype(s.dtype):
        return s.dt.total_seconds().to_numpy(np.float64)
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def as_labels(s: pd.Series) -> np.ndarray:
    """Values as strings (object array), ``None`` where missing."""
    return s.astype("string").to_numpy(dtype=object, na_value=None)


def joint_codes(real: pd.Series, synth: pd.Series, max_levels: int | None = None,
                missing_code: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
    """Categorical codes shared by both columns: ``(codes_real, codes_synth, k)``.

    Levels are ordered by frequency in real (then in synth); with ``max_levels`` only
    that many are kept and the rest share one "other" code. A missing value gets the
    last code (or ``-1`` if ``missing_code`` is False). Codes lie in ``0..k-1``.
    """
    both = np.concatenate([as_labels(real), as_labels(synth)])
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    n_real = len(real)
    cr, cs = codes[:n_real], codes[n_real:]
    n_u = len(uniques)
    freq = np.bincount(cr[cr >= 0], minlength=n_u) * (len(both) + 1)
    freq += np.bincount(cs[cs >= 0], minlength=n_u)
    order = np.argsort(-freq, kind="stable")
    rank = np.empty(n_u, dtype=np.int64)
    rank[order] = np.arange(n_u)
    n_keep = n_u if max_levels is None else min(n_u, max_levels)
    n_other = int(n_keep < n_u)
    k = n_keep + n_other
    miss = k if missing_code else -1
    out = []
    for c in (cr, cs):
        r = np.where(c >= 0, rank[np.maximum(c, 0)], -1)
        r = np.where(r >= n_keep, n_keep, r)
        out.append(np.where(c < 0, miss, r))
    return out[0], out[1], k + int(missing_code)


def quantile_codes(real: np.ndarray, synth: np.ndarray, bins: int = 10
                   ) -> tuple[np.ndarray, np.ndarray, int]:
    """Bin two float vectors at the real data's quantiles; ``NaN`` gets its own last bin."""
    finite = real[~np.isnan(real)]
    if finite.size:
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
    else:
        edges = np.empty(0)
    k = len(edges) + 1
    out = []
    for v in (real, synth):
        codes = np.searchsorted(edges, v, side="right")
        out.append(np.where(np.isnan(v), k, codes))
    return out[0], out[1], k + 1


def row_hashes(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind]
               ) -> tuple[np.ndarray, np.ndarray]:
    """A uint64 hash per row of each table; equal rows (missing equals missing, numbers
    as float64, categories as strings) hash alike across the two tables."""
    r_cols, s_cols = {}, {}
    for i, (col, kind) in enumerate(kinds.items()):
        if kind == "categorical":
            r_cols[i], s_cols[i], _ = joint_codes(real[col], synth[col])
        else:
            r_cols[i], s_cols[i] = to_float(real[col], kind), to_float(synth[col], kind)
    hr = pd.util.hash_pandas_object(pd.DataFrame(r_cols), index=False).to_numpy()
    hs = pd.util.hash_pandas_object(pd.DataFrame(s_cols), index=False).to_numpy()
    return hr, hs
