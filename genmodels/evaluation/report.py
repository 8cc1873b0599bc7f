"""The result of ``gm.evaluate`` on two tables: per-column, pairwise and detection metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from genmodels.evaluation.c2st import C2STResult
from genmodels.evaluation.utility import UtilityResult


def _num(v: Any) -> float | None:
    """A JSON-able float (``None`` for NaN)."""
    v = float(v)
    return None if math.isnan(v) else v


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: (_num(v) if isinstance(v, float | np.floating) else v)
                    for k, v in row.items()})
    return out


def _mean(frame: pd.DataFrame, mask: Any = None) -> float:
    values = frame["statistic"] if mask is None else frame.loc[mask, "statistic"]
    return float(values.mean()) if len(values) else float("nan")


@dataclass
class TableReport:
    """Fidelity of a synthetic table to a real one (see ``evaluate`` for the formulas).

    ``columns``: one row per column (``distance`` in [0, 1]); ``pairwise``: one row per
    pair of columns (``distance`` in [0, 1]); ``c2st_auc``: real-vs-synthetic ROC AUC
    (0.5 ideal); ``score`` in [0, 1], higher is better.
    """

    columns: pd.DataFrame
    pairwise: pd.DataFrame
    c2st: C2STResult
    exact_match_rate: float
    n_real: int
    n_synth: int
    seed: int
    seconds: float
    utility: UtilityResult | None = None
    meta: dict[str, Any] = field(default_factory=dict)

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
        return _mean(self.pairwise, self.pairwise["kind"] == "numeric")

    @property
    def contingency_tv(self) -> float:
        """Mean contingency-table TV over categorical pairs, [0, 1]; NaN if none."""
        return _mean(self.pairwise, self.pairwise["kind"] == "categorical")

    @property
    def mixed_tv(self) -> float:
        """Mean contingency-table TV over categorical x numeric-decile pairs; NaN if none."""
        return _mean(self.pairwise, self.pairwise["kind"] == "mixed")

    @property
    def score(self) -> float:
        """Mean of ``1 - column_distance``, ``1 - pairwise_distance`` and
        ``1 - 2 * max(c2st_auc - 0.5, 0)`` over the terms that are defined. [0, 1]."""
        detect = 1.0 - 2.0 * max(self.c2st_auc - 0.5, 0.0)
        terms = [1.0 - self.column_distance, 1.0 - self.pairwise_distance, detect]
        terms = [t for t in terms if not math.isnan(t)]
        return float(np.clip(np.mean(terms), 0.0, 1.0))

    def headline(self) -> dict[str, float | None]:
        """The summary numbers (NaN as ``None``)."""
        out = {
            "score": self.score, "column_distance": self.column_distance,
            "pairwise_distance": self.pairwise_distance, "corr_diff": self.corr_diff,
            "contingency_tv": self.contingency_tv, "mixed_tv": self.mixed_tv,
            "c2st_auc": self.c2st_auc, "exact_match_rate": self.exact_match_rate,
        }
        if self.utility is not None:
            out |= {"utility_real": self.utility.real_score,
                    "utility_synth": self.utility.synth_score,
                    "utility_ratio": self.utility.ratio}
        return {k: _num(v) for k, v in out.items()}

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-able (NaN becomes ``None``)."""
        c2st = {"auc": _num(self.c2st.auc), "auc_std": _num(self.c2st.auc_std),
                "folds": self.c2st.folds, "rows_per_side": self.c2st.rows_per_side}
        utility = None
        if self.utility is not None:
            u = self.utility
            utility = {"target": u.target, "task": u.task, "metric": u.metric,
                       "real_score": _num(u.real_score), "synth_score": _num(u.synth_score),
                       "ratio": _num(u.ratio)}
        return {
            "summary": self.headline(),
            "n_real": self.n_real, "n_synth": self.n_synth, "seed": self.seed,
            "seconds": self.seconds, "c2st": c2st, "utility": utility,
            "columns": _records(self.columns), "pairwise": _records(self.pairwise),
            **({"meta": self.meta} if self.meta else {}),
        }

    def to_frame(self) -> pd.DataFrame:
        """Long format, one metric a row: ``section`` (summary/column/pair), ``name``,
        ``metric``, ``value``; frames of several reports concatenate cleanly."""
        rows = [("summary", "", k, v) for k, v in self.headline().items()]
        for r in self.columns.itertuples(index=False):
            rows.append(("column", r.column, r.metric, r.statistic))
            rows.append(("column", r.column, "missing_diff", r.missing_diff))
        for r in self.pairwise.itertuples(index=False):
            rows.append(("pair", f"{r.column_a} x {r.column_b}", r.metric, r.statistic))
        frame = pd.DataFrame(rows, columns=["section", "name", "metric", "value"])
        frame["value"] = frame["value"].astype(np.float64)
        return frame

    def summary(self, worst: int = 3) -> str:
        """A few lines for a terminal: the score, the headline metrics, the worst columns."""
        h = self.headline()

        def fmt(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.3f}"

        lines = [
            f"score {fmt(h['score'])} (1 = indistinguishable)  "
            f"real {self.n_real} rows, synth {self.n_synth} rows",
            f"columns: mean distance {fmt(h['column_distance'])} (KS / TV)",
            f"pairs: corr diff {fmt(h['corr_diff'])}, contingency TV "
            f"{fmt(h['contingency_tv'])}, mixed TV {fmt(h['mixed_tv'])}",
            f"C2ST AUC {fmt(h['c2st_auc'])} (0.5 ideal, {self.c2st.folds}-fold, "
            f"{self.c2st.rows_per_side} rows a side)",
            f"exact copies of real rows: {100 * self.exact_match_rate:.1f}% of synth",
        ]
        if self.utility is not None:
            u = self.utility
            lines.append(f"utility ({u.metric} on {u.target!r}): real {fmt(_num(u.real_score))}, "
                         f"synth {fmt(_num(u.synth_score))}, ratio {fmt(_num(u.ratio))}")
        top = self.columns.nlargest(worst, "distance")
        worst_txt = ", ".join(f"{r.column} {r.metric} {r.statistic:.3f}"
                              for r in top.itertuples(index=False))
        lines.append(f"worst columns: {worst_txt}")
        return "\n".join(lines)
