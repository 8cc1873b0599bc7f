"""Figures and HTML for the studies: matplotlib (Agg) figures as base64 PNGs, tables
and a self-contained page.

Figures are made with :class:`matplotlib.figure.Figure` directly, never through
``pyplot``, so no global figure registry is touched and nothing needs closing.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

GENERATIVE_COLORS = ("#c0392b", "#e67e22", "#8e44ad", "#d35400", "#b03a2e", "#f1c40f")
DISCRIMINATIVE_COLORS = ("#2471a3", "#17a589", "#2e4053", "#5dade2", "#117864", "#1f618d")
PALETTE = ("#2471a3", "#c0392b", "#17a589", "#8e44ad", "#e67e22", "#2e4053", "#b7950b")

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #1c2833; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; margin-top: 2rem; } h3 { font-size: 1.1rem; }
section.gm-study { border-top: 1px solid #d5d8dc; padding-top: .5rem; }
table.gm-table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0 1rem; }
table.gm-table th, table.gm-table td { border: 1px solid #d5d8dc; padding: .2rem .5rem;
       text-align: right; }
table.gm-table th { background: #f4f6f7; } table.gm-table td:first-child { text-align: left; }
table.gm-table caption { caption-side: top; text-align: left; font-weight: 600; }
img.gm-figure { max-width: 100%; height: auto; display: block; margin: .5rem 0; }
p.gm-verdict { background: #f4f6f7; border-left: 4px solid #2471a3; padding: .4rem .8rem; }
.gm-note { color: #566573; font-size: .85rem; }
"""


def new_figure(ncols: int = 1, *, width: float = 6.4, height: float = 4.2,
               nrows: int = 1) -> tuple[Any, np.ndarray]:
    """A matplotlib Figure (Agg, no pyplot) and its axes as a flat array."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes.ravel()


def png_base64(fig: Any, dpi: int = 96) -> str:
    """The figure as a base64-encoded PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def img_tag(fig: Any, alt: str) -> str:
    """An ``<img>`` with the figure embedded as a data URI."""
    return (f'<img class="gm-figure" alt="{html.escape(alt)}" '
            f'src="data:image/png;base64,{png_base64(fig)}">')


def esc(text: Any) -> str:
    return html.escape(str(text))


def html_table(header: Sequence[str], rows: Iterable[Sequence[Any]],
               caption: str | None = None) -> str:
    """A small HTML table; cells are escaped."""
    parts = ['<table class="gm-table">']
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
    parts.append("</table>")
    return "".join(parts)


def mean_pm(mean: float, std: float, digits: int = 3) -> str:
    """``"0.123 ± 0.010"`` (``"—"`` for NaN)."""
    if not np.isfinite(mean):
        return "—"
    if not np.isfinite(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def band(ax: Any, x: Sequence[float], values: np.ndarray, *, label: str, color: str,
         linestyle: str = "-", marker: str = "o", clip: tuple[float, float] | None = None) -> None:
    """Mean line and a mean ± 1 std band of ``values: (len(x), repeats)`` (NaN ignored)."""
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(values).any(axis=1)
    if not ok.any():
        return
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(values[ok], axis=1)
        std = np.nanstd(values[ok], axis=1)
    lo, hi = mean - std, mean + std
    if clip is not None:
        lo, hi = np.clip(lo, *clip), np.clip(hi, *clip)
    ax.plot(x[ok], mean, linestyle=linestyle, marker=marker, markersize=3.5, color=color,
            label=label, linewidth=1.6)
    ax.fill_between(x[ok], lo, hi, color=color, alpha=0.15, linewidth=0)


def page(title: str, body: str) -> str:
    """A self-contained HTML document (inline CSS, images as data URIs)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{_CSS}</style></head>"
            f"<body><h1>{esc(title)}</h1>\n{body}\n</body></html>\n")
