"""Music metrics: do generated pieces sound like the held-out ones, and are they new?

Pure functions on pieces given as .mid paths, ``symusic.Score`` objects or note arrays
(:data:`genmodels.music.notes.NOTE_DTYPE`; times in grid steps of ``resolution`` per
quarter note). The histogram features follow Yang & Lerch, "On the evaluation of
generative models in music", Neural Computing and Applications 2020 (pitch-class
histogram, note-length histogram, polyphony).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genmodels.evaluation.diversity import ngram_copy_rate
from genmodels.music.notes import as_notes

EPS = 1e-6
"""Added to every bin before KL, so that empty bins give a finite divergence."""


def _notes_list(pieces: Any, resolution: int) -> list[np.ndarray]:
    if isinstance(pieces, np.ndarray) or not isinstance(pieces, Sequence) \
            or isinstance(pieces, str):
        pieces = [pieces]
    return [as_notes(p, resolution) for p in pieces]


def pitch_class_histogram(pieces: Any, *, weight: str = "count",
                          resolution: int = 4) -> np.ndarray:
    """Share of notes (``weight="count"``) or of sounding time (``"duration"``) in each
    pitch class C, C#, ..., B: ``(12,)`` summing to 1 (all zeros without notes)."""
    if weight not in ("count", "duration"):
        raise ValueError(f"weight: got {weight!r}; allowed: 'count', 'duration'")
    h = np.zeros(12)
    for n in _notes_list(pieces, resolution):
        w = n["duration"] if weight == "duration" else np.ones(n.size)
        h += np.bincount(n["pitch"] % 12, weights=w, minlength=12)
    return h / h.sum() if h.sum() > 0 else h


def duration_histogram(pieces: Any, *, max_duration: int = 32,
                       resolution: int = 4) -> np.ndarray:
    """Share of notes of each duration 1..``max_duration`` grid steps (longer ones in
    the last bin): ``(max_duration,)`` summing to 1 (all zeros without notes)."""
    h = np.zeros(max_duration)
    for n in _notes_list(pieces, resolution):
        d = np.clip(n["duration"], 1, max_duration) - 1
        h += np.bincount(d, minlength=max_duration)
    return h / h.sum() if h.sum() > 0 else h


