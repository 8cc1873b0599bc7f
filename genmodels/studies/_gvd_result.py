"""The result of :func:`genmodels.studies.gvd_study`: learning curves and verdicts."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from genmodels.studies import _common as cm
from genmodels.studies import _plots

PAIRS = (("naive_bayes", "logistic_mle"), ("naive_bayes", "logistic"))
"""The pair Ng & Jordan compared (naive Bayes vs logistic regression without a penalty),
and the fallback when only the regularized logistic regression ran."""

PATTERNS = {
    "crossover": "the Ng & Jordan pattern: generative clearly better at small n, "
                 "discriminative clearly better at large n",
    "reversed": "the reverse: discriminative clearly better at small n, generative at large n",
    "generative_both": "generative clearly better at both small and large n",
    "discriminative_both": "discriminative clearly better at both small and large n "
                           "(no generative advantage at small n)",
    "generative_small_only": "generative clearly better at small n, no clear difference at "
                             "large n",
    "discriminative_large_only": "no clear difference at small n, discriminative clearly "
                                 "better at large n",
    "discriminative_small_only": "discriminative clearly better at small n, no clear "
                                 "difference at large n",
    "generative_large_only": "no clear difference at small n, generative clearly better at "
                             "large n",
    "no_clear_difference": "no clear difference at small or large n",
    "mixed": "too few sizes to judge",
}
_BY_SIGNS = {(1, -1): "crossover", (-1, 1): "reversed", (1, 1): "generative_both",
             (-1, -1): "discriminative_both", (1, 0): "generative_small_only",
             (0, -1): "discriminative_large_only", (-1, 0): "discriminative_small_only",
             (0, 1): "generative_large_only", (0, 0): "no_clear_difference"}
CLEAR_SE = 2.0
"""The large-n regime's difference is *clear* when its mean is more than this many
standard errors (over repeats) from zero."""
ALPHA = 0.05
"""Family-wise level of the small-n scan (two-sided, Bonferroni over its sizes)."""


def _paired_z(d_rep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per size: mean, standard error and z of ``d_rep: (S, R)`` over repeats."""
    mean, se = np.full(len(d_rep), np.nan), np.full(len(d_rep), np.nan)
    for s, row in enumerate(d_rep):
        mean[s], se[s], _ = cm.paired_diff(row, np.zeros_like(row))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, mean / se, np.sign(mean) * np.inf)
    return mean, se, np.nan_to_num(z, nan=0.0)


def _small_regime(d_rep: np.ndarray, idx: np.ndarray, sizes: list[int]) -> dict[str, Any]:
    """Scan the sizes ``idx``: +1 if the generative curve is clearly ahead at one of them
    (|z| beyond the Bonferroni-corrected two-sided ``ALPHA`` quantile), else -1 if the
    discriminative one is, else 0; reports the size with the largest |z| of that sign."""
    from scipy.stats import norm

    mean, se, z = _paired_z(d_rep[idx])
    z_crit = float(norm.ppf(1 - ALPHA / (2 * len(idx))))
    sign = 1 if (z > z_crit).any() else -1 if (z < -z_crit).any() else 0
    k = int(np.argmax(z)) if sign > 0 else int(np.argmin(z)) if sign < 0 else int(np.argmax(np.abs(z)))
    return {"sizes": [sizes[i] for i in idx], "best_n": sizes[int(idx[k])],
            "diff": cm.num(mean[k]), "se": cm.num(se[k]), "z": cm.num(z[k]),
            "z_crit": round(z_crit, 3), "clear": sign != 0, "sign": sign}


