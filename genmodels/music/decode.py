"""Token ids of the music codec -> notes -> a playable ``symusic.Score``.

Decoding is lenient, since generated sequences need not follow the grammar: a note is
written when a Duration follows a Pitch; anything out of place is skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genmodels.music.notes import DRUMS, NOTE_DTYPE

TICKS_PER_STEP = 120
"""Ticks per grid step in decoded scores (tpq = 120 x resolution)."""


def _kind(codec: Any, t: int) -> tuple[str, int]:
    """(kind, value) of token id ``t``."""
    if t == 0:
        return "eos", 0
    if t == 1:
        return "bar", 0
    bounds = [("ts", codec._ts0), ("pos", codec._pos0), ("prog", codec._prog0),
              ("pitch", codec._pitch0), ("vel", codec._vel0), ("dur", codec._dur0),
              ("end", codec._vocab)]
    for (kind, lo), (_, hi) in zip(bounds[:-1], bounds[1:], strict=True):
        if lo <= t < hi:
            return kind, t - lo
    raise ValueError(f"ids: token id {t} is outside 0..{codec._vocab - 1}")


def token_name(codec: Any, t: int) -> str:
    kind, v = _kind(codec, t)
    if kind == "ts":
        return "TimeSig_{}/{}".format(*codec.time_sigs_[v])
    return {"eos": "EOS", "bar": "Bar", "pos": f"Pos_{v}",
            "prog": f"Program_{codec.programs_[v] if codec.programs else v}",
            "pitch": f"Pitch_{codec.pitch_lo_ + v}", "vel": f"Velocity_{v}",
            "dur": f"Duration_{v + 1}"}[kind]


def decode_tokens(codec: Any, ids: Any) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Tokens of one piece -> (notes :data:`NOTE_DTYPE`, ``[(step, num, den), ...]``).
    Leading/trailing EOS are dropped; an EOS inside is an error (one piece per call)."""
    arr = np.asarray(ids)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"ids: expected a 1-D sequence of integer token ids, got "
                         f"{arr.dtype} of shape {arr.shape}")
    arr = arr.astype(np.int64)
    lo, hi = 0, arr.size
    while lo < hi and arr[lo] == 0:
        lo += 1
    while hi > lo and arr[hi - 1] == 0:
        hi -= 1
    if (arr[lo:hi] == 0).any():
        raise ValueError("ids: holds an EOS (0) inside, i.e. several pieces; decode one "
                         "piece at a time")
    default_sig = codec.time_sigs_.index((4, 4)) if (4, 4) in codec.time_sigs_ else 0
    state = {"started": False, "start": 0, "sig": default_sig, "pos": 0,
             "prog": codec.programs_[0] if codec.programs_ else 0,
             "pitch": None, "vel": codec.velocity_}
    notes: list[tuple[int, int, int, int, int]] = []
    sigs: list[tuple[int, int, int]] = []
    for t in arr[lo:hi]:
        _step(codec, state, *_kind(codec, int(t)), notes, sigs)
    out = np.array(notes, dtype=NOTE_DTYPE) if notes else np.empty(0, dtype=NOTE_DTYPE)
    return out, sigs or [(0, *codec.time_sigs_[default_sig])]


def _step(codec: Any, s: dict, kind: str, v: int, notes: list, sigs: list) -> None:
    if kind == "bar":
        if s["started"]:
            s["start"] += codec._bar_steps(codec.time_sigs_[s["sig"]])
        s["started"], s["pos"], s["pitch"] = True, 0, None
    elif kind == "ts":
        s["sig"], s["started"] = v, True
        num, den = codec.time_sigs_[v]
        if sigs and sigs[-1][0] == s["start"]:
            sigs.pop()
        if not sigs or sigs[-1][1:] != (num, den):
            sigs.append((s["start"], num, den))
    elif kind == "pos":
        s["pos"], s["pitch"], s["started"] = v, None, True
    elif kind == "prog":
        s["prog"] = codec.programs_[v]
    elif kind == "pitch":
        s["pitch"], s["vel"] = codec.pitch_lo_ + v, codec.velocity_
    elif kind == "vel":
        s["vel"] = codec._bin_velocity(v)
    elif kind == "dur" and s["pitch"] is not None:
        notes.append((s["start"] + s["pos"], v + 1, s["pitch"], s["vel"], s["prog"]))
        s["pitch"] = None
        s["started"] = True


def notes_to_score(notes: np.ndarray, sigs: list[tuple[int, int, int]], resolution: int,
                   tempo: float = 120.0, program: int | None = None) -> Any:
    """Notes (grid steps) -> ``symusic.Score`` with one track per program (all in one
    track of ``program`` when given), time signatures and one tempo."""
    import symusic

    score = symusic.Score(TICKS_PER_STEP * resolution)
    k = TICKS_PER_STEP
    score.tempos.append(symusic.Tempo(0, float(tempo)))
    for step, num, den in sigs or [(0, 4, 4)]:
        score.time_signatures.append(symusic.TimeSignature(int(step) * k, int(num), int(den)))
    progs = [program] if program is not None else list(dict.fromkeys(notes["program"].tolist()))
    for p in progs:
        sel = notes if program is not None else notes[notes["program"] == p]
        drum = p == DRUMS
        track = symusic.Track(name="Drums" if drum else f"Program {p}",
                              program=0 if drum else int(p), is_drum=drum)
        order = np.lexsort((sel["pitch"], sel["onset"]))
        for n in sel[order]:
            track.notes.append(symusic.Note(int(n["onset"]) * k, int(n["duration"]) * k,
                                            int(n["pitch"]), int(n["velocity"])))
        score.tracks.append(track)
    return score
