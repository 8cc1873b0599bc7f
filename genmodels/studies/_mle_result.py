"""The result of :func:`genmodels.studies.mle_vs_bayes_study`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from genmodels.studies import _common as cm
from genmodels.studies import _plots

PAIRS = (("gaussian", "bayes_gaussian"), ("gmm", "bayesian_gmm"))
"""(maximum likelihood, Bayesian) pairs."""
MEET_TOL = 0.02
MEET_TOL_PER_DIM = 0.005
"""Nats per row (at least ``MEET_TOL``, and ``MEET_TOL_PER_DIM`` per column): a smaller
difference at the largest size counts as "they meet"."""
_COLORS = {"gaussian": "#2471a3", "bayes_gaussian": "#c0392b", "gmm": "#17a589",
           "bayesian_gmm": "#e67e22"}


def compare_pair(mle: np.ndarray, bayes: np.ndarray, sizes: list[int],
                 d: int = 1) -> dict[str, Any]:
    """Paired difference ``bayes - mle`` (nats/row) per size over repeats; the sizes where
    the prior clearly helps (difference > 2 standard errors and > the tolerance) or
    clearly hurts; whether the two meet at the largest size (``|diff| <`` tolerance
    ``max(MEET_TOL, MEET_TOL_PER_DIM * d)``), and whether the difference there is
    within noise (< 2 standard errors)."""
    stats = [cm.paired_diff(bayes[s], mle[s]) for s in range(len(sizes))]
    diff = [cm.num(m) for m, _, _ in stats]
    se = [cm.num(e) for _, e, _ in stats]
    tol = max(MEET_TOL, MEET_TOL_PER_DIM * d)
    clear_plus = [m is not None and e is not None and m > max(2 * e, tol)
                  for m, e in zip(diff, se, strict=True)]
    clear_minus = [m is not None and e is not None and m < -2 * e
                   for m, e in zip(diff, se, strict=True)]
    helps = [sizes[i] for i, c in enumerate(clear_plus) if c]
    last = next((i for i in range(len(sizes) - 1, -1, -1) if diff[i] is not None), None)
    meet = noise = None
    if last is not None:
        meet = bool(abs(diff[last]) < tol)
        noise = bool(se[last] is not None and abs(diff[last]) < 2 * se[last])
    return {"diff": diff, "se": se, "tolerance": tol, "within_noise_at_largest": noise,
            "helps_up_to": max(helps) if helps else None,
            "helps_at": helps, "hurts_at": [sizes[i] for i, c in enumerate(clear_minus) if c],
            "largest_size": sizes[last] if last is not None else None,
            "diff_at_largest": diff[last] if last is not None else None, "meet": meet}


@dataclass
class MleBayesResult(cm.StudyResult):
    """``loglik: (n_models, n_sizes, repeats)`` mean held-out log-likelihood per row
    (nats, data units), NaN where a fit failed (see ``failures``)."""

    dataset: str
    columns: list[str]
    n_rows: int
    sizes: list[int]
    models: list[str]
    loglik: np.ndarray
    n_test: int
    repeats: int
    components: int
    seed: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    total_seconds: float = 0.0
    title: str = "MLE vs Bayesian density models"

    def of(self, model: str) -> np.ndarray:
        """Held-out log-likelihood of one model: ``(n_sizes, repeats)``."""
        if model not in self.models:
            raise ValueError(f"model: got {model!r}; allowed: {', '.join(self.models)}")
        return self.loglik[self.models.index(model)]

    def verdicts(self) -> dict[str, Any]:
        """Per ``"mle/bayes"`` pair, see :func:`compare_pair`."""
        return {f"{a}/{b}": compare_pair(self.of(a), self.of(b), self.sizes, len(self.columns))
                for a, b in PAIRS if a in self.models and b in self.models}

    def summary(self) -> pd.DataFrame:
        rows = []
        for m, model in enumerate(self.models):
            for s, size in enumerate(self.sizes):
                mean, std = cm.nan_stats(self.loglik[m, s])
                rows.append({"dataset": self.dataset, "model": model, "size": size,
                             "mean_loglik": mean, "std_loglik": std,
                             "n_ok": int(np.isfinite(self.loglik[m, s]).sum())})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": "mle-vs-bayes", "dataset": self.dataset, "columns": self.columns,
            "d": len(self.columns), "n_rows": self.n_rows, "n_test": self.n_test,
            "repeats": self.repeats, "components": self.components, "seed": self.seed,
            "sizes": self.sizes, "models": self.models, "units": "nats per row, data units",
            "loglik": {m: [[cm.num(v) for v in row] for row in self.of(m)] for m in self.models},
            "verdicts": self.verdicts(), "failures": self.failures,
            "total_seconds": round(self.total_seconds, 2),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MleBayesResult:
        """Rebuild from :meth:`to_dict` output (e.g. a study's JSON file)."""
        models = list(d["models"])
        return cls(
            dataset=d["dataset"], columns=list(d["columns"]), n_rows=d["n_rows"],
            sizes=list(d["sizes"]), models=models,
            loglik=np.array([cm.array(d["loglik"][m]) for m in models]).reshape(
                len(models), len(d["sizes"]), d["repeats"]),
            n_test=d["n_test"], repeats=d["repeats"], components=d["components"],
            seed=d["seed"], failures=list(d.get("failures", [])),
            total_seconds=d.get("total_seconds", 0.0))

    def sentences(self) -> list[str]:
        out = []
        for key, v in self.verdicts().items():
            mle, bayes = key.split("/")
            if v["diff_at_largest"] is None:
                out.append(f"{bayes} vs {mle}: no size where both fitted.")
                continue
            first = next(i for i, x in enumerate(v["diff"]) if x is not None)
            helps = (f"the prior helps clearly up to n={v['helps_up_to']} "
                     f"({v['diff'][first]:+.3g} nats/row at n={self.sizes[first]})"
                     if v["helps_up_to"] else "the prior never helps clearly")
            meet = ("they meet" if v["meet"] else
                    "within noise of each other" if v["within_noise_at_largest"] else
                    "they have not met yet")
            hurts = (f"; the prior clearly hurts at n={', '.join(map(str, v['hurts_at']))}"
                     if v["hurts_at"] else "")
            out.append(f"{bayes} vs {mle}: {helps}; at n={v['largest_size']} the difference is "
                       f"{v['diff_at_largest']:+.3f} nats/row: {meet}{hurts}.")
        if self.failures:
            out.append(f"{len(self.failures)} fit(s) failed and are left out (see failures).")
        return out

    overview_header = ("dataset", "d", "pair", "prior helps up to n", "diff at largest n",
                       "meet")

    def overview_rows(self) -> list[list[Any]]:
        rows = []
        for key, v in self.verdicts().items():
            dl = v["diff_at_largest"]
            rows.append([self.dataset, len(self.columns), key, v["helps_up_to"] or "—",
                         "—" if dl is None else f"{dl:+.3f} (n={v['largest_size']})",
                         {True: "yes", False: "no", None: "—"}[v["meet"]]])
        return rows

    # ------------------------------------------------------------ figures
    def figures(self) -> dict[str, Any]:
        fig, (ax_ll, ax_diff) = _plots.new_figure(2, width=5.6, height=4.0)
        for model in self.models:
            _plots.band(ax_ll, self.sizes, self.of(model), label=model,
                        color=_COLORS.get(model, "#7f8c8d"),
                        linestyle="--" if model in ("gaussian", "gmm") else "-")
        bayes_vals = np.concatenate([self.of(b).ravel() for _, b in PAIRS if b in self.models]
                                    + [self.loglik[:, -1].ravel()])
        bayes_vals = bayes_vals[np.isfinite(bayes_vals)]
        if bayes_vals.size:
            lo, hi = float(bayes_vals.min()), float(np.nanmax(self.loglik))
            pad = 0.1 * max(hi - lo, 1.0)
            ax_ll.set_ylim(lo - pad, hi + pad)
        ax_ll.set_ylabel("held-out log-likelihood (nats/row)")
        ax_ll.set_title(f"{self.dataset} (d={len(self.columns)}): MLE curves below the "
                        "axis are off the chart", fontsize=9)
        for (mle, bayes), color in zip(PAIRS, ("#c0392b", "#e67e22"), strict=True):
            if mle in self.models and bayes in self.models:
                _plots.band(ax_diff, self.sizes, self.of(bayes) - self.of(mle),
                            label=f"{bayes} − {mle}", color=color)
        ax_diff.axhline(0.0, color="#566573", linewidth=0.8)
        ax_diff.set_yscale("symlog", linthresh=0.1)
        means = [np.nanmean(self.of(b) - self.of(a), axis=1) for a, b in PAIRS
                 if a in self.models and b in self.models]
        means = np.concatenate(means) if means else np.zeros(0)
        means = means[np.isfinite(means)]
        if means.size:  # the mean curves set the range; the bands may be clipped
            ax_diff.set_ylim(min(-0.3, 3 * means.min()), max(0.3, 3 * means.max()))
        ax_diff.set_ylabel("Bayesian − MLE (nats/row, symlog)")
        ax_diff.set_title("> 0: the prior helps", fontsize=9)
        for ax in (ax_ll, ax_diff):
            ax.set_xscale("log")
            ax.set_xlabel("training-set size n")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
        return {"loglik": fig}

    def to_html(self) -> str:
        esc = _plots.esc
        head = ["model", *[f"n={s}" for s in self.sizes]]
        rows = [[m, *[_plots.mean_pm(*cm.nan_stats(self.loglik[i, s]), digits=2)
                      for s in range(len(self.sizes))]] for i, m in enumerate(self.models)]
        verdict = "".join(f'<p class="gm-verdict">{esc(s)}</p>' for s in self.sentences())
        cols = ", ".join(self.columns)
        return (
            f'<section class="gm-study" id="mle-vs-bayes-{esc(self.dataset)}">'
            f"<h3>{esc(self.dataset)} — {len(self.columns)} continuous columns</h3>"
            f'<p class="gm-note">Columns: {esc(cols)}. {self.n_rows:,} complete rows; held-out '
            f"log-likelihood on {self.n_test:,} rows, {self.repeats} repeats (seed "
            f"{self.seed}), band = mean ± 1 std. gmm and bayesian_gmm use {self.components} "
            "components; bayesian_gmm is scikit-learn's variational Dirichlet-process "
            "mixture with the prior of bayes_gaussian (Ψ = I, ν0 = d + 2 on standardized "
            f"data), scored with its posterior-mean parameters.</p>{verdict}"
            f"{_plots.img_tag(self.figures()['loglik'], f'log-likelihood vs n on {self.dataset}')}"
            f"{_plots.html_table(head, rows, 'Held-out log-likelihood, nats/row (mean ± std)')}"
            "</section>")
