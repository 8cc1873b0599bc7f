"""JSON-able values for reports: NaN/inf become ``None``, numpy scalars Python numbers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def num(v: Any) -> float | None:
    """A JSON-able float (``None`` for NaN, inf or ``None``)."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def clean(obj: Any) -> Any:
    """Recursively: floats via :func:`num`, numpy scalars/arrays to Python, tuples to lists."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return num(obj)
    return obj


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as a list of JSON-able row dicts."""
    return [clean(row) for row in frame.to_dict(orient="records")]
