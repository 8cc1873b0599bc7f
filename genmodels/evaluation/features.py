"""The feature space of the distance-based metrics (MMD, PRDC, privacy, linear utility).

Fitted on the real (training) rows, applied unchanged to every other table:

* numeric and datetime columns: z-scores with the real mean and standard deviation
  (a constant column keeps scale 1); a missing value becomes 0 (the real mean) plus a
  0/1 missing indicator column;
* categorical and boolean columns: one-hot over the ``MAX_LEVELS`` most frequent real
  levels, one "other" column for any further or unseen level and one for missing,
  scaled by ``1/sqrt(2)`` so that two different levels are at distance 1 — as far
  apart as a one-standard-deviation gap in a numeric column.

Euclidean distance in this space weighs every column alike (up to the heavy tails a
z-score keeps, e.g. capital gains).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from genmodels.evaluation._tables import Kind, as_labels, to_float

MAX_LEVELS = 30
"""One-hot keeps this many most frequent real levels of a column (+ other, + missing)."""
ONE_HOT_SCALE = float(np.sqrt(0.5))
DESCRIPTION = ("z-scored numeric/datetime columns (missing: 0 + a missing indicator), "
               f"one-hot categorical columns (top {MAX_LEVELS} real levels + other + missing, "
               "scaled by 1/sqrt(2) so two levels are 1 apart); Euclidean distance")


@dataclass(frozen=True)
class FeatureSpace:
    """A fitted map from a table to ``(n, p)`` float64 features (see the module doc)."""

    numeric: tuple[tuple[str, Kind, float, float], ...]
    """``(column, kind, mean, std)`` per numeric/datetime column."""
    categorical: tuple[tuple[str, tuple[str, ...]], ...]
    """``(column, kept levels)`` per categorical column."""

    @classmethod
    def fit(cls, real: pd.DataFrame, kinds: dict[str, Kind]) -> FeatureSpace:
        """Learn means, scales and kept levels from the real rows."""
        numeric, categorical = [], []
        for col, kind in kinds.items():
            if kind == "categorical":
                counts = pd.Series(as_labels(real[col])).value_counts(dropna=True)
                categorical.append((col, tuple(str(v) for v in counts.index[:MAX_LEVELS])))
            else:
                v = to_float(real[col], kind)
                v = v[np.isfinite(v)]
                mean = float(v.mean()) if v.size else 0.0
                std = float(v.std()) if v.size else 0.0
                numeric.append((col, kind, mean, std if std > 0 else 1.0))
        return cls(tuple(numeric), tuple(categorical))

    @property
    def dim(self) -> int:
        """Number of features ``p``."""
        return 2 * len(self.numeric) + sum(len(lv) + 2 for _, lv in self.categorical)

    @property
    def columns(self) -> list[str]:
        return [c for c, *_ in self.numeric] + [c for c, _ in self.categorical]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """``frame`` (with the fitted columns) -> ``(n, p)`` float64 features."""
        n = len(frame)
        out = np.zeros((n, self.dim), dtype=np.float64)
        j = 0
        for col, kind, mean, std in self.numeric:
            v = to_float(frame[col], kind)
            missing = ~np.isfinite(v)
            out[:, j] = np.where(missing, 0.0, (v - mean) / std)
            out[:, j + 1] = missing
            j += 2
        for col, levels in self.categorical:
            labels = as_labels(frame[col])
            codes = pd.Index(levels, dtype=object).get_indexer(labels).astype(np.int64)
            codes[codes < 0] = len(levels)  # other (or unseen) level
            codes[pd.isna(labels)] = len(levels) + 1  # missing
            out[np.arange(n), j + codes] = ONE_HOT_SCALE
            j += len(levels) + 2
        return out


def subsample(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``min(n, m)`` of ``n`` rows, drawn without replacement."""
    if n <= m:
        return np.arange(n)
    return np.sort(rng.choice(n, m, replace=False))
