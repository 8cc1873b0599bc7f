"""Matplotlib figures of the HTML report, returned as base64 PNG strings.

Every function imports matplotlib lazily and selects the Agg backend, so importing this
module costs nothing and no display is needed. Colours are stable: the real data is
dark grey, model ``i`` (in leaderboard order) takes the i-th colour of ``PALETTE``.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#bcbd22", "#17becf", "#393b79")
"""Tableau's ten colours without its grey (the real data's), plus a dark blue."""
REAL_COLOR = "#333333"
MAX_LEVELS = 10
"""Bars per categorical marginal: the most frequent real levels, then "other"."""
MAX_ROWS = 5_000
"""Rows used for association matrices (a seeded subsample of larger tables)."""
DPI = 100


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_base64(fig: Any, dpi: int = DPI) -> str:
    """Render ``fig`` to PNG, close it and return the bytes as base64 text."""
    plt = _pyplot()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                    metadata={"Software": None})
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


# ------------------------------------------------------------------ columns
def is_numeric(s: pd.Series) -> bool:
    """Numbers (not booleans) and datetimes are drawn as histograms, the rest as bars."""
    from pandas.api import types as pdt

    if pdt.is_bool_dtype(s.dtype):
        return False
    return bool(pdt.is_numeric_dtype(s.dtype) or pdt.is_datetime64_any_dtype(s.dtype))


def as_float(s: pd.Series) -> np.ndarray:
    """A numeric or datetime column as float64 (datetimes in seconds), NaN if missing."""
    from pandas.api import types as pdt

    if pdt.is_datetime64_any_dtype(s.dtype):
        t = pd.to_datetime(s, utc=True)
        return ((t - pd.Timestamp(0, tz="UTC")).dt.total_seconds()).to_numpy(np.float64)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _few_integers(v: np.ndarray) -> bool:
    v = v[np.isfinite(v)]
    return v.size > 0 and bool(np.all(v == np.round(v))) and np.unique(v).size <= 20


def _as_number(label: str) -> float:
    try:
        return float(label)
    except ValueError:
        return float("inf")


def _labels(s: pd.Series) -> pd.Series:
    return s.astype("string").fillna("(missing)")


# ------------------------------------------------------------------ marginals
def marginal_png(column: str, real: pd.Series | None, synths: Mapping[str, pd.Series],
                 colors: Mapping[str, str]) -> str:
    """One column's distribution, real (grey) vs each model (its colour): a density
    histogram for numbers, level proportions as grouped bars otherwise."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.4, 2.7))
    ref = real if real is not None else next(iter(synths.values()))
    numeric = is_numeric(ref) and not _few_integers(as_float(ref))
    series = ({"real": real} if real is not None else {}) | dict(synths)
    cols = {"real": REAL_COLOR} | dict(colors)
    if numeric:
        _histograms(ax, ref, series, cols)
    else:
        _bars(ax, ref, series, cols)
    ax.set_title(str(column), fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=7)
    return png_base64(fig)


def _histograms(ax: Any, ref: pd.Series, series: Mapping[str, pd.Series],
                cols: Mapping[str, str]) -> None:
    v = as_float(ref)
    v = v[np.isfinite(v)]
    lo, hi = (np.quantile(v, [0.005, 0.995]) if v.size else (0.0, 1.0))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    bins = int(np.clip(np.sqrt(max(v.size, 1)), 10, 40))
    edges = np.linspace(lo, hi, bins + 1)
    for name, s in series.items():
        x = np.clip(as_float(s), lo, hi)
        x = x[np.isfinite(x)]
        if not x.size:
            continue
        if name == "real":
            ax.hist(x, bins=edges, density=True, histtype="stepfilled", color=cols[name],
                    alpha=0.22, linewidth=0)
        ax.hist(x, bins=edges, density=True, histtype="step", color=cols[name],
                linewidth=1.6 if name == "real" else 1.2)
    ax.set_yticks([])


def _bars(ax: Any, ref: pd.Series, series: Mapping[str, pd.Series],
          cols: Mapping[str, str]) -> None:
    top = _labels(ref).value_counts().index[:MAX_LEVELS].tolist()
    if is_numeric(ref):  # a few integers: in their numeric order
        top = sorted(top, key=lambda lv: (lv == "(missing)", _as_number(lv)))
    levels = top + (["other"] if any((~_labels(s).isin(top)).any()
                                     for s in series.values()) else [])
    width = 0.8 / max(len(series), 1)
    x = np.arange(len(levels))
    for i, (name, s) in enumerate(series.items()):
        lab = _labels(s)
        share = lab.value_counts(normalize=True)
        p = [float(share.get(lv, 0.0)) for lv in top]
        if len(levels) > len(top):
            p.append(float((~lab.isin(top)).mean()))
        ax.bar(x + (i - (len(series) - 1) / 2) * width, p, width=width, color=cols[name],
               alpha=0.55 if name == "real" else 0.9)
    ax.set_xticks(x, [lv if len(lv) <= 14 else lv[:13] + "…" for lv in levels],
                  rotation=35 if len(levels) > 4 else 0, ha="right" if len(levels) > 4 else "center")


