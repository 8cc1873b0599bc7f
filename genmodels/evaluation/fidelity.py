"""Fidelity: how close the synthetic table's distribution is to the real one's.

Small pure functions on vectors (``ks_statistic``, ``tv_distance``, ...) and two
table-level helpers (``column_metrics``, ``pairwise_metrics``) that apply them to
every column and every pair of columns. All distances are 0 for identical data.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from genmodels.evaluation._tables import Kind, joint_codes, quantile_codes, to_float

if TYPE_CHECKING:
    from genmodels.evaluation.c2st import C2STResult
    from genmodels.evaluation.mmd import MMDResult
    from genmodels.evaluation.prdc import PRDCResult

MAX_PAIR_LEVELS = 30
"""Contingency tables keep the 30 most frequent levels of a column (+ "other")."""
NUMERIC_BINS = 10
"""Numeric columns are cut at the real data's deciles for mixed-pair contingency tables."""


def ks_statistic(real: np.ndarray, synth: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (``scipy.stats.ks_2samp``) on the
    non-missing values: the largest gap between the two empirical CDFs.
    Range [0, 1], lower is better; 1.0 when exactly one side has no values."""
    a, b = real[~np.isnan(real)], synth[~np.isnan(synth)]
    if a.size == 0 or b.size == 0:
        return 0.0 if a.size == b.size else 1.0
    return float(stats.ks_2samp(a, b, method="asymp").statistic)


def tv_distance(real: np.ndarray, synth: np.ndarray, k: int) -> float:
    """Total-variation distance ``0.5 * sum |p - q|`` between the level frequencies of
    two integer-coded samples (codes ``0..k-1``; missing coded as a level).
    Range [0, 1], lower is better (SDMetrics' TVComplement is ``1 - tv``)."""
    p = np.bincount(real, minlength=k) / real.size
    q = np.bincount(synth, minlength=k) / synth.size
    return float(0.5 * np.abs(p - q).sum())


def contingency_tv(real_a: np.ndarray, real_b: np.ndarray, synth_a: np.ndarray,
                   synth_b: np.ndarray, k_a: int, k_b: int) -> float:
    """Total-variation distance between the 2-way contingency tables of two coded
    columns (as SDMetrics' ContingencySimilarity, which reports ``1 - tv``).
    Range [0, 1], lower is better."""
    return tv_distance(real_a * k_b + real_b, synth_a * k_b + synth_b, k_a * k_b)


def missing_rate_diff(real_missing: np.ndarray, synth_missing: np.ndarray) -> float:
    """``|P_real(missing) - P_synth(missing)|`` for one column. Range [0, 1], lower is better."""
    return float(abs(real_missing.mean() - synth_missing.mean()))


def correlation_matrix(x: np.ndarray) -> np.ndarray:
    """Pearson correlations of the columns of ``x: (n, d)`` on pairwise-complete rows;
    undefined entries (a constant column, no overlap) are 0 (no linear association)."""
    corr = pd.DataFrame(x).corr(method="pearson").to_numpy()
    return np.nan_to_num(corr, nan=0.0)


def column_metrics(real: pd.DataFrame, synth: pd.DataFrame,
                   kinds: dict[str, Kind]) -> pd.DataFrame:
    """One row per column: kind, metric (``ks`` or ``tv``), its statistic, missing rates
    and ``distance`` in [0, 1] (TV; for numeric columns ``max(KS, missing diff)``, since
    KS alone ignores missing values)."""
    rows = []
    for col, kind in kinds.items():
        r_miss, s_miss = real[col].isna().to_numpy(), synth[col].isna().to_numpy()
        miss = missing_rate_diff(r_miss, s_miss)
        if kind == "categorical":
            cr, cs, k = joint_codes(real[col], synth[col])
            metric, stat = "tv", tv_distance(cr, cs, k)
            dist = stat
        else:
            stat = ks_statistic(to_float(real[col], kind), to_float(synth[col], kind))
            metric, dist = "ks", max(stat, miss)
        rows.append({
            "column": str(col), "kind": kind, "metric": metric, "statistic": stat,
            "missing_real": float(r_miss.mean()), "missing_synth": float(s_miss.mean()),
            "missing_diff": miss, "distance": dist,
        })
    return pd.DataFrame(rows)


def _coded(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind]
           ) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """Capped categorical codes and decile codes of numeric columns, for contingency tables."""
    out = {}
    for col, kind in kinds.items():
        if kind == "categorical":
            out[col] = joint_codes(real[col], synth[col], max_levels=MAX_PAIR_LEVELS)
        else:
            out[col] = quantile_codes(to_float(real[col], kind), to_float(synth[col], kind),
                                      NUMERIC_BINS)
    return out


def pairwise_metrics(real: pd.DataFrame, synth: pd.DataFrame,
                     kinds: dict[str, Kind]) -> pd.DataFrame:
    """One row per pair of columns. Numeric pairs: ``|corr_real - corr_synth|`` (Pearson,
    range [0, 2]; ``distance`` is half of it). Categorical pairs and mixed
    (categorical x numeric deciles) pairs: contingency-table TV (``distance`` = TV).
    All distances in [0, 1], lower is better."""
    cols = list(kinds)
    numeric = [c for c in cols if kinds[c] != "categorical"]
    rows = []
    if len(numeric) >= 2:
        xr = np.column_stack([to_float(real[c], kinds[c]) for c in numeric])
        xs = np.column_stack([to_float(synth[c], kinds[c]) for c in numeric])
        cr, cs = correlation_matrix(xr), correlation_matrix(xs)
        for i, j in itertools.combinations(range(len(numeric)), 2):
            diff = abs(cr[i, j] - cs[i, j])
            rows.append((numeric[i], numeric[j], "numeric", "corr_diff", cr[i, j], cs[i, j],
                         diff, diff / 2))
    if any(kinds[c] == "categorical" for c in cols):
        coded = _coded(real, synth, kinds)
        for a, b in itertools.combinations(cols, 2):
            n_cat = (kinds[a] == "categorical") + (kinds[b] == "categorical")
            if n_cat == 0:
                continue
            (ra, sa, ka), (rb, sb, kb) = coded[a], coded[b]
            tv = contingency_tv(ra, rb, sa, sb, ka, kb)
            kind = "categorical" if n_cat == 2 else "mixed"
            rows.append((a, b, kind, "contingency_tv", np.nan, np.nan, tv, tv))
    names = ["column_a", "column_b", "kind", "metric", "real", "synth", "statistic", "distance"]
    frame = pd.DataFrame(rows, columns=names)
    frame[["column_a", "column_b"]] = frame[["column_a", "column_b"]].astype(str)
    return frame


def _mean_stat(frame: pd.DataFrame, mask: Any) -> float:
    values = frame.loc[mask, "statistic"]
    return float(values.mean()) if len(values) else float("nan")


@dataclass
class Fidelity:
    """The fidelity group: per-column and pairwise tables, C2ST, MMD and PRDC (the last
    two in the feature space ``feature_space`` describes; ``None`` when not computed)."""

    columns: pd.DataFrame
    pairwise: pd.DataFrame
    c2st: C2STResult
    mmd: MMDResult | None = None
    prdc: PRDCResult | None = None
    feature_space: str = ""

    @property
    def c2st_auc(self) -> float:
        return self.c2st.auc

    @property
    def column_distance(self) -> float:
        """Mean per-column distance (KS/TV with missing rates), [0, 1], lower is better."""
        return float(self.columns["distance"].mean())

    @property
    def pairwise_distance(self) -> float:
        """Mean pairwise distance (half |corr diff|, contingency TV), [0, 1]; NaN if no pairs."""
        return float(self.pairwise["distance"].mean()) if len(self.pairwise) else float("nan")

    @property
    def corr_diff(self) -> float:
        """Mean |Pearson corr real - synth| over numeric pairs, [0, 2]; NaN if none."""
        return _mean_stat(self.pairwise, self.pairwise["kind"] == "numeric")

    @property
    def contingency_tv(self) -> float:
        """Mean contingency-table TV over categorical pairs, [0, 1]; NaN if none."""
        return _mean_stat(self.pairwise, self.pairwise["kind"] == "categorical")

    @property
    def mixed_tv(self) -> float:
        """Mean contingency-table TV over categorical x numeric-decile pairs; NaN if none."""
        return _mean_stat(self.pairwise, self.pairwise["kind"] == "mixed")

    @property
    def score(self) -> float:
        """Mean of ``1 - column_distance``, ``1 - pairwise_distance`` and
        ``1 - 2 * max(c2st_auc - 0.5, 0)`` over the terms that are defined. [0, 1],
        higher is better; 1 = indistinguishable by these tests."""
        detect = 1.0 - 2.0 * max(self.c2st_auc - 0.5, 0.0)
        terms = [1.0 - self.column_distance, 1.0 - self.pairwise_distance, detect]
        terms = [t for t in terms if not math.isnan(t)]
        return float(np.clip(np.mean(terms), 0.0, 1.0)) if terms else float("nan")

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        from genmodels.evaluation._json import clean, records

        return clean({
            "score": self.score, "column_distance": self.column_distance,
            "pairwise_distance": self.pairwise_distance, "corr_diff": self.corr_diff,
            "contingency_tv": self.contingency_tv, "mixed_tv": self.mixed_tv,
            "c2st": asdict(self.c2st),
            "mmd": asdict(self.mmd) if self.mmd else None,
            "prdc": asdict(self.prdc) if self.prdc else None,
            "feature_space": self.feature_space,
            "columns": records(self.columns), "pairwise": records(self.pairwise),
        })
