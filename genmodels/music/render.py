"""Audio for music: MIDI -> WAV through the FluidSynth program and a General MIDI
soundfont (Debian: ``apt-get install fluidsynth fluid-soundfont-gm``), and an HTML
``<audio>`` player with the WAV inlined as base64."""

from __future__ import annotations

import base64
import html
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

SOUNDFONTS = (Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
              Path("/usr/share/sounds/sf2/default-GM.sf2"))
INSTALL_HINT = "apt-get install fluidsynth fluid-soundfont-gm"


class RenderUnavailable(RuntimeError):
    """FluidSynth or a General MIDI soundfont is not installed."""


def find_soundfont(soundfont: str | Path | None = None) -> Path:
    """The soundfont to use: ``soundfont`` if given, else the first Debian GM one found."""
    if soundfont is not None:
        p = Path(soundfont)
        if not p.is_file():
            raise ValueError(f"soundfont: {str(p)!r} is not a file")
        return p
    for p in SOUNDFONTS:
        if p.is_file():
            return p
    raise RenderUnavailable(f"no General MIDI soundfont found (looked for "
                            f"{', '.join(map(str, SOUNDFONTS))}); install one with "
                            f"`{INSTALL_HINT}`")


def render_available() -> bool:
    """True when :func:`render_wav` can work (fluidsynth and a soundfont are present)."""
    try:
        _fluidsynth()
        find_soundfont()
    except RenderUnavailable:
        return False
    return True


def _fluidsynth() -> str:
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise RenderUnavailable(f"the `fluidsynth` program is not installed; install it with "
                                f"`{INSTALL_HINT}`")
    return exe


def render_wav(score_or_mid: Any, wav_path: str | Path, *, sample_rate: int = 44100,
               soundfont: str | Path | None = None, timeout: float = 300.0) -> Path:
    """Render a ``symusic.Score`` or a .mid path to a WAV file (16-bit stereo).
    Raises :class:`RenderUnavailable` (with the apt-get line) when FluidSynth or the
    soundfont is missing, ``ValueError`` for a bad input."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) \
            or not 8000 <= sample_rate <= 192000:
        raise ValueError(f"sample_rate: got {sample_rate!r}; allowed: an integer in 8000..192000")
    exe = _fluidsynth()
    sf2 = find_soundfont(soundfont)
    wav_path = Path(wav_path)
    wav_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        mid = _as_mid_file(score_or_mid, Path(tmp))
        out = Path(tmp) / "out.wav"
        cmd = [exe, "-ni", "-q", "-g", "0.6", "-F", str(out), "-T", "wav",
               "-r", str(sample_rate), str(sf2), str(mid)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              check=False)
        if proc.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
            raise RuntimeError(f"fluidsynth failed on {mid.name} (exit {proc.returncode}): "
                               f"{(proc.stderr or proc.stdout).strip()[-500:]}")
        shutil.move(str(out), wav_path)
    return wav_path


def _as_mid_file(score_or_mid: Any, tmp: Path) -> Path:
    from genmodels.music.notes import _is_score

    if _is_score(score_or_mid):
        path = tmp / "piece.mid"
        score_or_mid.dump_midi(str(path))
        return path
    if isinstance(score_or_mid, str | Path):
        from genmodels.music.notes import read_score

        read_score(score_or_mid)  # a clear ValueError for a missing or corrupt file
        return Path(score_or_mid)
    raise ValueError(f"score_or_mid: expected a symusic.Score or a .mid path, got "
                     f"{type(score_or_mid).__name__}")


def audio_html(wav: str | Path | bytes, *, title: str | None = None) -> str:
    """An ``<audio controls>`` element with the WAV (a path or its bytes) inlined as a
    base64 data URI; ``title`` becomes a caption."""
    data = wav if isinstance(wav, bytes) else Path(wav).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("wav: not a RIFF/WAVE file")
    uri = "data:audio/wav;base64," + base64.b64encode(data).decode("ascii")
    player = f'<audio controls preload="none" src="{uri}"></audio>'
    if title is None:
        return player
    return f"<figure><figcaption>{html.escape(title)}</figcaption>{player}</figure>"
