"""Piano-roll plots of pieces (matplotlib, Agg; no display needed)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from genmodels.music.notes import as_notes


def piano_roll(piece: Any, *, resolution: int = 4, title: str | None = None,
               ax: Any = None) -> Any:
    """Draw ``piece`` (path, Score or note array) as a piano roll: time in quarter notes
    on x, MIDI pitch on y, one colour per program. Returns the Figure."""
    from matplotlib.figure import Figure

    notes = as_notes(piece, resolution)
    if ax is None:
        fig = Figure(figsize=(8, 3), dpi=100, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    for k, prog in enumerate(np.unique(notes["program"])):
        sel = notes[notes["program"] == prog]
        for pitch in np.unique(sel["pitch"]):
            row = sel[sel["pitch"] == pitch]
            spans = [(o / resolution, d / resolution) for o, d in
                     zip(row["onset"], row["duration"], strict=True)]
            ax.broken_barh(spans, (pitch - 0.4, 0.8), facecolors=colours[k % len(colours)])
    ax.set_xlabel("time (quarter notes)")
    ax.set_ylabel("MIDI pitch")
    if notes.size:
        ax.set_xlim(0, (notes["onset"] + notes["duration"]).max() / resolution)
        ax.set_ylim(notes["pitch"].min() - 2, notes["pitch"].max() + 2)
    if title:
        ax.set_title(title)
    return fig


def figure_png(fig: Any) -> bytes:
    """PNG bytes of a matplotlib Figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