# ------------------------------------------------------------------ correlations
def association_matrix(frame: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """Pairwise association of every column pair: Pearson r for two numeric columns
    ([-1, 1]), Cramér's V for two categorical ones and the correlation ratio eta for a
    categorical-numeric pair ([0, 1]). ``(d, d)``, 1 on the diagonal, 0 where undefined.
    Tables over ``MAX_ROWS`` rows use a seeded subsample."""
    if len(frame) > MAX_ROWS:
        idx = np.sort(np.random.default_rng(seed).choice(len(frame), MAX_ROWS, replace=False))
        frame = frame.iloc[idx]
    cols = list(frame.columns)
    num = {c: is_numeric(frame[c]) for c in cols}
    val = {c: as_float(frame[c]) if num[c] else _codes(frame[c]) for c in cols}
    d = len(cols)
    out = np.eye(d)
    for i in range(d):
        for j in range(i + 1, d):
            a, b = cols[i], cols[j]
            if num[a] and num[b]:
                r = _pearson(val[a], val[b])
            elif not num[a] and not num[b]:
                r = _cramers_v(val[a], val[b])
            else:
                cat, x = (val[a], val[b]) if not num[a] else (val[b], val[a])
                r = _eta(cat, x)
            out[i, j] = out[j, i] = r
    return out


def _codes(s: pd.Series, max_levels: int = 50) -> np.ndarray:
    lab = _labels(s)
    top = lab.value_counts().index[:max_levels]
    codes = pd.Categorical(lab.where(lab.isin(top), "other")).codes
    return np.asarray(codes, dtype=np.int64)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return 0.0
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    ka, kb = a.max() + 1, b.max() + 1
    if ka < 2 or kb < 2:
        return 0.0
    table = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(np.float64)
    n = table.sum()
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = np.sum(np.divide((table - expected) ** 2, expected, out=np.zeros_like(table),
                            where=expected > 0))
    return float(np.sqrt(chi2 / (n * (min(ka, kb) - 1))))


def _eta(cat: np.ndarray, x: np.ndarray) -> float:
    ok = np.isfinite(x)
    cat, x = cat[ok], x[ok]
    if x.size < 3 or np.var(x) == 0:
        return 0.0
    counts = np.bincount(cat)
    means = np.bincount(cat, weights=x) / np.maximum(counts, 1)
    between = np.sum(counts * (means - x.mean()) ** 2)
    return float(np.sqrt(between / (np.var(x) * x.size)))


def correlations_png(real: pd.DataFrame | None, synths: Mapping[str, pd.DataFrame]) -> str:
    """Association heatmaps side by side: real first, then each model, with each model's
    mean absolute difference from real in its title."""
    plt = _pyplot()
    panels = ({"real": real} if real is not None else {}) | dict(synths)
    mats = {name: association_matrix(f) for name, f in panels.items()}
    cols = list(next(iter(panels.values())).columns)
    n = len(panels)
    ncols = min(n, 4)
    nrows = -(-n // ncols)
    side = 3.3 if len(cols) <= 16 else 3.8
    fig, axes = plt.subplots(nrows, ncols, figsize=(side * ncols, side * nrows + 0.3),
                             squeeze=False)
    off = np.triu(np.ones((len(cols), len(cols)), dtype=bool), 1)
    for k, (ax, (name, m)) in enumerate(zip(axes.flat, mats.items(), strict=False)):
        im = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        title = name
        if real is not None and name != "real":
            title += f"\nmean |Δ| {np.abs(m - mats['real'])[off].mean():.3f}"
        ax.set_title(title, fontsize=9)
        if len(cols) <= 16:
            short = [c if len(c) <= 12 else c[:11] + "…" for c in map(str, cols)]
            ax.set_xticks(range(len(cols)), short, rotation=90, fontsize=6)
            ax.set_yticks(range(len(cols)), short if k % ncols == 0 else [], fontsize=6)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.colorbar(im, ax=axes, shrink=0.6, label="association")
    return png_base64(fig)


# ------------------------------------------------------------------ curves and bars
SKIP_CURVES = ("epoch", "step", "lr", "seconds", "partial")


def history_png(history: Mapping[str, Sequence[float | None]], title: str, col: str) -> str | None:
    """Training curves of one model (every logged scalar per epoch); None if empty."""
    keys = [k for k in history if k not in SKIP_CURVES
            and any(v is not None for v in history[k])]
    if not keys:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 3.0))
    n = max(len(history[k]) for k in keys)
    x = history.get("epoch") or list(range(1, n + 1))
    styles = ("-", "--", ":", "-.")
    for i, k in enumerate(keys):
        y = np.array([np.nan if v is None else v for v in history[k]], dtype=np.float64)
        ax.plot(list(x)[: len(y)], y, styles[i % 4], color=col if i == 0 else color(i + 3),
                label=k, linewidth=1.3)
    ax.set_xlabel("epoch", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return png_base64(fig)


def leaderboard_png(names: Sequence[str], terms: Mapping[str, Sequence[float | None]],
                    colors: Sequence[str]) -> str:
    """Horizontal bars of the composite score per model with its terms as markers."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(names) + 0.9))
    y = np.arange(len(names))[::-1]
    comp = np.array([np.nan if v is None else v for v in terms["composite"]], dtype=float)
    ax.barh(y, np.nan_to_num(comp), color=colors, alpha=0.85, height=0.6)
    markers = {"fidelity": "o", "utility": "s", "privacy": "^"}
    for key, mk in markers.items():
        vals = np.array([np.nan if v is None else v for v in terms.get(key, [])], dtype=float)
        if vals.size and np.isfinite(vals).any():
            ax.plot(vals, y, mk, color="black", markersize=4, linestyle="none", label=key)
    ax.set_yticks(y, list(names), fontsize=8)
    ax.set_xlim(0, 1.03)
    ax.set_xlabel("composite score (bars) and its terms (markers); higher is better",
                  fontsize=8)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    return png_base64(fig)


def image_grid_png(images: np.ndarray, ncols: int = 8) -> str:
    """``images: (n, h, w) or (n, h, w, c)``, uint8 or floats in [0, 1], as one grid."""
    plt = _pyplot()
    n = len(images)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.9, nrows * 0.9), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img in zip(axes.flat, images, strict=False):
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
    return png_base64(fig)
