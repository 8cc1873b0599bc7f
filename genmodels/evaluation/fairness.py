"""Fairness: is the synthetic table as faithful, and as useful, for every group of a
sensitive column — and does a model trained on it treat the groups alike?

Per group: its share of the rows, the fidelity of its rows (mean per-column distance,
as in :func:`genmodels.evaluation.fidelity.column_metrics`) and the TSTR/TRTR score on
its test rows. Gaps (classification targets): demographic parity and equalized odds
of the boosted trees trained on real rows vs on synthetic rows, and the demographic
parity gap of the labels themselves in each table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from genmodels.evaluation._tables import Kind, as_labels, joint_codes, to_float
from genmodels.evaluation.fidelity import column_metrics, tv_distance
from genmodels.evaluation.utility import Predictions, task_score

MIN_GROUP = 20
"""Groups with fewer rows (test rows for the gaps) are listed but left out of the gaps."""
MAX_GROUPS = 10
"""A sensitive column keeps its most frequent levels (the rest is ``<other>``); a
numeric one is cut at its real quartiles."""


def demographic_parity_gap(y_pred: np.ndarray, groups: np.ndarray, min_count: int = 1) -> float:
    """Largest difference between groups of the rate of any predicted class:
    ``max_c (max_g P(ŷ=c|g) - min_g P(ŷ=c|g))`` (Calders & Verwer 2010; for two classes
    fairlearn's ``demographic_parity_difference``). Groups with fewer than
    ``min_count`` rows are left out. Range [0, 1], 0 is fair (ideal); NaN with < 2 groups."""
    rates = _rates(y_pred, groups, np.ones(len(y_pred), dtype=bool), min_count)
    return _range(rates)


def equalized_odds_gap(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray,
                       min_count: int = 1) -> float:
    """Largest between-group difference of ``P(ŷ=c | y, g)`` over true classes ``y`` and
    predicted classes ``c`` (Hardt, Price & Srebro 2016; for two classes the larger of
    the TPR and FPR gaps, as fairlearn's ``equalized_odds_difference``). Cells with fewer
    than ``min_count`` rows are left out. Range [0, 1], 0 is fair (ideal)."""
    gaps = [_range(_rates(y_pred, groups, y_true == y, min_count)) for y in np.unique(y_true)]
    gaps = [g for g in gaps if not np.isnan(g)]
    return float(max(gaps)) if gaps else float("nan")


def _rates(y_pred: np.ndarray, groups: np.ndarray, mask: np.ndarray,
           min_count: int) -> np.ndarray:
    """``(groups kept, classes)`` rate of each predicted class within each group."""
    classes = np.unique(y_pred)
    rows = []
    for g in np.unique(groups[mask]):
        sel = mask & (groups == g)
        if sel.sum() >= min_count:
            rows.append([(y_pred[sel] == c).mean() for c in classes])
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(classes))


def _range(rates: np.ndarray) -> float:
    if rates.shape[0] < 2:
        return float("nan")
    return float((rates.max(axis=0) - rates.min(axis=0)).max())


def group_labels(s: pd.Series, kind: Kind, reference: pd.Series) -> np.ndarray:
    """Group of every value of ``s`` (strings): a categorical level (``<missing>``;
    ``<other>`` beyond the ``MAX_GROUPS`` most frequent in ``reference``), or for a
    numeric/datetime column with more than ``MAX_GROUPS`` values its quartile of ``reference``."""
    if kind != "categorical":
        ref = to_float(reference, kind)
        ref = ref[np.isfinite(ref)]
        if np.unique(ref).size > MAX_GROUPS:
            edges = np.unique(np.quantile(ref, [0.25, 0.5, 0.75]))
            v = to_float(s, kind)
            q = np.searchsorted(edges, v, side="right")
            names = np.array([f"Q{i + 1}" for i in range(len(edges) + 1)], dtype=object)
            return np.where(np.isfinite(v), names[q], "<missing>").astype(object)
    labels = as_labels(s)
    top = pd.Series(as_labels(reference)).value_counts().index[:MAX_GROUPS]
    out = np.where(pd.Index(top, dtype=object).get_indexer(labels) >= 0, labels, "<other>")
    out[pd.isna(labels)] = "<missing>"
    return out.astype(object)


@dataclass
class FairnessColumn:
    """Fairness figures for one sensitive column; ``groups`` has one row per group."""

    column: str
    groups: pd.DataFrame
    representation_tv: float
    metric: str | None = None
    dp_gap_real: float | None = None
    dp_gap_synth: float | None = None
    eo_gap_real: float | None = None
    eo_gap_synth: float | None = None
    label_dp_gap_real: float | None = None
    label_dp_gap_synth: float | None = None

    def gaps(self) -> dict[str, float | None]:
        return {"representation_tv": self.representation_tv,
                "dp_gap_real": self.dp_gap_real, "dp_gap_synth": self.dp_gap_synth,
                "eo_gap_real": self.eo_gap_real, "eo_gap_synth": self.eo_gap_synth,
                "label_dp_gap_real": self.label_dp_gap_real,
                "label_dp_gap_synth": self.label_dp_gap_synth}

    def to_dict(self) -> dict[str, Any]:
        from genmodels.evaluation._json import records

        return {"column": self.column, "metric": self.metric, **self.gaps(),
                "groups": records(self.groups)}


def _group_rows(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind],
                gr: np.ndarray, gs: np.ndarray, column: str) -> list[dict[str, Any]]:
    others = {c: k for c, k in kinds.items() if c != column}
    rows = []
    for g in pd.unique(np.concatenate([gr, gs])):
        r, s = real[gr == g], synth[gs == g]
        dist = float("nan")
        if len(r) and len(s) and others:
            dist = float(column_metrics(r, s, others)["distance"].mean())
        rows.append({"group": str(g), "n_real": len(r), "n_synth": len(s),
                     "share_real": len(r) / len(real), "share_synth": len(s) / len(synth),
                     "column_distance": dist})
    return rows


def fairness_column(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind],
                    column: str, pred: Predictions | None = None) -> FairnessColumn:
    """Every fairness figure for the sensitive ``column`` (see the module doc);
    ``pred`` (from :func:`genmodels.evaluation.utility.fit_predict`) adds per-group
    TSTR and the gaps."""
    gr = group_labels(real[column], kinds[column], real[column])
    gs = group_labels(synth[column], kinds[column], real[column])
    frame = pd.DataFrame(_group_rows(real, synth, kinds, gr, gs, column))
    _, codes = np.unique(np.concatenate([gr, gs]).astype(str), return_inverse=True)
    k = int(codes.max()) + 1
    out = FairnessColumn(str(column), frame, tv_distance(codes[:len(gr)], codes[len(gr):], k))
    if pred is None:
        return out
    out.metric = "macro_f1" if pred.task == "classification" else "r2"
    gt = group_labels(pred.test[column], kinds[column], real[column])
    for source in ("real", "synth"):
        y_hat = pred.pred.get(("hgb", source))
        frame[f"tstr_{source}"] = [
            task_score(pred.task, pred.y_test[gt == g], y_hat[gt == g])
            if y_hat is not None and (gt == g).sum() >= MIN_GROUP else float("nan")
            for g in frame["group"]]
        if y_hat is not None and pred.task == "classification":
            setattr(out, f"dp_gap_{source}", demographic_parity_gap(y_hat, gt, MIN_GROUP))
            setattr(out, f"eo_gap_{source}",
                    equalized_odds_gap(pred.y_test, y_hat, gt, MIN_GROUP))
    frame["n_test"] = [int((gt == g).sum()) for g in frame["group"]]
    if pred.task == "classification":
        target = pred.target
        mr, ms = real[target].notna().to_numpy(), synth[target].notna().to_numpy()
        yr, ys, _ = joint_codes(real[target][mr], synth[target][ms], missing_code=False)
        out.label_dp_gap_real = demographic_parity_gap(yr, gr[mr], MIN_GROUP)
        out.label_dp_gap_synth = demographic_parity_gap(ys, gs[ms], MIN_GROUP)
    return out
