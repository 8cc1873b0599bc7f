"""The report's sections for a sequence model (text, music): its own leaderboard,
fidelity and likelihood sections, piano rolls and audio players for music pieces, and a
"not applicable" note in the table-only sections."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

from genmodels.report.html import empty, esc, note, status, table
from genmodels.report.sections import ok_runs, wav_base64
from genmodels.report.sources import RunView

log = logging.getLogger(__name__)

AUDIO_RATE, AUDIO_SECONDS = 16000, 45
"""The report's clips: FluidSynth renders at this rate, the clip is mixed down to mono
and cut after this many seconds (a page with four pieces stays a few MB)."""


def music_section(music: Mapping[str, list]) -> str:
    """Per model and piece: a piano roll and, when FluidSynth and a soundfont are
    installed, an audio player (the rendered WAV file inlined as base64)."""
    from genmodels.music.plots import figure_png, piano_roll
    from genmodels.music.render import INSTALL_HINT, render_available

    can_play = render_available()
    parts = [] if can_play else [empty(
        "No audio players: FluidSynth or its General MIDI soundfont is not installed "
        f"(Debian/Ubuntu: `{INSTALL_HINT}`). The piano rolls below show the pieces.")]
    for m, pieces in music.items():
        figs = []
        for i, piece in enumerate(pieces):
            title = f"{m}: piece {i + 1}"
            fig = piano_roll(piece, title=title)
            png = base64.b64encode(figure_png(fig)).decode("ascii")
            player = _player(piece, title) if can_play else ""
            caption = f"{piece.note_num()} notes, {_duration(piece):.1f} s"
            figs.append(f'<figure><img alt="piano roll of {esc(title)}" '
                        f'src="data:image/png;base64,{png}">{player}'
                        f"<figcaption>{esc(caption)}</figcaption></figure>")
        parts.append(f"<h4>{esc(m)}</h4>" + f'<div class="grid">{"".join(figs)}</div>')
    return "".join(parts) + note("Piano rolls: time in quarter notes, MIDI pitch, one colour "
                                 "per instrument." + (" Audio: rendered by FluidSynth with a "
                                                      "General MIDI soundfont." if can_play
                                                      else ""))


def _player(piece: Any, title: str) -> str:
    """An ``<audio>`` element with ``piece`` rendered to WAV, or a note if it fails."""
    import tempfile
    from pathlib import Path

    from genmodels.music.render import render_wav

    with tempfile.TemporaryDirectory() as tmp:
        try:
            rate, clip = _mono(render_wav(piece, Path(tmp) / "piece.wav",
                                          sample_rate=AUDIO_RATE))
        except (RuntimeError, ValueError, OSError) as e:
            log.warning("report: rendering %s failed: %s", title, e)
            return f'<p class="note">{esc(f"Audio could not be rendered: {e}")}</p>'
    uri = "data:audio/wav;base64," + wav_base64(clip[: rate * AUDIO_SECONDS], rate)
    return (f'<audio controls preload="metadata" style="width:100%" '
            f'aria-label="{esc(title)}" src="{uri}"></audio>')


def _mono(path: Any) -> tuple[int, Any]:
    """A 16-bit PCM WAV file -> its rate and a mono float waveform in [-1, 1]."""
    import wave as wavmod

    import numpy as np

    with wavmod.open(str(path), "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM, got {8 * w.getsampwidth()}-bit")
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return rate, frames.reshape(-1, channels).mean(axis=1) / 32768.0


def _duration(piece: Any) -> float:
    """Seconds of a symusic Score (ticks, one tempo)."""
    tempo = float(piece.tempos[0].qpm) if len(piece.tempos) else 120.0
    return float(piece.end()) / float(piece.tpq) * 60.0 / tempo


def _not_table(view: RunView, colors: Mapping[str, str]) -> str:
    return empty(f"Not applicable to a sequence model ({view.modality}): this section "
                 "compares table columns. See Fidelity and Likelihood.")


def _evaluations(view: RunView) -> list[tuple[str, dict[str, Any]]]:
    return [(r.model, r.evaluation) for r in ok_runs(view) if r.evaluation]


def _seq_leaderboard(view: RunView, colors: Mapping[str, str]) -> str:
    rows = []
    for r in view.runs:
        train = ((r.evaluation or {}).get("likelihood") or {}).get("train") or {}
        unit = "char" if view.modality == "text" else "note"
        rows.append({"model": r.model, "status": status(r.status),
                     "training nats/token": train.get("nats_per_token"),
                     f"training bits/{unit}": train.get(f"bits_per_{unit}"),
                     "fit (s)": r.fit_seconds, "peak RSS (MB)": r.peak_rss_mb})
    known = any(r.evaluation for r in view.runs)
    return table(rows, html_columns=["status"]) + note(
        "A sequence model has no table composite score. Training likelihood: exact NLL of "
        "the training corpus, lower is better" + ("." if known else
                                                  " (it needs the corpus: report --data)."))


def _seq_fidelity(view: RunView, colors: Mapping[str, str]) -> str:
    key = "music" if view.modality == "music" else "diversity"
    found = [(m, ev[key]) for m, ev in _evaluations(view) if ev.get(key)]
    if not found:
        return empty("The training corpus is unknown, so the samples are not compared "
                     "with it (report --data CORPUS).")
    models = [m for m, _ in found]
    metrics = dict.fromkeys(k for _, d in found for k in d)
    rows = [{"metric": k, **{m: _count(k, d.get(k)) for m, d in found}} for k in metrics]
    if key == "music":
        text = ("Generated pieces vs the training pieces: pitch-class and duration "
                "histogram distances (tv in [0, 1], kl in nats; 0 is ideal), polyphony "
                "(notes sounding at once; ideal: the reference's), copy rate (share of "
                "generated 8-note runs found in the corpus; lower is more novel).")
    else:
        text = ("Generated snippets vs the training corpus: distinct-n (higher is more "
                "varied) and the share of generated 8-grams copied from it (lower is "
                "more novel).")
    return table(rows, ["metric", *models]) + note(text)


def _count(key: str, value: Any) -> Any:
    """Counts stored as floats (``n_pieces``) shown as integers."""
    return int(value) if key.startswith("n_") and isinstance(value, float) \
        and value.is_integer() else value


def _seq_likelihood(view: RunView, colors: Mapping[str, str]) -> str:
    rows = []
    for m, ev in _evaluations(view):
        for corpus, d in (ev.get("likelihood") or {}).items():
            if d:
                rows.append({"model": m, "corpus": corpus, **d})
    if not rows:
        return empty("The training corpus is unknown, so there is no likelihood "
                     "(report --data CORPUS).")
    return table(rows) + note("Exact negative log-likelihood of the corpus read as one "
                              "token stream: nats and bits per token, per character (text) "
                              "or note (music); perplexity per token. Lower is better.")


SEQUENCE_BUILDERS = {"leaderboard": _seq_leaderboard, "fidelity": _seq_fidelity,
                      "likelihood": _seq_likelihood, "marginals": _not_table,
                      "correlations": _not_table, "utility": _not_table,
                      "privacy": _not_table, "fairness": _not_table}
