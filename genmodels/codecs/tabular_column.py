"""The per-column piece of the tabular codec: one column <-> a block of encoded fields.

Every column kind (numeric, categorical, fixed) implements this interface; the codec
lays the blocks side by side. Blocks are ``(n, width)`` float64 arrays.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from genmodels.models.base import Field

MODES = ("mixed", "discrete", "continuous")


class Column:
    """One fitted column. ``mode`` is the codec's ``inputs``; ``kind`` the column kind."""

    type: ClassVar[str] = ""

    def __init__(self, name: str, kind: str, mode: str) -> None:
        self.name, self.kind, self.mode = name, kind, mode
        self.missing_rate = 0.0
        self.note: str | None = None

    def fields(self) -> list[Field]:
        """The encoded fields of this column, in order (may be empty)."""
        return []

    @property
    def width(self) -> int:
        return len(self.fields())

    def fit(self, s: pd.Series, source: str) -> None:
        raise NotImplementedError

    def encode(self, s: pd.Series, rng: np.random.Generator) -> np.ndarray:
        """Column -> ``(n, width)`` block."""
        return np.zeros((len(s), 0))

    def decode(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """``(n, width)`` block -> column."""
        raise NotImplementedError

    def log_det(self, s: pd.Series) -> np.ndarray:
        """Per-row ``log |d encode / d value|``: ``(n,)``."""
        return np.zeros(len(s))

    def condition(self, value: Any) -> dict[int, float]:
        """A user's value -> ``{offset within the block: encoded value}``."""
        raise NotImplementedError

    def fill(self, value: Any, n: int) -> pd.Series:
        """``n`` copies of the user's ``value`` in the column's own type (conditioned output)."""
        raise NotImplementedError

    def facts(self) -> dict:
        return {"kind": self.kind, "missing_rate": round(self.missing_rate, 6)}

    def summary(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "fields": [f.name for f in self.fields()],
            "levels": None,
            "min": None,
            "max": None,
            "missing_rate": round(self.missing_rate, 6),
            "spikes": None,
        }

    def to_json(self) -> dict:
        return {
            "type": self.type,
            "name": self.name,
            "kind": self.kind,
            "mode": self.mode,
            "missing_rate": self.missing_rate,
            "note": self.note,
        }

    def _load_common(self, d: dict) -> None:
        self.missing_rate, self.note = float(d["missing_rate"]), d.get("note")


def same_values(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Row-wise equality with missing == missing: ``(n,)`` bool."""
    na_a, na_b = a.isna().to_numpy(), b.isna().to_numpy()
    va, vb = a.astype(object).to_numpy(), b.astype(object).to_numpy()
    eq = np.zeros(len(a), bool)
    both = ~na_a & ~na_b
    eq[both] = va[both] == vb[both]
    return (na_a & na_b) | eq
