"""The ``music`` codec: MIDI pieces <-> one stream of REMI-like event tokens.

A piece becomes, bar by bar: ``Bar [TimeSig] (Position [Program] Pitch [Velocity]
Duration)*`` — Position (grid step within the bar) only when it changes, Program only
with ``programs=True`` (at each new position and when it changes), Velocity only with
``velocity_bins > 0``. Times are quantized to ``resolution`` steps per quarter note
(4: sixteenths). Id 0 is EOS, which separates pieces in :meth:`MusicCodec.encode`.

``fit`` learns the vocabulary's ranges from the corpus (pitch range, time signatures,
programs) and the defaults of decoding (tempo, velocity, program). A quantized piece
whose notes lie in those ranges comes back exactly (onset, duration, pitch, program;
velocity to its bin); otherwise pitches move by octaves into range, durations are cut
at ``max_duration`` and an unseen time signature is replaced by the one of nearest bar
length (logged; as are signatures of bars longer than ``max_bar`` quarter notes, e.g.
the 116/4 of an unmetered folk tune). Tempo changes, controllers and lyrics are not kept.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genmodels.codecs.base import Codec, register_codec
from genmodels.models.base import Field, Schema
from genmodels.music.notes import (
    DRUMS,
    NOTE_DTYPE,
    first_tempo,
    read_score,
    score_notes,
    time_signatures,
)

log = logging.getLogger(__name__)
EOS = 0
BAR = 1
MAX_STEPS = 100_000
"""Longest piece encoded, in quarter notes (about 14 hours at 120 bpm): a guard against
a file whose stray event lies far in the future."""


def _label(src: Any) -> str:
    return repr(str(src)) if isinstance(src, str | Path) else "a score"


def _check_int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not lo <= value <= hi:
        raise ValueError(f"{name}: got {value!r}; allowed: an integer in {lo}..{hi}")
    return int(value)


@register_codec
class MusicCodec(Codec):
    """MIDI (paths, a folder, a bundled name, symusic Scores) <-> int64 token ids."""

    name = "music"
    input_type = "music"
    unit = "note"

    def __init__(self, *, resolution: int = 4, max_duration: int = 32, velocity_bins: int = 8,
                 programs: bool = False, pitch_range: Sequence[int] | None = None,
                 max_bar: int = 16) -> None:
        super().__init__(inputs="discrete")
        self.resolution = _check_int("resolution", resolution, 1, 96)
        self.max_duration = _check_int("max_duration", max_duration, 1, 4096)
        self.velocity_bins = _check_int("velocity_bins", velocity_bins, 0, 127)
        self.max_bar = _check_int("max_bar", max_bar, 1, 256)
        if not isinstance(programs, bool):
            raise ValueError(f"programs: got {programs!r}; allowed: True or False")
        self.programs = programs
        if pitch_range is not None:
            lo, hi = (_check_int("pitch_range", int(v) if isinstance(v, np.integer) else v, 0, 127)
                      for v in pitch_range)
            if lo > hi:
                raise ValueError(f"pitch_range: got {tuple(pitch_range)}; allowed: (low, high) "
                                 "with low <= high, both in 0..127")
            pitch_range = (lo, hi)
        self.pitch_range = pitch_range
        self.pitch_lo_: int | None = None
        self.pitch_hi_: int | None = None
        self.time_sigs_: list[tuple[int, int]] = []
        self.programs_: list[int] = []
        self.program_ = 0
        self.tempo_ = 120.0
        self.velocity_ = 90
        self.n_pieces_ = 0

    @classmethod
    def accepts(cls, data: Any) -> bool:
        """True for a music input (see :func:`genmodels.music.corpus.is_music_input`)."""
        from genmodels.music.corpus import is_music_input

        return is_music_input(data)

    # --------------------------------------------------------------- fit
    def fit(self, data: Any, *, seed: int = 0) -> MusicCodec:
        """Learn pitch range, time signatures, programs and decoding defaults from a
        corpus (see :func:`genmodels.music.corpus.music_sources` for what it can be)."""
        from genmodels.music.corpus import music_sources

        pieces = music_sources(data)
        notes, sigs, tempos = [], set(), []
        for src in pieces:
            score = read_score(src)
            notes.append(self._piece_notes(score))
            ts = time_signatures(score, self.resolution)
            sigs.update((num, den) for _, num, den in ts)
            if not ts or ts[0][0] > 0:
                sigs.add((4, 4))
            tempo = first_tempo(score)
            if tempo is not None:
                tempos.append(tempo)
        allnotes = np.concatenate(notes)
        if allnotes.size == 0:
            raise ValueError(f"music input: the {len(pieces)} piece(s) hold no notes")
        lo, hi = self.pitch_range or (int(allnotes["pitch"].min()), int(allnotes["pitch"].max()))
        self.pitch_lo_, self.pitch_hi_ = lo, hi
        longest = self.max_bar * self.resolution
        self.time_sigs_ = sorted(s for s in sigs if self._bar_steps(s) <= longest) or [(4, 4)]
        if len(self.time_sigs_) < len(sigs):
            log.info("music codec: time signatures longer than max_bar=%d quarters are "
                     "replaced by the nearest one kept: %s", self.max_bar,
                     sorted(set(sigs) - set(self.time_sigs_)))
        progs, counts = np.unique(allnotes["program"], return_counts=True)
        self.programs_ = [int(p) for p in progs]
        self.program_ = int(progs[counts.argmax()])
        self.tempo_ = float(np.median(tempos)) if tempos else 120.0
        self.velocity_ = int(np.median(allnotes["velocity"]))
        self.n_pieces_ = len(pieces)
        self._build()
        log.info("music codec: %d pieces, %d notes, vocabulary %d", len(pieces), allnotes.size,
                 self.vocab_size)
        return self

    def _piece_notes(self, src: Any) -> np.ndarray:
        n = score_notes(src, self.resolution)
        if not self.programs:
            n = n[n["program"] != DRUMS]  # drums make no sense merged into one pitched track
        return n

    def _bar_steps(self, sig: tuple[int, int]) -> int:
        num, den = sig
        return max(1, round(num * 4 * self.resolution / den))

    def _build(self) -> None:
        """Token layout from the fitted ranges."""
        off = 2
        self._ts0 = off
        off += len(self.time_sigs_)
        self._n_pos = max(self._bar_steps(s) for s in self.time_sigs_)
        self._pos0 = off
        off += self._n_pos
        self._prog0 = off
        off += len(self.programs_) if self.programs else 0
        self._pitch0 = off
        off += self.pitch_hi_ - self.pitch_lo_ + 1
        self._vel0 = off
        off += self.velocity_bins
        self._dur0 = off
        off += self.max_duration
        self._vocab = off
        self.schema_ = Schema((Field("token", "discrete", off),))

    @property
    def vocab_size(self) -> int:
        """Number of token ids (EOS included)."""
        self._check()
        return self._vocab

    def _check(self) -> None:
        if self.pitch_lo_ is None:
            raise ValueError("music codec is not fitted; call fit(corpus) first")

    # ------------------------------------------------------------ encode
    def encode(self, data: Any) -> np.ndarray:
        """Corpus -> ``(N,)`` int64 stream ``[EOS, piece1..., EOS, piece2..., EOS]``."""
        parts: list[np.ndarray] = [np.array([EOS], dtype=np.int64)]
        for tokens in self.encode_pieces(data):
            parts += [tokens, np.array([EOS], dtype=np.int64)]
        return np.concatenate(parts)

    def encode_pieces(self, data: Any) -> list[np.ndarray]:
        """Corpus -> one ``(L_i,)`` int64 token array per piece (no EOS)."""
        from genmodels.music.corpus import music_sources

        self._check()
        return [self.encode_piece(src) for src in music_sources(data)]

    encode_docs = encode_pieces

    def encode_prompt(self, prompt: Any) -> np.ndarray:
        """A prompt -> token ids (no EOS): a piece (path or Score; its opening is
        continued) or a sequence of token ids."""
        from genmodels.music.corpus import is_music_input

        if isinstance(prompt, str | Path) or is_music_input(prompt):
            return self.encode_piece(prompt)
        arr = np.asarray(prompt)
        if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"prompt: expected a .mid path, a symusic.Score or token ids, got "
                             f"{type(prompt).__name__}")
        if arr.size and (arr.min() < 1 or arr.max() >= self.vocab_size):
            raise ValueError(f"prompt: token ids must be in 1..{self.vocab_size - 1}")
        return arr.astype(np.int64)

    def count_units(self, data: Any) -> int:
        """Notes in a corpus as encoded (after de-duplication), plus one per piece end:
        the unit of ``nats_per_note``."""
        pieces = self.encode_pieces(data)
        notes = sum(int(((p >= self._dur0) & (p < self._vocab)).sum()) for p in pieces)
        return notes + len(pieces)

    def summary(self) -> list[dict[str, Any]]:
        """One row for ``genmodels info``."""
        return [{"name": "MIDI events", "kind": "music", "levels": self.vocab_size}]

    def write_pieces(self, pieces: Sequence[Any], out_dir: str | Path,
                     prefix: str = "sample") -> list[Path]:
        """Write decoded pieces (Scores, or token-id arrays) as ``prefix_000.mid``, ... in
        ``out_dir`` (created); returns the paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for i, piece in enumerate(pieces):
            score = piece if hasattr(piece, "dump_midi") else self.decode(piece)
            path = out / f"{prefix}_{i:03d}.mid"
            score.dump_midi(str(path))
            paths.append(path)
        return paths

    def encode_piece(self, src: Any) -> np.ndarray:
        """One piece (path or Score) -> ``(L,)`` int64 tokens (no EOS)."""
        self._check()
        score = read_score(src)
        notes = self._fit_range(self._piece_notes(score))
        last = int(notes["onset"].max()) if notes.size else 0
        if last > MAX_STEPS * self.resolution:
            raise ValueError(f"music input: {_label(src)} has a note at quarter "
                             f"{last // self.resolution}; allowed: pieces up to {MAX_STEPS} "
                             "quarter notes long")
        bars = self._bars(time_signatures(score, self.resolution), last)
        starts = np.array([b[0] for b in bars])
        bar_of = np.searchsorted(starts, notes["onset"], side="right") - 1
        out: list[int] = []
        prev_sig, j = None, 0
        for b, (start, sig) in enumerate(bars):
            out.append(BAR)
            if sig != prev_sig:
                out.append(self._ts0 + sig)
                prev_sig = sig
            pos = prog = None
            while j < notes.size and bar_of[j] == b:
                note = notes[j]
                if note["onset"] - start != pos:
                    pos, prog = int(note["onset"] - start), None
                    out.append(self._pos0 + pos)
                if self.programs and note["program"] != prog:
                    prog = int(note["program"])
                    out.append(self._prog0 + self.programs_.index(prog))
                out.append(self._pitch0 + int(note["pitch"]) - self.pitch_lo_)
                if self.velocity_bins:
                    out.append(self._vel0 + self._velocity_bin(int(note["velocity"])))
                out.append(self._dur0 + int(note["duration"]) - 1)
                j += 1
        return np.asarray(out, dtype=np.int64)

    def _fit_range(self, notes: np.ndarray) -> np.ndarray:
        """Move notes into the vocabulary: pitch by octaves, duration cut, unseen
        programs to the nearest known one; drop exact duplicates (same onset, program,
        pitch: keep the longest)."""
        notes = notes.copy()
        p = notes["pitch"]
        lo, hi = self.pitch_lo_, self.pitch_hi_
        moved = int(((p < lo) | (p > hi)).sum())
        while hi - lo >= 11 and ((p < lo) | (p > hi)).any():
            p[p < lo] += 12
            p[p > hi] -= 12
        np.clip(p, lo, hi, out=p)
        cut = int((notes["duration"] > self.max_duration).sum())
        np.minimum(notes["duration"], self.max_duration, out=notes["duration"])
        if moved or cut:
            log.debug("music codec: %d pitch(es) moved into %d..%d, %d duration(s) cut at %d "
                     "steps", moved, lo, hi, cut, self.max_duration)
        if self.programs:
            known = np.asarray(self.programs_)
            idx = np.abs(notes["program"][:, None] - known[None, :]).argmin(axis=1)
            notes["program"] = known[idx]
        order = np.lexsort((-notes["duration"], notes["pitch"], notes["program"], notes["onset"]))
        notes = notes[order]
        key = np.stack([notes["onset"], notes["program"], notes["pitch"]], axis=1)
        keep = np.ones(notes.size, dtype=bool)
        if notes.size > 1:
            keep[1:] = np.any(key[1:] != key[:-1], axis=1)
        return notes[keep]

    def _bars(self, events: list[tuple[int, int, int]], last: int) -> list[tuple[int, int]]:
        """``[(start step, time-signature index), ...]`` covering 0..last; a change of
        signature takes effect at the first bar start at or after its time."""
        sigs = [(s, self._sig_index((n, d))) for s, n, d in events]
        cur = sigs[0][1] if sigs and sigs[0][0] == 0 else self._sig_index((4, 4))
        out, start, k = [], 0, 0
        while start <= last:
            while k < len(sigs) and sigs[k][0] <= start:
                cur = sigs[k][1]
                k += 1
            out.append((start, cur))
            start += self._bar_steps(self.time_sigs_[cur])
        return out

    def _sig_index(self, sig: tuple[int, int]) -> int:
        if sig in self.time_sigs_:
            return self.time_sigs_.index(sig)
        steps = np.array([self._bar_steps(s) for s in self.time_sigs_])
        i = int(np.abs(steps - self._bar_steps(sig)).argmin())
        log.debug("music codec: time signature %d/%d unseen in fit; using %d/%d", *sig,
                 *self.time_sigs_[i])
        return i

    def _velocity_bin(self, v: int) -> int:
        return min(self.velocity_bins - 1, (v - 1) * self.velocity_bins // 127)

    def _bin_velocity(self, b: int) -> int:
        lo = -(-b * 127 // self.velocity_bins) + 1
        hi = -(-(b + 1) * 127 // self.velocity_bins)
        return (lo + hi) // 2

    # ------------------------------------------------------------ decode
    def decode_notes(self, ids: Any) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
        """Tokens -> (notes :data:`NOTE_DTYPE`, time-signature events ``(step, num,
        den)``). Lenient: incomplete notes are dropped, stray tokens ignored."""
        from genmodels.music.decode import decode_tokens

        self._check()
        return decode_tokens(self, ids)

    def decode(self, x: Any, *, condition: Mapping[str, Any] | None = None,
               seed: int = 0) -> Any:
        """Tokens of one piece -> a ``symusic.Score`` (``.dump_midi(path)`` writes a
        playable .mid)."""
        from genmodels.music.decode import notes_to_score

        if condition:
            raise ValueError("condition: the music codec takes no condition; use a prompt")
        notes, sigs = self.decode_notes(x)
        return notes_to_score(notes, sigs, self.resolution, self.tempo_,
                              None if self.programs else self.program_)

    def token_names(self, ids: Any) -> list[str]:
        """Readable names of token ids, e.g. ``['Bar', 'TimeSig_4/4', 'Pos_0', ...]``."""
        from genmodels.music.decode import token_name

        self._check()
        return [token_name(self, int(i)) for i in np.asarray(ids).ravel()]

    def encode_condition(self, condition: Mapping[str, Any]) -> dict[int, float]:
        raise ValueError("condition: the music codec takes no condition; use a prompt")

    def log_det_jacobian(self, data: Any) -> np.ndarray:
        return np.zeros(len(self.encode_pieces(data)))

    def n_rows(self, data: Any) -> int:
        from genmodels.music.corpus import music_sources

        return len(music_sources(data))

    # ------------------------------------------------------------- json
    def to_json(self) -> dict:
        self._check()
        return {"codec": self.name, "resolution": self.resolution,
                "max_duration": self.max_duration, "velocity_bins": self.velocity_bins,
                "programs": self.programs, "max_bar": self.max_bar,
                "pitch_range": list(self.pitch_range) if self.pitch_range else None,
                "pitch_lo": self.pitch_lo_, "pitch_hi": self.pitch_hi_,
                "time_signatures": [list(s) for s in self.time_sigs_],
                "program_list": self.programs_, "program": self.program_, "tempo": self.tempo_,
                "velocity": self.velocity_, "n_pieces": self.n_pieces_,
                "vocab_size": self._vocab}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MusicCodec:
        try:
            codec = cls(resolution=data["resolution"], max_duration=data["max_duration"],
                        velocity_bins=data["velocity_bins"], programs=data["programs"],
                        pitch_range=data.get("pitch_range"), max_bar=data.get("max_bar", 16))
            codec.pitch_lo_, codec.pitch_hi_ = int(data["pitch_lo"]), int(data["pitch_hi"])
            codec.time_sigs_ = [(int(n), int(d)) for n, d in data["time_signatures"]]
            codec.programs_ = [int(p) for p in data["program_list"]]
            codec.program_ = int(data.get("program", 0))
            codec.tempo_ = float(data["tempo"])
            codec.velocity_ = int(data["velocity"])
            codec.n_pieces_ = int(data.get("n_pieces", 0))
        except (KeyError, TypeError) as e:
            raise ValueError(f"codec.json: music codec entry is malformed ({e!r})") from None
        codec._build()
        if codec._vocab != data.get("vocab_size", codec._vocab):
            raise ValueError(f"codec.json: vocab_size {data.get('vocab_size')} does not match "
                             f"the layout ({codec._vocab})")
        return codec


__all__ = ["EOS", "NOTE_DTYPE", "MusicCodec"]
