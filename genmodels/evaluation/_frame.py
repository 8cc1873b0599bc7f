"""The long-format frame and the terminal summary of an evaluation report."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genmodels.evaluation.report import EvaluationReport

Row = tuple[str, str, str, Any]


def _flat(group: str, name: str, values: dict[str, Any]) -> list[Row]:
    """Numeric entries of a dict as rows (nested dicts: ``name`` becomes the key)."""
    rows: list[Row] = []
    for k, v in values.items():
        if isinstance(v, dict):
            rows += _flat(group, k if not name else f"{name}.{k}", v)
        elif isinstance(v, int | float) and not isinstance(v, bool) or v is None:
            rows.append((group, name, k, v))
    return rows


def frame_rows(r: EvaluationReport) -> list[Row]:
    """Rows ``(group, name, metric, value)`` of :meth:`EvaluationReport.to_frame`."""
    rows: list[Row] = [("summary", "", k, v) for k, v in r.headline().items()]
    f = r.fidelity
    for c in f.columns.itertuples(index=False):
        rows.append(("fidelity", c.column, c.metric, c.statistic))
        rows.append(("fidelity", c.column, "missing_diff", c.missing_diff))
    for p in f.pairwise.itertuples(index=False):
        rows.append(("fidelity", f"{p.column_a} x {p.column_b}", p.metric, p.statistic))
    fid = f.to_dict()
    rows += _flat("fidelity", "", {k: fid[k] for k in ("c2st", "mmd", "prdc") if fid[k]})
    if r.likelihood is not None:
        lk = r.likelihood
        for where in ("holdout", "train"):
            for m in ("nll", "bits_per_dim"):
                if getattr(lk, f"{where}_{m}") is not None:
                    rows.append(("likelihood", where, m if lk.kind == "exact" else
                                 f"{m}_{lk.kind}", getattr(lk, f"{where}_{m}")))
    if r.utility is not None:
        for learner, res in r.utility.results.items():
            rows += [("utility", learner, f"{res.metric}_real", res.real_score),
                     ("utility", learner, f"{res.metric}_synth", res.synth_score),
                     ("utility", learner, "ratio", res.ratio)]
    rows += _flat("privacy", "", {k: v for k, v in r.privacy.to_dict().items() if k != "rows"})
    for col, fc in (r.fairness or {}).items():
        rows += [("fairness", col, k, v) for k, v in fc.gaps().items()]
        for g in fc.groups.to_dict(orient="records"):
            rows += [("fairness", f"{col}={g['group']}", k, v) for k, v in g.items()
                     if k != "group"]
    if r.diversity is not None:
        rows += _flat("diversity", "modes", r.diversity.to_dict())
    if r.cost is not None:
        rows += _flat("cost", r.cost.model, r.cost.to_dict())
    return rows


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or isinstance(v, float) and math.isnan(v):
        return "n/a"
    return f"{v:.{digits}f}"


def summary_lines(r: EvaluationReport, worst: int = 3) -> list[str]:
    """The lines of :meth:`EvaluationReport.summary`."""
    f, s = r.fidelity, r.group_scores()
    lines = [f"score {_fmt(r.score)} (fidelity; 1 = indistinguishable)  utility "
             f"{_fmt(s['utility'])}  privacy {_fmt(s['privacy'])}  —  real {r.n_real} rows, "
             f"synth {r.n_synth}" + (f", holdout {r.n_holdout}" if r.n_holdout else ""),
             f"columns: mean distance {_fmt(f.column_distance)} (KS / TV)",
             f"pairs: corr diff {_fmt(f.corr_diff)}, contingency TV {_fmt(f.contingency_tv)}, "
             f"mixed TV {_fmt(f.mixed_tv)}",
             f"C2ST AUC {_fmt(f.c2st_auc)} (0.5 ideal, {f.c2st.folds}-fold, "
             f"{f.c2st.rows_per_side} rows a side)"]
    if f.mmd is not None and f.prdc is not None:
        p = f.prdc
        lines.append(f"MMD^2 {f.mmd.mmd2:.4f} (0 ideal); precision {_fmt(p.precision)}, "
                     f"recall {_fmt(p.recall)}, density {_fmt(p.density)}, coverage "
                     f"{_fmt(p.coverage)} (1 ideal, k={p.k})")
    lines += _other_lines(r)
    top = f.columns.nlargest(worst, "distance")
    lines.append("worst columns: " + ", ".join(f"{c.column} {c.metric} {c.statistic:.3f}"
                                                for c in top.itertuples(index=False)))
    return lines


def _other_lines(r: EvaluationReport) -> list[str]:
    lines = []
    if r.likelihood is not None:
        lk = r.likelihood
        if lk.kind == "unavailable":
            lines.append(f"likelihood: unavailable ({lk.reason})")
        else:
            label = {"exact": "NLL", "bound": "NLL upper bound",
                     "approximate": "approximate NLL"}[lk.kind]
            where = "holdout" if lk.holdout_nll is not None else "train"
            lines.append(f"likelihood ({where}): {label} {_fmt(getattr(lk, f'{where}_nll'))} "
                         f"nats/row, {_fmt(getattr(lk, f'{where}_bits_per_dim'))} bits/dim"
                         + (f", train-holdout gap {_fmt(lk.gap)}" if lk.gap is not None else ""))
    if r.utility is not None:
        u = r.utility
        parts = [f"{k} real {_fmt(x.real_score)} synth {_fmt(x.synth_score)} "
                 f"(ratio {_fmt(x.ratio)})" for k, x in u.results.items()]
        lines.append(f"utility ({u.metric} on {u.target!r}, tested on {u.evaluated_on}): "
                     + "; ".join(parts))
    p = r.privacy
    line = (f"privacy: exact copies {100 * p.exact_copy_rate:.1f}% of synth, "
            f"DCR median {_fmt(p.dcr_synth['median'])}")
    if p.mia_auc is not None:
        line += (f" vs holdout {_fmt(p.dcr_holdout['median'])} (ratio {_fmt(p.dcr_ratio)}), "
                 f"MIA AUC {_fmt(p.mia_auc)} (0.5 ideal)")
    lines.append(line)
    for col, fc in (r.fairness or {}).items():
        lines.append(f"fairness ({col}): representation TV {_fmt(fc.representation_tv)}"
                     + (f", DP gap real {_fmt(fc.dp_gap_real)} / synth {_fmt(fc.dp_gap_synth)}"
                        f", EO gap real {_fmt(fc.eo_gap_real)} / synth {_fmt(fc.eo_gap_synth)}"
                        if fc.dp_gap_real is not None else ""))
    if r.diversity is not None:
        d = r.diversity
        lines.append(f"modes: {d.covered}/{d.n_modes} covered, mode TV {_fmt(d.mode_tv)}")
    if r.cost is not None:
        c = r.cost
        lines.append(f"cost ({c.model}): fit {_fmt(c.fit_seconds, 2)} s, peak RSS "
                     f"{_fmt(c.peak_rss_mb, 0)} MB, sampling {_fmt(c.sample_rows_per_s, 0)} rows/s")
    return lines
