"""The typed result of ``gm.evaluate``: one object per question (fidelity, likelihood,
utility, privacy, fairness, diversity, cost), with JSON and DataFrame exports."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from genmodels.evaluation._json import clean, num
from genmodels.evaluation.c2st import C2STResult
from genmodels.evaluation.cost import Cost
from genmodels.evaluation.diversity import ModeCoverage
from genmodels.evaluation.fairness import FairnessColumn
from genmodels.evaluation.fidelity import Fidelity
from genmodels.evaluation.likelihood import Likelihood
from genmodels.evaluation.privacy import Privacy
from genmodels.evaluation.utility import Utility

FORMAT_VERSION = 2
SCORE_FORMULA = {
    "score": "fidelity score: mean(1 - column_distance, 1 - pairwise_distance, "
             "1 - 2*max(c2st_auc - 0.5, 0)) over the defined terms; [0, 1], higher is better",
    "utility": "mean over learners of clip(synth_score / real_score, 0, 1)",
    "privacy": "with a holdout: mean(1 - 2*max(mia_auc - 0.5, 0), min(dcr_ratio, 1), "
               "1 - max(exact_copy_rate - holdout_copy_rate, 0)); without: "
               "1 - exact_copy_rate",
}
_LIKELIHOOD_SUFFIX = {"exact": "", "bound": "_upper_bound", "approximate": "_approx"}


@dataclass
class EvaluationReport:
    """Everything ``gm.evaluate`` measured. Groups are ``None`` when their input was not
    given (``target``, ``sensitive``, ``model``, ``holdout``, ``modes``).

    ``score`` is the fidelity composite (see :data:`SCORE_FORMULA`), in [0, 1], higher
    is better; :meth:`group_scores` adds the utility and privacy composites.
    """

    fidelity: Fidelity
    privacy: Privacy
    n_real: int
    n_synth: int
    seed: int
    seconds: float
    n_holdout: int | None = None
    target: str | None = None
    sensitive: tuple[str, ...] = ()
    likelihood: Likelihood | None = None
    utility: Utility | None = None
    fairness: dict[str, FairnessColumn] | None = None
    diversity: ModeCoverage | None = None
    cost: Cost | None = None
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------ fidelity shortcuts
    @property
    def columns(self) -> pd.DataFrame:
        return self.fidelity.columns

    @property
    def pairwise(self) -> pd.DataFrame:
        return self.fidelity.pairwise

    @property
    def c2st(self) -> C2STResult:
        return self.fidelity.c2st

    @property
    def c2st_auc(self) -> float:
        return self.fidelity.c2st_auc

    @property
    def column_distance(self) -> float:
        return self.fidelity.column_distance

    @property
    def pairwise_distance(self) -> float:
        return self.fidelity.pairwise_distance

    @property
    def corr_diff(self) -> float:
        return self.fidelity.corr_diff

    @property
    def contingency_tv(self) -> float:
        return self.fidelity.contingency_tv

    @property
    def mixed_tv(self) -> float:
        return self.fidelity.mixed_tv

    @property
    def exact_match_rate(self) -> float:
        """Share of synthetic rows that copy a real row, [0, 1], lower is safer."""
        return self.privacy.exact_copy_rate

    @property
    def score(self) -> float:
        """The fidelity composite (:attr:`Fidelity.score`), [0, 1], higher is better."""
        return self.fidelity.score

    # ------------------------------------------------------------- summaries
    def group_scores(self) -> dict[str, float | None]:
        """Composites in [0, 1], higher is better (formulas in :data:`SCORE_FORMULA`);
        ``None`` for a group that was not measured."""
        return {"fidelity": num(self.score), "utility": num(self._utility_score()),
                "privacy": num(self._privacy_score())}

    def _utility_score(self) -> float | None:
        if self.utility is None:
            return None
        ratios = [np.clip(r.ratio, 0.0, 1.0) for r in self.utility.results.values()
                  if not math.isnan(r.ratio)]
        return float(np.mean(ratios)) if ratios else None

    def _privacy_score(self) -> float:
        p = self.privacy
        if p.mia_auc is None:
            return 1.0 - p.exact_copy_rate
        ratio = p.dcr_ratio
        terms = [1.0 - 2.0 * max(p.mia_auc - 0.5, 0.0),
                 1.0 - max(p.exact_copy_rate - (p.holdout_copy_rate or 0.0), 0.0)]
        if ratio is not None and not math.isnan(ratio):
            terms.append(min(ratio, 1.0))
        return float(np.mean(terms))

    def headline(self) -> dict[str, float | None]:
        """The summary numbers, one flat dict (NaN as ``None``)."""
        f = self.fidelity
        out: dict[str, Any] = {
            "score": self.score, "column_distance": f.column_distance,
            "pairwise_distance": f.pairwise_distance, "corr_diff": f.corr_diff,
            "contingency_tv": f.contingency_tv, "mixed_tv": f.mixed_tv,
            "c2st_auc": f.c2st_auc, "exact_match_rate": self.exact_match_rate,
        }
        if f.mmd is not None:
            out["mmd2"] = f.mmd.mmd2
        if f.prdc is not None:
            out |= {k: getattr(f.prdc, k) for k in ("precision", "recall", "density", "coverage")}
        if self.utility is not None:
            u = self.utility
            out |= {"utility_real": u.real_score, "utility_synth": u.synth_score,
                    "utility_ratio": u.ratio}
            if "linear" in u.results:
                out["utility_linear_ratio"] = u.results["linear"].ratio
        if self.privacy.mia_auc is not None:
            out |= {"dcr_ratio": self.privacy.dcr_ratio, "mia_auc": self.privacy.mia_auc}
        lk = self.likelihood
        if lk is not None and lk.kind != "unavailable":
            where = "holdout" if lk.holdout_nll is not None else "train"
            sfx = _LIKELIHOOD_SUFFIX[lk.kind]
            out[f"{where}_nll{sfx}"] = getattr(lk, f"{where}_nll")
            out[f"{where}_bits_per_dim{sfx}"] = getattr(lk, f"{where}_bits_per_dim")
        if self.diversity is not None:
            out["mode_coverage"] = self.diversity.coverage
        if self.cost is not None:
            out |= {"fit_seconds": self.cost.fit_seconds,
                    "sample_rows_per_s": self.cost.sample_rows_per_s}
        scores = self.group_scores()
        out |= {"utility_score": scores["utility"], "privacy_score": scores["privacy"]}
        return {k: num(v) for k, v in out.items()}

    # --------------------------------------------------------------- exports
    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-able (NaN becomes ``None``); one key per group."""
        fair = None
        if self.fairness is not None:
            fair = {c: fc.to_dict() for c, fc in self.fairness.items()}
        return clean({
            "format_version": FORMAT_VERSION, "summary": self.headline(),
            "scores": self.group_scores(), "score_formula": SCORE_FORMULA,
            "n_real": self.n_real, "n_synth": self.n_synth, "n_holdout": self.n_holdout,
            "seed": self.seed, "seconds": self.seconds, "target": self.target,
            "sensitive": list(self.sensitive), "timings": self.timings,
            "fidelity": self.fidelity.to_dict(),
            "likelihood": self.likelihood.to_dict() if self.likelihood else None,
            "utility": self.utility.to_dict() if self.utility else None,
            "privacy": self.privacy.to_dict(),
            "fairness": fair,
            "diversity": {"modes": self.diversity.to_dict()} if self.diversity else None,
            "cost": self.cost.to_dict() if self.cost else None,
            **({"meta": self.meta} if self.meta else {}),
        })

    def to_frame(self) -> pd.DataFrame:
        """Long format, one figure a row: ``group`` (summary, fidelity, likelihood,
        utility, privacy, fairness, diversity, cost), ``name`` (a column, a pair ``a x b``,
        a learner, ``column=group``, or ``""``), ``metric``, ``value`` (float; NaN where
        undefined). Frames of several reports concatenate cleanly."""
        from genmodels.evaluation._frame import frame_rows

        frame = pd.DataFrame(frame_rows(self), columns=["group", "name", "metric", "value"])
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(np.float64)
        return frame

    def summary(self, worst: int = 3) -> str:
        """A few lines for a terminal: scores, then one line per measured group."""
        from genmodels.evaluation._frame import summary_lines

        return "\n".join(summary_lines(self, worst))


TableReport = EvaluationReport
"""The first name of the report; kept as an alias."""
