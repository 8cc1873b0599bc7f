"""The result of :func:`genmodels.studies.augment_study`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from genmodels.studies import _common as cm
from genmodels.studies import _plots

METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "minority_f1")
PLOTTED = METRICS
VERDICT_METRICS = ("balanced_accuracy", "macro_f1", "minority_f1")


@dataclass
class AugmentResult(cm.StudyResult):
    """``records``: one row per repeat, arm and classifier with the test metrics
    (:data:`METRICS`), ``n_rows`` (training rows of the arm) and ``gen_seconds``."""

    dataset: str
    target: str
    classes: list[str]
    minority: str
    minority_share: float | None
    n_train: int
    n_test: int
    repeats: int
    arms: list[str]
    classifiers: list[str]
    seed: int
    records: pd.DataFrame
    failures: list[dict[str, Any]] = field(default_factory=list)
    total_seconds: float = 0.0
    title: str = "Augmentation with conditional synthetic rows"

    def values(self, arm: str, classifier: str, metric: str) -> np.ndarray:
        """The metric over repeats ``(repeats,)``, NaN where the arm failed."""
        out = np.full(self.repeats, np.nan)
        if self.records.empty:
            return out
        rows = self.records[(self.records["arm"] == arm)
                            & (self.records["classifier"] == classifier)]
        out[rows["repeat"].to_numpy(dtype=int)] = rows[metric].to_numpy(dtype=float)
        return out

    def summary(self) -> pd.DataFrame:
        """Mean and std of every metric per arm and classifier."""
        rows = []
        for arm in self.arms:
            for c in self.classifiers:
                row: dict[str, Any] = {"arm": arm, "classifier": c}
                for m in METRICS:
                    row[f"{m}_mean"], row[f"{m}_std"] = cm.nan_stats(self.values(arm, c, m))
                rows.append(row)
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        return self.summary()

    def verdicts(self) -> dict[str, Any]:
        """Per classifier and augmented arm: paired difference vs ``real`` and vs
        ``oversample`` of balanced accuracy, macro F1 and minority F1 (mean, standard
        error, clear if |mean| > 2 se)."""
        out: dict[str, Any] = {}
        for c in self.classifiers:
            for arm in self.arms[1:]:
                entry = {}
                for base in ("real", "oversample"):
                    if arm == base:
                        continue
                    for m in VERDICT_METRICS:
                        mean, se, n = cm.paired_diff(self.values(arm, c, m),
                                                     self.values(base, c, m))
                        entry[f"{m}_vs_{base}"] = {
                            "diff": cm.num(mean), "se": cm.num(se), "n": n,
                            "clear": bool(n > 1 and np.isfinite(se) and abs(mean) > 2 * se)}
                out[f"{c}/{arm}"] = entry
        return out

    def to_dict(self) -> dict[str, Any]:
        records = [{k: (cm.num(v) if isinstance(v, float) else v) for k, v in row.items()}
                   for row in self.records.to_dict(orient="records")]
        return {
            "study": "augment", "dataset": self.dataset, "target": self.target,
            "classes": self.classes, "minority": self.minority,
            "minority_share": self.minority_share, "n_train": self.n_train,
            "n_test": self.n_test, "repeats": self.repeats, "arms": self.arms,
            "classifiers": self.classifiers, "seed": self.seed, "records": records,
            "verdicts": self.verdicts(), "failures": self.failures,
            "total_seconds": round(self.total_seconds, 2),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AugmentResult:
        """Rebuild from :meth:`to_dict` output (e.g. a study's JSON file)."""
        records = pd.DataFrame(d["records"]).astype({m: float for m in METRICS}, errors="ignore")
        return cls(
            dataset=d["dataset"], target=d["target"], classes=list(d["classes"]),
            minority=d["minority"], minority_share=d["minority_share"], n_train=d["n_train"],
            n_test=d["n_test"], repeats=d["repeats"], arms=list(d["arms"]),
            classifiers=list(d["classifiers"]), seed=d["seed"], records=records,
            failures=list(d.get("failures", [])), total_seconds=d.get("total_seconds", 0.0))

    def sentences(self) -> list[str]:
        out = []
        names = {"balanced_accuracy": "balanced accuracy", "minority_f1": "minority-class F1"}
        for key, v in self.verdicts().items():
            c, arm = key.split("/")
            if arm == "oversample":
                continue
            parts = []
            for m, what in names.items():
                bits = []
                for base in ("real", "oversample"):
                    d = v[f"{m}_vs_{base}"]
                    if d["diff"] is None:
                        continue
                    word = ("clearly better" if d["clear"] and d["diff"] > 0 else
                            "clearly worse" if d["clear"] else "no clear difference")
                    bits.append(f"{d['diff']:+.3f} vs {base} ({word})")
                if bits:
                    parts.append(f"{what} " + ", ".join(bits))
            if parts:
                out.append(f"{c}, {arm}-balanced: " + "; ".join(parts) + ".")
        if self.failures:
            out.append(f"{len(self.failures)} arm fit(s) failed and are left out (see failures).")
        return out

    def figures(self) -> dict[str, Any]:
        fig, axes = _plots.new_figure(len(PLOTTED), width=3.4, height=3.6)
        x = np.arange(len(self.arms))
        width = 0.8 / max(len(self.classifiers), 1)
        for ax, metric in zip(axes, PLOTTED, strict=True):
            for i, (c, color) in enumerate(zip(self.classifiers, _plots.PALETTE, strict=False)):
                pos = x - 0.4 + width * (i + 0.5)
                stats = [cm.nan_stats(self.values(a, c, metric)) for a in self.arms]
                for j, arm in enumerate(self.arms):
                    v = self.values(arm, c, metric)
                    ax.scatter(np.full(v.size, pos[j]), v, s=9, color=color, alpha=0.45,
                               linewidths=0)
                ax.errorbar(pos, [s[0] for s in stats], yerr=[s[1] for s in stats], fmt="o",
                            color=color, capsize=3, markersize=5, label=c)
            ax.set_xticks(x, self.arms, rotation=20, fontsize=8)
            ax.set_title(metric.replace("_", " "), fontsize=10)
            ax.grid(True, axis="y", alpha=0.3)
        axes[0].legend(fontsize=7)
        axes[0].set_ylabel("test score (mean ± std, dots: repeats)")
        return {"downstream": fig}

    def to_html(self) -> str:
        esc = _plots.esc
        head = ["arm", "classifier", *METRICS]
        rows = [[arm, c, *[_plots.mean_pm(*cm.nan_stats(self.values(arm, c, m)))
                           for m in METRICS]]
                for arm in self.arms for c in self.classifiers]
        share = ("natural class shares" if self.minority_share is None else
                 f"minority class {self.minority!r} subsampled to {self.minority_share:.0%}")
        verdict = "".join(f'<p class="gm-verdict">{esc(s)}</p>' for s in self.sentences())
        return (
            f'<section class="gm-study" id="augment-{esc(self.dataset)}">'
            f"<h3>{esc(self.dataset)} — target {esc(self.target)}</h3>"
            f'<p class="gm-note">Each of {self.repeats} repeats (seed {self.seed}) draws '
            f"{self.n_train:,} training and {self.n_test:,} disjoint test rows, {esc(share)} "
            "in both. Arms: real (as drawn), oversample (minority rows duplicated up to the "
            "majority count), and each model's conditional synthetic rows bringing every "
            "class up to the majority count. Same classifiers, same real test rows. "
            "Balancing moves the classifier's prior away from the test rows' class shares: "
            "balanced accuracy rewards that, accuracy and minority F1 may not.</p>"
            f"{verdict}{_plots.img_tag(self.figures()['downstream'], 'downstream scores')}"
            f"{_plots.html_table(head, rows, 'Test scores (mean ± std over repeats)')}"
            "</section>")