def _large_regime(d_rep: np.ndarray, idx: np.ndarray, sizes: list[int]) -> dict[str, Any]:
    """The difference averaged over the sizes ``idx`` within each repeat; clear beyond
    ``CLEAR_SE`` standard errors of its mean over repeats."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_repeat = np.nanmean(d_rep[idx], axis=0)
    mean, se, n = cm.paired_diff(per_repeat, np.zeros_like(per_repeat))
    clear = bool(n > 1 and np.isfinite(se) and abs(mean) > CLEAR_SE * se)
    return {"sizes": [sizes[i] for i in idx], "diff": cm.num(mean), "se": cm.num(se),
            "clear": clear, "sign": int(np.sign(mean)) if clear else 0}


def compare_curves(gen: np.ndarray, disc: np.ndarray, sizes: list[int]) -> dict[str, Any]:
    """Verdict for two error curves ``(n_sizes, repeats)`` measured on the same splits.

    The rule, the same for every dataset, with ``diff = disc - gen`` per size and repeat
    (positive: the generative one is better; paired over repeats, so the split noise
    shared by both curves cancels):

    * *small n* = the smaller half of the sizes. Its sign is +1 when at one of these sizes
      the mean difference is positive beyond the Bonferroni-corrected two-sided ``ALPHA``
      level (z > ~2.6 for 6 sizes), else -1 when one is negative so, else 0. A scan, not an
      average: below the generative window both classifiers are at chance (adult with 2
      rows a class), and averaging those sizes in would hide a real advantage.
    * *large n* = the largest third of the sizes (at least one), difference averaged over
      them per repeat; its sign is that of the mean when beyond ``CLEAR_SE`` standard
      errors over repeats, else 0.

    The pattern is named from the two signs (:data:`PATTERNS`); ``crossover`` (Ng &
    Jordan's) needs the generative curve clearly ahead somewhere at small n *and* clearly
    behind at large n. Its size is interpolated (in log n) after the last size where the
    generative curve is still ahead on average.
    """
    d_rep = np.asarray(disc, dtype=float) - np.asarray(gen, dtype=float)  # (S, R)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        d = np.nanmean(d_rep, axis=1)
    out: dict[str, Any] = {"diff": [cm.num(v) for v in d], "pattern": "mixed",
                           "crossover_n": None, "small": None, "large": None,
                           "rule": RULE}
    ok = np.flatnonzero(np.isfinite(d))
    if ok.size < 2:
        return out
    out["small"] = _small_regime(d_rep, ok[:max(1, ok.size // 2)], sizes)
    out["large"] = _large_regime(d_rep, ok[-max(1, ok.size // 3):], sizes)
    out["pattern"] = _BY_SIGNS[(out["small"]["sign"], out["large"]["sign"])]
    if out["pattern"] == "crossover":
        ahead = ok[d[ok] > 0]
        i = int(ahead.max())
        later = ok[ok > i]
        if later.size:
            j = int(later.min())
            t = d[i] / (d[i] - d[j])
            log_n = np.log(sizes[i]) + t * np.log(sizes[j] / sizes[i])
            out["crossover_n"] = int(round(float(np.exp(log_n))))
    return out


RULE = ("generative clearly better at some size of the smaller half of the grid "
        f"(paired z beyond the Bonferroni-corrected two-sided {ALPHA:g} level) and "
        "discriminative clearly better on average over the largest third "
        f"(beyond {CLEAR_SE:g} standard errors over repeats)")


@dataclass
class GvdResult(cm.StudyResult):
    """Test error of each classifier at each training size and repeat.

    ``errors: (n_classifiers, n_sizes, repeats)``, NaN where a fit failed (see
    ``failures``); ``seconds: (n_classifiers,)`` total fit + predict time.
    """

    dataset: str
    target: str
    n_rows: int
    n_features: int
    classes: list[str]
    sizes: list[int]
    classifiers: list[str]
    families: dict[str, str]
    labels: dict[str, str]
    errors: np.ndarray
    seconds: np.ndarray
    n_test: int
    repeats: int
    seed: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    total_seconds: float = 0.0
    title: str = "Generative vs discriminative classifiers"

    # ------------------------------------------------------------ analysis
    def of(self, name: str) -> np.ndarray:
        """Errors of one classifier: ``(n_sizes, repeats)``."""
        if name not in self.classifiers:
            raise ValueError(f"name: got {name!r}; allowed: {', '.join(self.classifiers)}")
        return self.errors[self.classifiers.index(name)]

    def best_of(self, family: str) -> tuple[np.ndarray, list[str | None]]:
        """Per size, the errors of the family member with the lowest mean error there."""
        members = [n for n in self.classifiers if self.families[n] == family]
        out = np.full((len(self.sizes), self.repeats), np.nan)
        chosen: list[str | None] = []
        for s in range(len(self.sizes)):
            means = [cm.nan_stats(self.of(n)[s])[0] for n in members]
            means = [m if np.isfinite(m) else np.inf for m in means]
            if not members or not np.isfinite(min(means)):
                chosen.append(None)
                continue
            best = members[int(np.argmin(means))]
            out[s] = self.of(best)[s]
            chosen.append(best)
        return out, chosen

    def pair(self) -> tuple[str, str] | None:
        """The naive Bayes / logistic regression pair that ran, if any."""
        return next((p for p in PAIRS if all(n in self.classifiers for n in p)), None)

    def verdicts(self) -> dict[str, Any]:
        """``pair`` (naive Bayes vs logistic regression, when both ran) and ``family``
        (best generative vs best discriminative per size); see :func:`compare_curves`."""
        out: dict[str, Any] = {}
        pair = self.pair()
        if pair is not None:
            out["pair"] = {"classifiers": list(pair),
                           **compare_curves(self.of(pair[0]), self.of(pair[1]), self.sizes)}
        gen, gen_names = self.best_of("generative")
        disc, disc_names = self.best_of("discriminative")
        if any(gen_names) and any(disc_names):
            out["family"] = {**compare_curves(gen, disc, self.sizes),
                             "best_generative": gen_names, "best_discriminative": disc_names}
        return out

    def summary(self) -> pd.DataFrame:
        """One row per classifier and size: mean and std of the test error."""
        rows = []
        for c, name in enumerate(self.classifiers):
            for s, size in enumerate(self.sizes):
                mean, std = cm.nan_stats(self.errors[c, s])
                rows.append({"dataset": self.dataset, "classifier": name,
                             "family": self.families[name], "size": size, "mean_error": mean,
                             "std_error": std, "n_ok": int(np.isfinite(self.errors[c, s]).sum())})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": "gvd", "dataset": self.dataset, "target": self.target,
            "n_rows": self.n_rows, "n_features": self.n_features, "classes": self.classes,
            "n_test": self.n_test, "repeats": self.repeats, "seed": self.seed,
            "sizes": self.sizes, "classifiers": self.classifiers, "families": self.families,
            "labels": self.labels,
            "errors": {n: [[cm.num(v) for v in row] for row in self.of(n)]
                       for n in self.classifiers},
            "seconds": {n: round(float(t), 3) for n, t in zip(self.classifiers, self.seconds, strict=True)},
            "verdicts": self.verdicts(), "failures": self.failures,
            "total_seconds": round(self.total_seconds, 2),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GvdResult:
        """Rebuild from :meth:`to_dict` output (e.g. a study's JSON file)."""
        names = list(d["classifiers"])
        return cls(
            dataset=d["dataset"], target=d["target"], n_rows=d["n_rows"],
            n_features=d["n_features"], classes=list(d["classes"]), sizes=list(d["sizes"]),
            classifiers=names, families=dict(d["families"]), labels=dict(d["labels"]),
            errors=np.array([cm.array(d["errors"][n]) for n in names]).reshape(
                len(names), len(d["sizes"]), d["repeats"]),
            seconds=np.array([d["seconds"][n] for n in names], dtype=float),
            n_test=d["n_test"], repeats=d["repeats"], seed=d["seed"],
            failures=list(d.get("failures", [])), total_seconds=d.get("total_seconds", 0.0))

    # ------------------------------------------------------------ text
    def sentences(self) -> list[str]:
        """The verdicts in words."""
        v = self.verdicts()
        out = []
        pair = self.pair()
        for key, what in (("pair", f"{pair[0]} vs {pair[1]}" if pair else ""),
                          ("family", "Best generative vs best discriminative")):
            if key in v:
                out.append(f"{what}: {_describe(v[key])}.")
        if self.failures:
            out.append(f"{len(self.failures)} fit(s) failed and are left out (see failures).")
        return out

    overview_header = ("dataset", "rows", "classes", "NB vs LR", "best gen. vs best disc.",
                       "crossover n (family)")

    def overview_rows(self) -> list[list[Any]]:
        v = self.verdicts()
        pair, fam = v.get("pair", {}), v.get("family", {})
        return [[self.dataset, self.n_rows, len(self.classes),
                 pair.get("pattern", "—"), fam.get("pattern", "—"),
                 fam.get("crossover_n") or "—"]]

    # ------------------------------------------------------------ figures
    def figures(self) -> dict[str, Any]:
        fig, (ax_all, ax_pair) = _plots.new_figure(2, width=5.6, height=4.0)
        colors = {"generative": iter(_plots.GENERATIVE_COLORS),
                  "discriminative": iter(_plots.DISCRIMINATIVE_COLORS)}
        for name in self.classifiers:
            fam = self.families[name]
            _plots.band(ax_all, self.sizes, self.of(name), label=name,
                        color=next(colors[fam], "#7f8c8d"),
                        linestyle="-" if fam == "generative" else "--", clip=(0.0, 1.0))
        gen, _ = self.best_of("generative")
        disc, _ = self.best_of("discriminative")
        _plots.band(ax_pair, self.sizes, gen, label="best generative", color="#c0392b")
        _plots.band(ax_pair, self.sizes, disc, label="best discriminative", color="#2471a3",
                    linestyle="--")
        for name, color in zip(self.pair() or (), ("#e67e22", "#17a589"), strict=False):
            if name in self.classifiers:
                _plots.band(ax_pair, self.sizes, self.of(name), label=name, color=color,
                            linestyle=":", marker="s", clip=(0.0, 1.0))
        for ax, title in ((ax_all, "all classifiers"), (ax_pair, "families and NB vs LR")):
            ax.set_xscale("log")
            ax.set_xlabel("training-set size n")
            ax.set_ylabel("test error")
            ax.set_title(f"{self.dataset}: {title}", fontsize=10)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
        return {"learning_curves": fig}

    def to_html(self) -> str:
        esc = _plots.esc
        head = ["classifier", "family", *[f"n={s}" for s in self.sizes], "seconds"]
        rows = []
        for c, name in enumerate(self.classifiers):
            cells = [_plots.mean_pm(*cm.nan_stats(self.errors[c, s])) for s in range(len(self.sizes))]
            rows.append([name, self.families[name], *cells, f"{self.seconds[c]:.1f}"])
        verdict = "".join(f'<p class="gm-verdict">{esc(s)}</p>' for s in self.sentences())
        labels = "; ".join(f"{n}: {self.labels[n]}" for n in self.classifiers)
        return (
            f'<section class="gm-study" id="gvd-{esc(self.dataset)}">'
            f"<h3>{esc(self.dataset)} — target {esc(self.target)}</h3>"
            f'<p class="gm-note">{self.n_rows:,} rows, {self.n_features} feature columns, '
            f"{len(self.classes)} classes; test error on {self.n_test:,} held-out rows, "
            f"{self._repeats_note()} (seed {self.seed}), band = mean ± 1 std. "
            f"Classifiers: {esc(labels)}.</p>{verdict}"
            f"{_plots.img_tag(self.figures()['learning_curves'], f'learning curves on {self.dataset}')}"
            f"{_plots.html_table(head, rows, 'Test error (mean ± std over repeats)')}"
            "</section>")


    def _repeats_note(self) -> str:
        counts = {n: int(np.isfinite(self.of(n)).sum(axis=1).max(initial=0))
                  for n in self.classifiers}
        pair = self.pair() or ()
        others = [counts[n] for n in self.classifiers if n not in pair]
        if pair and others and max(others) < self.repeats:
            return (f"{self.repeats} repeats for {' and '.join(pair)}, {max(others)} for the "
                    "others")
        return f"{self.repeats} repeats"


def _describe(v: dict[str, Any]) -> str:
    parts = [PATTERNS[v["pattern"]]]
    if v.get("crossover_n"):
        parts.append(f"crossover near n≈{v['crossover_n']}")
    for key, what in (("small", "small n"), ("large", "large n")):
        r = v.get(key)
        if r and r["diff"] is not None:
            sizes = r["sizes"]
            span = f"n={sizes[0]}" if len(sizes) == 1 else f"n={sizes[0]}–{sizes[-1]}"
            at = f", largest |z| at n={r['best_n']}" if "best_n" in r else ""
            parts.append(f"{what} ({span}{at}): discriminative − generative error "
                         f"{r['diff']:+.3f} ± {r['se'] or 0:.3f}"
                         f"{' (clear)' if r['clear'] else ' (within noise)'}")
    return "; ".join(parts)
