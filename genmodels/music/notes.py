"""Reading MIDI into quantized note arrays (shared by the music codec, plots and metrics).

A piece's notes are a structured numpy array :data:`NOTE_DTYPE` with times in grid
steps (``resolution`` steps per quarter note; 4 = sixteenth notes): ``onset``,
``duration`` (>= 1), ``pitch`` (MIDI 0..127), ``velocity`` (1..127), ``program`` (GM
program 0..127, 128 = drums).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

NOTE_DTYPE = np.dtype([("onset", np.int64), ("duration", np.int64), ("pitch", np.int64),
                       ("velocity", np.int64), ("program", np.int64)])
DRUMS = 128
"""Program number given to notes of a drum track."""


def read_score(source: Any) -> Any:
    """A ``symusic.Score`` (tick time) from a path or a Score; a corrupt or missing file
    raises ``ValueError`` naming the file."""
    import symusic

    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"MIDI file {str(path)!r} does not exist or is not a file")
        try:
            score = symusic.Score(str(path))
        except (RuntimeError, ValueError, OSError) as e:
            raise ValueError(f"MIDI file {str(path)!r} cannot be read (corrupt or not a "
                             f"standard MIDI file): {e}") from None
        return score
    if _is_score(source):
        return source if str(source.ttype).lower() == "tick" else source.to("tick")
    raise ValueError(f"music input: expected a .mid path or a symusic.Score, got "
                     f"{type(source).__name__}")


def _is_score(obj: Any) -> bool:
    return type(obj).__module__.startswith("symusic") and hasattr(obj, "tracks") \
        and hasattr(obj, "tpq")


def score_notes(score: Any, resolution: int = 4) -> np.ndarray:
    """All notes of ``score`` quantized to ``resolution`` steps per quarter:
    ``(n,)`` :data:`NOTE_DTYPE`, sorted by onset, program, pitch. Durations are at
    least one step."""
    score = read_score(score)
    tpq = int(score.tpq)
    parts = []
    for track in score.tracks:
        arr = track.notes.numpy()
        if arr["time"].size == 0:
            continue
        part = np.empty(arr["time"].size, dtype=NOTE_DTYPE)
        t = arr["time"].astype(np.int64)
        d = arr["duration"].astype(np.int64)
        part["onset"] = _quantize(t, tpq, resolution)
        part["duration"] = np.maximum(_quantize(t + d, tpq, resolution) - part["onset"], 1)
        part["pitch"] = arr["pitch"].astype(np.int64)
        part["velocity"] = np.clip(arr["velocity"].astype(np.int64), 1, 127)
        part["program"] = DRUMS if track.is_drum else int(track.program)
        parts.append(part)
    if not parts:
        return np.empty(0, dtype=NOTE_DTYPE)
    notes = np.concatenate(parts)
    return notes[np.lexsort((notes["pitch"], notes["program"], notes["onset"]))]


def _quantize(ticks: np.ndarray, tpq: int, resolution: int) -> np.ndarray:
    """Ticks -> nearest grid step (half up)."""
    return (2 * ticks * resolution + tpq) // (2 * tpq)


def time_signatures(score: Any, resolution: int = 4) -> list[tuple[int, int, int]]:
    """``[(step, numerator, denominator), ...]`` of ``score``, one per distinct time
    (the last event at a time wins), sorted; empty when the file has none."""
    score = read_score(score)
    tpq = int(score.tpq)
    out: dict[int, tuple[int, int]] = {}
    for ts in score.time_signatures:
        step = int(_quantize(np.array([int(ts.time)]), tpq, resolution)[0])
        out[step] = (int(ts.numerator), int(ts.denominator))
    return [(s, n, d) for s, (n, d) in sorted(out.items())]


def first_tempo(score: Any) -> float | None:
    """Quarter notes per minute of the first tempo event, or None."""
    score = read_score(score)
    tempos = list(score.tempos)
    return float(tempos[0].qpm) if tempos else None


def as_notes(piece: Any, resolution: int = 4) -> np.ndarray:
    """A piece given as a path, a Score or a note array -> :data:`NOTE_DTYPE` array."""
    if isinstance(piece, np.ndarray) and piece.dtype == NOTE_DTYPE:
        return piece
    return score_notes(piece, resolution)
