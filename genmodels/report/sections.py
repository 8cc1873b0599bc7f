"""The report's sections for one run: leaderboard, marginals, correlations, training
curves, utility, likelihood, privacy, fairness, cost, model cards, and the sections for
images, text and audio (an empty-state note until a run has them). A sequence model
(text, music) gets the sections of :mod:`genmodels.report.sequence_sections` instead."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Mapping
from typing import Any

from genmodels.report import plots
from genmodels.report.html import (
    Section,
    empty,
    esc,
    figure,
    legend,
    markdown,
    note,
    status,
    table,
)
from genmodels.report.sources import RunView

log = logging.getLogger(__name__)

MAX_MARGINALS = 40
"""Columns with a marginal plot (the rest are listed in a note)."""
COMPOSITE_NOTE = (
    "Composite score in [0, 1], higher is better: the weighted mean of gm.evaluate's group "
    "scores — fidelity (weight 1/2: column and pairwise distances, C2ST detection), utility "
    "(1/4, with a target: clip(TSTR / TRTR, 0, 1) over two learners) and privacy (1/4: "
    "membership-inference AUC, distance-to-closest-record ratio, exact copies) — over the "
    "terms that are defined. C2ST AUC: 0.5 is ideal. Holdout NLL: mean negative "
    "log-likelihood per holdout row in nats, data units (lower is better; comparable "
    "between models whose likelihood is exact).")


def run_sections(view: RunView, prefix: str) -> list[Section]:
    """Every section of one run; ids start with ``prefix``."""
    colors = {r.model: plots.color(i) for i, r in enumerate(view.runs)}
    builders = [
        ("overview", "Overview", _overview), ("leaderboard", "Leaderboard", _leaderboard),
        ("fidelity", "Fidelity", _fidelity), ("marginals", "Marginals", _marginals), ("correlations", "Correlations", _correlations),
        ("training", "Training curves", _training), ("utility", "Utility", _utility),
        ("likelihood", "Likelihood", _likelihood), ("privacy", "Privacy", _privacy),
        ("fairness", "Fairness", _fairness), ("cost", "Cost", _cost),
        ("cards", "Model cards", _cards), ("images", "Image grids", _images),
        ("text", "Text snippets", _texts), ("audio", "Audio", _audio),
    ]
    out = []
    sequence_builders = {}
    if view.modality != "table":
        from genmodels.report.sequence_sections import SEQUENCE_BUILDERS as sequence_builders
    for key, title, build in builders:
        build = sequence_builders.get(key, build)
        try:
            body = build(view, colors)
        except Exception as e:  # one broken plot must not cost the whole report
            log.warning("report: section %s failed: %s", title, e, exc_info=True)
            body = empty(f"This section could not be drawn: {type(e).__name__}: {e}")
        out.append(Section(f"{prefix}{key}", title, body))
    return out


def ok_runs(view: RunView) -> list:
    return [r for r in view.runs if r.status == "ok"]


# ------------------------------------------------------------------ sections
def _overview(view: RunView, colors: Mapping[str, str]) -> str:
    rows = [{"setting": k, "value": int(v) if isinstance(v, float) and v.is_integer() else v}
            for k, v in view.info.items() if v is not None]
    counts: dict[str, int] = {}
    for r in view.runs:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    return (note(f"{len(view.runs)} model(s): {summary}.") + table(rows)
            + "".join(note(n) for n in view.notes))


def _leaderboard(view: RunView, colors: Mapping[str, str]) -> str:
    rows = []
    for r in view.runs:
        m = r.metrics
        rows.append({
            "rank": r.rank, "model": r.model, "status": status(r.status),
            "composite": r.composite, "fidelity": m.get("fidelity"),
            "utility": m.get("utility"), "privacy": m.get("privacy"),
            "C2ST AUC": m.get("c2st_auc"), "holdout NLL": r.holdout_nll,
            "likelihood": r.likelihood.split(" ")[0] if r.likelihood else None,
            "fit (s)": r.fit_seconds, "samples/s": r.samples_per_s,
            "peak RSS (MB)": r.peak_rss_mb,
        })
    body = table(rows, html_columns=["status"])
    failed = [r for r in view.runs if r.status != "ok"]
    if failed:
        body += "<ul>" + "".join(f"<li><strong>{esc(r.model)}</strong> {status(r.status)}: "
                                 f"{esc(r.error or 'no message')}</li>" for r in failed) + "</ul>"
    body += note(COMPOSITE_NOTE)
    ok = [r for r in ok_runs(view) if r.composite is not None]
    if ok:
        terms = {"composite": [r.composite for r in ok],
                 "fidelity": [r.metrics.get("fidelity") for r in ok],
                 "utility": [r.metrics.get("utility") for r in ok],
                 "privacy": [r.metrics.get("privacy") for r in ok]}
        png = plots.leaderboard_png([r.model for r in ok], terms, [colors[r.model] for r in ok])
        body += figure(png, "leaderboard chart", wide=True)
    return body


def _marginals(view: RunView, colors: Mapping[str, str]) -> str:
    synths = {m: f for m, f in view.synth.items() if m in colors}
    if view.real is None and not synths:
        return empty("No data to plot: neither the real table nor samples are available.")
    if not synths:
        return empty("No model produced samples, so there is nothing to compare with.")
    ref = view.real if view.real is not None else next(iter(synths.values()))
    columns = [c for c in ref.columns if all(c in f.columns for f in synths.values())]
    shown = columns[:MAX_MARGINALS]
    dist = _column_distances(view)
    figs = []
    for col in shown:
        png = plots.marginal_png(col, None if view.real is None else view.real[col],
                                 {m: f[col] for m, f in synths.items()}, colors)
        cap = ", ".join(f"{m} {d}" for m, d in dist.get(str(col), {}).items())
        figs.append(figure(png, f"marginal of {col}", cap))
    items = ({"real": plots.REAL_COLOR} if view.real is not None else {}) | \
        {m: colors[m] for m in synths}
    body = legend(items) + note(
        "Numbers: density histograms (real filled grey, each model a line), clipped to "
        "the real 0.5–99.5% range. Categories: share of each level (the 10 most frequent "
        "real levels, then 'other'). Captions: each model's distance for the column "
        "(KS or total variation; 0 is ideal).")
    body += f'<div class="grid">{"".join(figs)}</div>'
    if len(columns) > len(shown):
        body += note(f"{len(columns) - len(shown)} more column(s) not drawn: "
                     + ", ".join(map(str, columns[len(shown):])))
    return body


def _column_distances(view: RunView) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for r in ok_runs(view):
        ev = r.evaluation or {}
        for row in (ev.get("fidelity") or {}).get("columns") or ev.get("columns") or []:
            stat = row.get("statistic")
            if stat is not None and "column" in row:
                out.setdefault(str(row["column"]), {})[r.model] = \
                    f"{row.get('metric', '')} {stat:.3f}"
    return out


def _correlations(view: RunView, colors: Mapping[str, str]) -> str:
    synths = {m: f for m, f in view.synth.items() if m in colors}
    if not synths:
        return empty("No model produced samples.")
    if (view.real if view.real is not None else next(iter(synths.values()))).shape[1] < 2:
        return empty("One column only: there are no pairs to correlate.")
    png = plots.correlations_png(view.real, synths)
    return note("Association of every pair of columns: Pearson r for two numeric columns "
                "(−1…1), Cramér's V for two categorical ones and the correlation ratio η "
                "for a mixed pair (0…1). Tables over 5,000 rows use a seeded subsample.") + \
        figure(png, "association heatmaps, real and synthetic", wide=True)


def _training(view: RunView, colors: Mapping[str, str]) -> str:
    figs = []
    for r in ok_runs(view):
        if r.history:
            png = plots.history_png(r.history, r.model, colors[r.model])
            if png:
                figs.append(figure(png, f"training curves of {r.model}"))
    if not figs:
        return empty("No model in this run logged training curves (deep models do: "
                     "vae, gan, flow, ...).")
    return f'<div class="grid">{"".join(figs)}</div>'


def _group_table(view: RunView, group: str) -> str:
    """One evaluation group (``to_dict()[group]``) across models: its scalars as rows,
    one column per model; lists of records as tables per model."""
    flat: dict[str, dict[str, Any]] = {}
    lists: list[str] = []
    for r in ok_runs(view):
        value = (r.evaluation or {}).get(group)
        for key, v in _flatten(value).items():
            if isinstance(v, list):
                if v and all(isinstance(x, Mapping) for x in v):
                    lists.append(f"<details><summary>{esc(r.model)}: {esc(key)}</summary>"
                                 f"{table(v[:200])}</details>")
            else:
                flat.setdefault(key, {})[r.model] = v
    if not flat and not lists:
        return ""
    models = [r.model for r in ok_runs(view)]
    rows = [{"metric": k, **vals} for k, vals in flat.items()]
    return (table(rows, ["metric", *models]) if rows else "") + "".join(lists)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings -> ``{"a.b": leaf}``; None leaves are dropped."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out |= _flatten(v, f"{prefix}{k}.")
        return out
    return {} if value is None else {prefix.rstrip("."): value}


def _fidelity(view: RunView, colors: Mapping[str, str]) -> str:
    body = _group_table(view, "fidelity")
    return (body + note("Per-column and pairwise tables per model are under each model's "
                        "fold. Distances: 0 is ideal; C2ST AUC: 0.5 is ideal; precision, "
                        "recall, density and coverage (Naeem et al. 2020): 1 is ideal.")
            if body else empty("No model finished, so nothing was evaluated."))


def _utility(view: RunView, colors: Mapping[str, str]) -> str:
    body = _group_table(view, "utility")
    return body or empty("No target column was given, so there is no train-on-synthetic / "
                         "test-on-real utility (compare --target COLUMN).")


def _likelihood(view: RunView, colors: Mapping[str, str]) -> str:
    rows = [{"model": r.model, "holdout NLL (nats/row)": r.holdout_nll,
             "likelihood": r.likelihood or "none"} for r in ok_runs(view)]
    extra = _group_table(view, "likelihood")
    if not any(r["holdout NLL (nats/row)"] is not None for r in rows) and not extra:
        return empty("No model in this run has a likelihood on the holdout rows.")
    return table(rows) + extra + note(
        "Mean negative log-likelihood of the holdout rows in the data's own units; lower is "
        "better. An approximate figure (a bound) is labelled as such.")


def _privacy(view: RunView, colors: Mapping[str, str]) -> str:
    rows = [{"model": r.model, "exact-copy rate": r.metrics.get("exact_copy_rate"),
             "MIA AUC": r.metrics.get("mia_auc"), "privacy term": r.metrics.get("privacy")}
            for r in ok_runs(view)]
    if not rows:
        return empty("No model finished.")
    return table(rows) + _group_table(view, "privacy") + note(
        "Exact-copy rate: share of synthetic rows equal to a training row (lower is safer). "
        "MIA AUC: a distance-based membership-inference attack telling training rows from "
        "holdout rows (0.5 = no leak).")


def _fairness(view: RunView, colors: Mapping[str, str]) -> str:
    body = _group_table(view, "fairness")
    return body or empty("No sensitive attribute was given, so there are no per-group "
                         "results (compare --sensitive COLUMN).")


def _cost(view: RunView, colors: Mapping[str, str]) -> str:
    rows = [{"model": r.model, "status": status(r.status), "fit (s)": r.fit_seconds,
             "sample (s)": r.sample_seconds, "samples/s": r.samples_per_s,
             "peak RSS (MB)": r.peak_rss_mb, "worker wall time (s)": r.seconds}
            for r in view.runs]
    return table(rows, html_columns=["status"]) + note(
        "Each model ran in its own process; peak RSS is that process's peak memory "
        "at the end of fitting.")


def _cards(view: RunView, colors: Mapping[str, str]) -> str:
    if not view.cards:
        return empty("No model card is available (cards are written with saved models).")
    return "".join(f"<details open><summary>{esc(m)}</summary>{markdown(text)}</details>"
                   for m, text in view.cards.items())


def _images(view: RunView, colors: Mapping[str, str]) -> str:
    if not view.images:
        return empty("No image model in this run; sample grids appear here for image data.")
    return "".join(figure(plots.image_grid_png(imgs), f"samples of {m}", m, wide=True)
                   for m, imgs in view.images.items())


def _texts(view: RunView, colors: Mapping[str, str]) -> str:
    if not view.texts:
        return empty("No text model in this run; generated snippets appear here for text.")
    return "".join(f"<h4>{esc(m)}</h4>" + "".join(f"<pre>{esc(t)}</pre>" for t in texts[:10])
                   for m, texts in view.texts.items())


def _audio(view: RunView, colors: Mapping[str, str]) -> str:
    if not view.audio and not view.music:
        return empty("No audio or music model in this run; playable clips appear here.")
    if view.music:
        from genmodels.report.sequence_sections import music_section

        parts = [music_section(view.music)]
    else:
        parts = []
    for m, clips in view.audio.items():
        parts.append(f"<h4>{esc(m)}</h4>")
        for rate, wave in clips[:5]:
            parts.append(f'<audio controls src="data:audio/wav;base64,{wav_base64(wave, rate)}">'
                         "</audio>")
    return "".join(parts)


def wav_base64(wave: Any, rate: int) -> str:
    """A mono float waveform in [-1, 1] as a base64 16-bit PCM WAV file."""
    import wave as wavmod

    import numpy as np

    pcm = (np.clip(np.asarray(wave, dtype=np.float64), -1, 1) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wavmod.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(pcm.tobytes())
    return base64.b64encode(buf.getvalue()).decode("ascii")
