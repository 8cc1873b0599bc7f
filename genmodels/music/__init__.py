"""Music: the bundled corpora (cached MIDI), WAV rendering and piano-roll plots.

``bundled_music``, ``render_wav``, ``audio_html``, ``piano_roll`` and ``figure_png`` are
imported on first use, so importing this package loads neither music21 nor matplotlib.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {"bundled_music": "corpus", "music_sources": "corpus", "render_wav": "render",
         "audio_html": "render", "piano_roll": "plots", "figure_png": "plots",
         "score_notes": "notes"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"genmodels.music.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'genmodels.music' has no attribute {name!r}")
