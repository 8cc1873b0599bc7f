"""Reading tables from disk and checking frames at the codec's boundary.

``read_table`` reads CSV (separator sniffed among ``, ; tab |``, UTF-8 with or without
a BOM, UTF-16 with a BOM) and Parquet, and refuses what it cannot read faithfully with a
``ValueError`` that says what and why. ``validate_frame`` is what ``fit``/``encode`` call.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
SEPARATORS = (",", ";", "\t", "|")
_SNIFF_BYTES = 1 << 16


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame (at least one row, unique column names)."""
    p = _check_path(path)
    suffix = p.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        df = _read_parquet(p)
    else:
        df = _read_csv(p)
    if df.shape[1] == 0:
        raise ValueError(f"path: {str(p)!r} has no columns")
    if len(df) == 0:
        raise ValueError(f"path: {str(p)!r} has a header but no rows; need at least 1 row")
    _check_unique(list(map(str, df.columns)), f"path: {str(p)!r}")
    logger.debug("read %s: %d rows x %d columns", p, *df.shape)
    return df


def _check_path(path: Any) -> Path:
    if not isinstance(path, str | Path):
        raise ValueError(f"path: got {type(path).__name__}; allowed: a str or pathlib.Path")
    p = Path(path).expanduser()
    if not p.exists():
        raise ValueError(f"path: {str(p)!r} does not exist")
    if p.is_dir():
        raise ValueError(f"path: {str(p)!r} is a directory; allowed: a CSV or Parquet file")
    if p.suffix.lower() not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise ValueError(
            f"path: {str(p)!r} has unknown extension {p.suffix!r}; allowed: "
            f"{', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}"
        )
    if p.stat().st_size == 0:
        raise ValueError(f"path: {str(p)!r} is empty")
    return p


def _read_parquet(p: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(p).names
    except Exception as e:  # pyarrow raises several types for corrupt files
        raise ValueError(f"path: {str(p)!r} is not a readable Parquet file ({e})") from None
    _check_unique([str(c) for c in names], f"path: {str(p)!r}")
    try:
        return pq.read_table(p).to_pandas()
    except Exception as e:
        raise ValueError(f"path: {str(p)!r} is not a readable Parquet file ({e})") from None


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _read_head(p: Path) -> tuple[str, str]:
    """First ~64 KiB of the file as text, and the encoding used."""
    with p.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    encoding = _detect_encoding(head)
    if encoding == "utf-8" and b"\x00" in head:
        raise ValueError(f"path: {str(p)!r} is not a text file (it contains NUL bytes)")
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError as e:
        raise ValueError(
            f"path: {str(p)!r} cannot be decoded as {encoding} (byte {e.start}); "
            "allowed: UTF-8 text (re-save the file as UTF-8)"
        ) from None
    return text, encoding


def sniff_separator(text: str) -> str:
    """The separator among ``, ; tab |`` that splits the first lines into the most,
    equally many fields (``,`` for a one-column file)."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if len(text) >= _SNIFF_BYTES - 4 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    best, best_score = ",", (0, 0)
    for sep in SEPARATORS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        score = (round(consistent, 2), counts[0])
        if score > best_score:
            best, best_score = sep, score
    return best


def _read_csv(p: Path) -> pd.DataFrame:
    text, encoding = _read_head(p)
    if not text.strip():
        raise ValueError(f"path: {str(p)!r} is empty")
    sep = sniff_separator(text)
    header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    _check_unique([h.strip() for h in header], f"path: {str(p)!r}")
    try:
        df = pd.read_csv(p, sep=sep, encoding=encoding, low_memory=False)
    except UnicodeDecodeError as e:
        raise ValueError(
            f"path: {str(p)!r} cannot be decoded as {encoding} (byte {e.start}); "
            "allowed: UTF-8 text (re-save the file as UTF-8)"
        ) from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"path: {str(p)!r} is empty") from None
    except pd.errors.ParserError as e:
        raise ValueError(f"path: {str(p)!r} is not a well-formed table ({e})") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _check_unique(names: list[str], what: str) -> None:
    dup = sorted(n for n, c in Counter(names).items() if c > 1)
    if dup:
        shown = ", ".join(repr(d) for d in dup[:10])
        raise ValueError(f"{what}: duplicate column names {shown}; allowed: unique column names")


def validate_frame(df: Any, what: str = "data", *, min_rows: int = 1) -> pd.DataFrame:
    """Check a frame at the boundary; return it with ``str`` column names and a
    ``RangeIndex`` (a shallow copy: the caller's frame is never modified)."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what}: got {type(df).__name__}; allowed: a pandas DataFrame")
    if df.shape[1] == 0:
        raise ValueError(f"{what}: has no columns")
    if len(df) == 0:
        raise ValueError(f"{what}: has 0 rows; need at least {min_rows}")
    if len(df) < min_rows:
        raise ValueError(f"{what}: has {len(df)} row(s); need at least {min_rows} rows")
    names = [str(c) for c in df.columns]
    _check_unique(names, what)
    out = df.copy(deep=False)
    out.columns = names
    out = out.reset_index(drop=True)
    for name in names:
        check_finite(out[name], name, what)
    return out


def check_finite(s: pd.Series, name: str, what: str = "data") -> None:
    """ValueError if a numeric column holds ±inf (missing values are fine)."""
    if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
        return
    if pd.api.types.is_complex_dtype(s.dtype):
        raise ValueError(f"{what}: column {name!r} holds complex numbers; allowed: real numbers")
    values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    n_inf = int(np.isinf(values).sum())
    if n_inf:
        raise ValueError(
            f"{what}: column {name!r} has {n_inf} infinite value(s); "
            "allowed: finite numbers or missing"
        )