def histogram_distance(p: np.ndarray, q: np.ndarray, metric: str = "tv") -> float:
    """Distance between two histograms of the same bins: ``"tv"`` total variation
    ``0.5 * sum|p - q|`` in [0, 1]; ``"kl"`` KL(q || p) in nats, >= 0, with ``q`` the
    reference and ``p`` the generated histogram (EPS smoothing); ``"js"`` Jensen-Shannon
    in nats, in [0, ln 2]. Lower is closer for all; 0 for identical histograms."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError(f"histograms: shapes {p.shape} and {q.shape} differ or are not 1-D")
    if metric == "tv":
        return float(0.5 * np.abs(p / max(p.sum(), EPS) - q / max(q.sum(), EPS)).sum())
    ps, qs = (p + EPS) / (p + EPS).sum(), (q + EPS) / (q + EPS).sum()
    if metric == "kl":
        return float(np.sum(qs * np.log(qs / ps)))
    if metric == "js":
        m = 0.5 * (ps + qs)
        return float(0.5 * np.sum(ps * np.log(ps / m)) + 0.5 * np.sum(qs * np.log(qs / m)))
    raise ValueError(f"metric: got {metric!r}; allowed: 'tv', 'kl', 'js'")


def pitch_class_distance(generated: Any, reference: Any, *, metric: str = "tv",
                         resolution: int = 4) -> float:
    """Distance between the pooled pitch-class histograms of generated and reference
    (held-out) pieces; see :func:`histogram_distance` for ranges. Lower is better."""
    return histogram_distance(pitch_class_histogram(generated, resolution=resolution),
                              pitch_class_histogram(reference, resolution=resolution), metric)


def duration_distance(generated: Any, reference: Any, *, metric: str = "tv",
                      max_duration: int = 32, resolution: int = 4) -> float:
    """Distance between the pooled note-duration histograms (grid steps) of generated and
    reference pieces; see :func:`histogram_distance`. Lower is better."""
    kw = {"max_duration": max_duration, "resolution": resolution}
    return histogram_distance(duration_histogram(generated, **kw),
                              duration_histogram(reference, **kw), metric)


def polyphony(pieces: Any, *, resolution: int = 4) -> float:
    """Mean number of notes sounding at once, over the grid steps where at least one
    note sounds, pooled over pieces. >= 1 (1: monophonic; a 4-voice chorale ~3.5-4);
    NaN without notes. Compare generated with reference: closer is better."""
    sounding = total = 0
    for n in _notes_list(pieces, resolution):
        if n.size == 0:
            continue
        end = int((n["onset"] + n["duration"]).max())
        delta = np.zeros(end + 1, dtype=np.int64)
        np.add.at(delta, n["onset"], 1)
        np.add.at(delta, n["onset"] + n["duration"], -1)
        active = np.cumsum(delta)[:-1]
        sounding += int(active.sum())
        total += int((active > 0).sum())
    return sounding / total if total else float("nan")


def note_sequence(notes: np.ndarray) -> list[tuple[int, int]]:
    """A piece as ``(pitch interval from the previous note, duration)`` pairs, notes in
    onset-then-pitch order (transposition-invariant; the first note has interval 0)."""
    if notes.size == 0:
        return []
    order = np.lexsort((notes["pitch"], notes["onset"]))
    pitch = notes["pitch"][order]
    interval = np.diff(pitch, prepend=pitch[0])
    return list(zip(interval.tolist(), notes["duration"][order].tolist(), strict=True))


def note_copy_rate(generated: Any, training: Any, *, n: int = 8, resolution: int = 4) -> float:
    """Copy detection: share of the generated note n-grams (pitch intervals + durations,
    :func:`note_sequence`) found verbatim in the training pieces. Range [0, 1], lower is
    more novel (a training piece, even transposed, scores 1); NaN with no n-gram."""
    gen = [note_sequence(x) for x in _notes_list(generated, resolution)]
    train = [note_sequence(x) for x in _notes_list(training, resolution)]
    return ngram_copy_rate(gen, train, n=n)


def music_metrics(generated: Any, reference: Any, training: Any = None, *,
                  resolution: int = 4, copy_n: int = 8) -> dict[str, float]:
    """All music metrics of generated vs reference (held-out) pieces; the copy rate when
    ``training`` pieces are given. A JSON-able dict."""
    gen = _notes_list(generated, resolution)
    ref = _notes_list(reference, resolution)
    out = {
        "n_pieces": float(len(gen)),
        "notes_per_piece": float(np.mean([x.size for x in gen])) if gen else float("nan"),
        "pitch_class_tv": pitch_class_distance(gen, ref, metric="tv"),
        "pitch_class_kl": pitch_class_distance(gen, ref, metric="kl"),
        "duration_tv": duration_distance(gen, ref, metric="tv"),
        "polyphony": polyphony(gen),
        "polyphony_reference": polyphony(ref),
    }
    if training is not None:
        out[f"copy_rate_{copy_n}"] = note_copy_rate(gen, training, n=copy_n,
                                                    resolution=resolution)
    return out


# ------------------------------------------------------------------ the report
SAMPLE_PIECES = 4
"""Pieces drawn from the model when :func:`evaluate_music` gets no generated ones."""
SAMPLE_MAX_TOKENS = 512
"""Token cap of each of those pieces."""
MUSIC_ALLOWED = ("a bundled corpus name ('bach', 'essen', 'essen:N' = its first N "
                 "pieces), a .mid file, a folder of .mid files, a symusic Score or a list "
                 "of those")


def music_pieces(data: Any, what: str) -> list[Any]:
    """The pieces (paths or Scores) of a music input, or a ``ValueError`` that names the
    argument ``what`` and says what is allowed."""
    from genmodels.music.corpus import is_music_input, music_sources

    try:
        if is_music_input(data):
            return music_sources(data)
        text = isinstance(data, str) and "\n" in data
        if isinstance(data, list | tuple | Path) or isinstance(data, str) and not text:
            music_sources(data)  # a missing path, an empty folder or list: its own message
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None
    shown = repr(str(data)) if isinstance(data, str | Path) else type(data).__name__
    raise ValueError(f"{what}: got {shown[:200]}; allowed: {MUSIC_ALLOWED}")


def _read_notes(pieces: list[Any], what: str, resolution: int) -> list[np.ndarray]:
    try:
        return [as_notes(p, resolution) for p in pieces]
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None


def _check_music_model(model: Any) -> None:
    if model is None:
        return
    if not callable(getattr(model, "stream_nll", None)) or not hasattr(model, "codec"):
        raise ValueError(f"model: got {type(model).__name__}; allowed: a fitted gm.Generator "
                         "of a music model")
    if not getattr(model, "fitted", False):
        raise ValueError("model: the Generator is not fitted; allowed: a fitted gm.Generator")
    kind = getattr(model, "_input_type", None)
    if kind != "music":
        raise ValueError(f"model: {model.model_name!r} was fitted on {kind or 'unknown'} data; "
                         "allowed: a model fitted on a music corpus")


def evaluate_music(training: Any, generated: Any = None, *, model: Any = None,
                   holdout: Any = None, seed: int = 0, copy_n: int = 8) -> dict[str, Any]:
    """A music report, parallel to :func:`genmodels.evaluation.text.evaluate_text`.

    * ``likelihood`` (with ``model``, a fitted music ``gm.Generator``): its
      :meth:`~genmodels.Generator.stream_nll` on ``holdout`` (None without one) and on
      ``training``: nats and bits per event token and per note, perplexity.
    * ``music``: :func:`music_metrics` of ``generated`` against ``holdout`` (or
      ``training`` without one: see ``reference``), copy rate against ``training``.
      Without ``generated``, :data:`SAMPLE_PIECES` pieces are drawn from ``model`` with
      ``seed`` (at most :data:`SAMPLE_MAX_TOKENS` tokens each); without either, None.

    Corpora are anything the music codec reads: ``"bach"``, ``"essen:N"``, a .mid file, a
    folder of them, symusic Scores (as ``gm.Generator.sample`` returns) or a list.
    Times are on the model codec's grid (4 steps a quarter note without a model).
    Same inputs and seed give the same dict (JSON-able).
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: got {seed!r}; allowed: an integer >= 0")
    if isinstance(copy_n, bool) or not isinstance(copy_n, int) or copy_n < 1:
        raise ValueError(f"copy_n: got {copy_n!r}; allowed: an integer >= 1")
    _check_music_model(model)
    resolution = int(model.codec.resolution) if model is not None else 4
    train_src = music_pieces(training, "training")
    hold_src = music_pieces(holdout, "holdout") if holdout is not None else None
    out: dict[str, Any] = {"likelihood": None, "music": None,
                           "n_training_pieces": len(train_src),
                           "n_holdout_pieces": len(hold_src) if hold_src else None,
                           "reference": "holdout" if hold_src else "training",
                           "generated": None}
    if model is not None:
        out["likelihood"] = {
            "holdout": model.stream_nll(hold_src) if hold_src else None,
            "train": model.stream_nll(train_src),
        }
    if generated is None and model is not None:
        generated = model.sample(SAMPLE_PIECES, seed=int(seed), max_tokens=SAMPLE_MAX_TOKENS)
        out["generated"] = f"{SAMPLE_PIECES} pieces drawn from the model (seed {int(seed)})"
    if generated is not None:
        gen = _read_notes(music_pieces(generated, "generated"), "generated", resolution)
        train = _read_notes(train_src, "training", resolution)
        ref = _read_notes(hold_src, "holdout", resolution) if hold_src else train
        out["music"] = music_metrics(gen, ref, train, resolution=resolution, copy_n=copy_n)
        out["generated"] = out["generated"] or f"{len(gen)} pieces"
    return out
