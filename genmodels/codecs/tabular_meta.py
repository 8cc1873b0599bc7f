"""Column kinds: what a column is (inferred from its values; overridable by metadata).

Kinds: continuous, integer, boolean, categorical, datetime, id, text, empty, constant.
``infer_kind`` looks at one Series; ``read_metadata`` reads the user's override (a dict
or a path to the JSON that ``infer_metadata`` writes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genmodels.codecs.tabular_values import MAX_EXACT_INT, as_float, shorten

KINDS = (
    "continuous",
    "integer",
    "boolean",
    "categorical",
    "datetime",
    "id",
    "text",
    "empty",
    "constant",
)
METADATA_FORMAT = "genmodels.metadata/1"
FEW_LEVELS = 5  # numbers with at most this many distinct values are categorical
MIN_ID_ROWS = 10  # fewer rows: everything is unique; do not call it an id
TEXT_MIN_LENGTH = 25  # average characters of a free-text column
TEXT_MIN_RATIO = 0.5  # distinct values / rows of a free-text column

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_COUNTER = r"(?P<prefix>.*?)(?P<digits>\d+)"
_DATE = r"\d{4}-\d{2}-\d{2}"
# (regex, strftime format) from the finest to the coarsest; SEP is "T" or " ".
_ISO_FORMATS = (
    (_DATE + r"SEP\d{2}:\d{2}:\d{2}\.(?P<frac>\d{1,6})", "%Y-%m-%dSEP%H:%M:%S.%f"),
    (_DATE + r"SEP\d{2}:\d{2}:\d{2}", "%Y-%m-%dSEP%H:%M:%S"),
    (_DATE + r"SEP\d{2}:\d{2}", "%Y-%m-%dSEP%H:%M"),
)


@dataclass(frozen=True)
class Inferred:
    """The kind of one column, how its values are read (``source``), and a warning."""

    kind: str
    source: str
    note: str | None = None


def value_source(s: pd.Series) -> str:
    """How to read a column: bool, number, datetime, string, category, mixed or empty."""
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_complex_dtype(dt):
        return "number"
    is_object = pd.api.types.is_object_dtype(dt)
    if not is_object and pd.api.types.is_string_dtype(dt):
        return "string"
    if not is_object:
        return "mixed"  # timedelta, period, interval...: modelled on str()
    observed = s.dropna()
    types = {_type_group(t) for t in set(map(type, observed))}
    if not types:
        return "empty"
    return types.pop() if len(types) == 1 and "mixed" not in types else "mixed"


def _type_group(t: type) -> str:
    if issubclass(t, bool | np.bool_):
        return "bool"
    if issubclass(t, int | float | np.integer | np.floating):
        return "number"
    if issubclass(t, str):
        return "string"
    return "mixed"


def infer_kind(s: pd.Series) -> Inferred:
    """Guess the kind of ``s`` from its dtype and values."""
    name = str(s.name)
    n = len(s)
    missing = s.isna()
    n_obs = int(n - missing.sum())
    if n_obs == 0:
        return Inferred(
            "empty", "empty", f"column {name!r} is all missing; it is decoded as all missing"
        )
    source = value_source(s)
    if source == "mixed":
        what = (
            f"holds values of mixed types ({_types_of(s)})"
            if pd.api.types.is_object_dtype(s.dtype)
            else f"has dtype {s.dtype}"
        )
        note = f"column {name!r} {what}; it is modelled as a categorical on the str() of its values"
        uniques = pd.unique(s.dropna().map(str).to_numpy(dtype=object))
        if len(uniques) == 1 and n_obs == n:
            return Inferred("constant", source, note)
        return Inferred("categorical", source, note)
    observed = s[~missing]
    n_unique = int(observed.nunique(dropna=True))
    if n_unique == 1 and n_obs == n:
        return Inferred("constant", source)
    if source == "bool":
        return Inferred("boolean", source)
    if source == "category":
        return Inferred("categorical", source)
    if source == "datetime":
        return Inferred("datetime", source)
    if source == "number":
        integer_dtype = pd.api.types.is_integer_dtype(s.dtype)
        return Inferred(_number_kind(as_float(observed, name), n, n_unique, integer_dtype), source)
    return _string_kind(name, observed, n, n_unique)


def _types_of(s: pd.Series) -> str:
    return ", ".join(sorted({type(v).__name__ for v in s.dropna()})[:5])


def _number_kind(v: np.ndarray, n: int, n_unique: int, integer_dtype: bool) -> str:
    whole = bool(np.all(v == np.round(v))) and float(np.max(np.abs(v))) < MAX_EXACT_INT
    if integer_dtype and whole and len(v) == n and n_unique == n and n >= MIN_ID_ROWS:
        span = float(np.max(v) - np.min(v)) + 1
        if n / span >= 0.5:
            return "id"
    if n_unique <= FEW_LEVELS and 2 * n_unique <= n:
        return "categorical"
    return "integer" if whole else "continuous"


def _string_kind(name: str, observed: pd.Series, n: int, n_unique: int) -> Inferred:
    uniques = pd.Series(pd.unique(observed.to_numpy(dtype=object)), dtype=object).astype(str)
    if iso_format(uniques) is not None:
        return Inferred("datetime", "isodate")
    if len(observed) == n and n_unique == n and n >= MIN_ID_ROWS and id_form(uniques) is not None:
        return Inferred("id", "string")
    if n_unique / len(observed) > TEXT_MIN_RATIO and uniques.str.len().mean() >= TEXT_MIN_LENGTH:
        note = (
            f"column {name!r} looks like free text ({n_unique} distinct values in "
            f"{len(observed)} rows); it is modelled as a categorical, so generated values "
            "are copies of training values"
        )
        return Inferred("text", "string", note)
    return Inferred("categorical", "string")


def iso_format(uniques: pd.Series) -> str | None:
    """The strftime format that all strings follow (ISO date[time], naive), else None."""
    first = str(uniques.iloc[0])
    if re.fullmatch(_DATE, first):
        fmt = "%Y-%m-%d" if uniques.str.fullmatch(_DATE).all() else None
        return fmt if fmt and _parses(uniques, fmt) else None
    sep = first[10:11]
    if sep not in ("T", " "):
        return None
    for regex, fmt in _ISO_FORMATS:
        pattern = regex.replace("SEP", sep)
        m = re.fullmatch(pattern, first)
        if m is None:
            continue
        if not uniques.str.fullmatch(pattern).all():
            return None
        fmt = fmt.replace("SEP", sep)
        if "frac" in m.groupdict():
            digits = uniques.str.extract(pattern)["frac"].str.len()
            if digits.nunique() != 1:
                return None
            fmt = fmt.replace("%f", f"%f{{{int(digits.iloc[0])}}}")
        return fmt if _parses(uniques, fmt) else None
    return None


def strftime_format(fmt: str) -> tuple[str, int]:
    """Split ``...%f{k}`` into the strftime format and the number of fraction digits."""
    m = re.search(r"%f\{(\d)\}$", fmt)
    if m is None:
        return fmt, 0
    return fmt[: m.start()] + "%f", int(m.group(1))


def _parses(uniques: pd.Series, fmt: str) -> bool:
    try:
        pd.to_datetime(uniques, format=strftime_format(fmt)[0])
    except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return False
    return True


def id_form(uniques: pd.Series) -> dict | None:
    """How distinct strings look, if they look like ids: uuid, or prefix + counter."""
    if uniques.str.fullmatch(_UUID).all():
        upper = bool(uniques.str.upper().eq(uniques).all())
        return {"form": "uuid", "upper": upper}
    parts = uniques.str.extract(f"^{_COUNTER}$")
    if parts["digits"].isna().any() or parts["prefix"].nunique() != 1:
        return None
    widths = parts["digits"].str.len()
    padded = bool(widths.nunique() == 1 and parts["digits"].str.startswith("0").any())
    numbers = parts["digits"].astype(float)
    if numbers.max() >= MAX_EXACT_INT:
        return None
    return {
        "form": "counter",
        "prefix": str(parts["prefix"].iloc[0]),
        "width": int(widths.iloc[0]) if padded else 0,
        "start": int(numbers.min()),
    }


def infer_metadata(data: Any) -> dict:
    """JSON-able kinds and facts of every column of a DataFrame (or CSV/Parquet path):
    ``{"format": "genmodels.metadata/1", "columns": {name: {"kind": ..., ...}}}``.
    Edit a kind and pass the dict (or its JSON file) as ``TabularCodec(metadata=...)``."""
    import warnings

    from genmodels.codecs.tabular import TabularCodec  # the facts are the fitted codec's

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return TabularCodec().fit(data).metadata()


def read_metadata(metadata: Any) -> dict[str, str]:
    """The user's metadata (dict or path to JSON) -> ``{column: kind}``; ValueError for an
    unknown kind. Only "kind" is read per column; other keys are informational."""
    if metadata is None:
        return {}
    if isinstance(metadata, str | Path):
        p = Path(metadata)
        if not p.is_file():
            raise ValueError(
                f"metadata: {str(p)!r} is not a file; allowed: a dict or a JSON file path"
            )
        try:
            metadata = json.loads(p.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"metadata: {str(p)!r} is not valid JSON ({e})") from None
    if not isinstance(metadata, Mapping):
        raise ValueError(
            f"metadata: got {type(metadata).__name__}; allowed: a dict or a JSON file path"
        )
    fmt = metadata.get("format", METADATA_FORMAT)
    if fmt != METADATA_FORMAT:
        raise ValueError(f"metadata: format {fmt!r} is not supported; allowed: {METADATA_FORMAT!r}")
    columns = metadata.get("columns", None if "format" not in metadata else {})
    if columns is None:
        columns = metadata
    if not isinstance(columns, Mapping):
        raise ValueError("metadata: 'columns' must map column names to {'kind': ...}")
    kinds: dict[str, str] = {}
    for name, spec in columns.items():
        kind = spec.get("kind") if isinstance(spec, Mapping) else spec
        if kind is None:
            continue
        if kind not in KINDS:
            raise ValueError(
                f"metadata: column {str(name)!r} has unknown kind {kind!r}; "
                f"allowed: {', '.join(KINDS)}"
            )
        kinds[str(name)] = kind
    return kinds


def check_metadata_columns(kinds: Mapping[str, str], columns: list[str]) -> None:
    unknown = [c for c in kinds if c not in set(columns)]
    if unknown:
        raise ValueError(
            f"metadata: unknown column(s) {shorten(unknown)}; "
            f"allowed: {shorten(columns, 20, quote=False)}"
        )
