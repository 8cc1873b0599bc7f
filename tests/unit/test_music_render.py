"""WAV rendering through FluidSynth, the audio HTML snippet and piano-roll plots."""

from __future__ import annotations

import base64
import re
import wave

import numpy as np
import pytest

symusic = pytest.importorskip("symusic")

from genmodels.music import render  # noqa: E402
from genmodels.music.plots import figure_png, piano_roll  # noqa: E402


def two_second_score():
    """120 bpm, four quarter notes: 2 s of sound."""
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    track = symusic.Track(name="piano", program=0)
    for i, pitch in enumerate([60, 64, 67, 72]):
        track.notes.append(symusic.Note(480 * i, 480, pitch, 100))
    score.tracks.append(track)
    return score


@pytest.mark.skipif(not render.render_available(),
                    reason="fluidsynth or a GM soundfont is not installed")
def test_render_wav_is_audible_and_as_long_as_the_piece(tmp_path):
    wav = render.render_wav(two_second_score(), tmp_path / "a" / "x.wav", sample_rate=22050)
    with wave.open(str(wav)) as w:
        assert w.getframerate() == 22050 and w.getsampwidth() == 2
        seconds = w.getnframes() / w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    assert 2.0 <= seconds <= 6.0  # the piece plus the release tail
    assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 100  # not silence
    # a .mid path renders the same way
    mid = tmp_path / "x.mid"
    two_second_score().dump_midi(str(mid))
    assert render.render_wav(mid, tmp_path / "y.wav").stat().st_size > 44


def test_missing_fluidsynth_names_the_apt_get_line(tmp_path, monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(render.RenderUnavailable,
                       match="apt-get install fluidsynth fluid-soundfont-gm"):
        render.render_wav(two_second_score(), tmp_path / "x.wav")
    assert render.render_available() is False


def test_missing_soundfont_names_the_apt_get_line(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "SOUNDFONTS", (tmp_path / "none.sf2",))
    with pytest.raises(render.RenderUnavailable, match="fluid-soundfont-gm"):
        render.find_soundfont()


def test_render_rejects_a_corrupt_midi_file(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    if render.render_available():
        with pytest.raises(ValueError, match="bad.mid"):
            render.render_wav(bad, tmp_path / "x.wav")


def test_audio_html_inlines_the_wav(tmp_path):
    data = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)
    html = render.audio_html(data, title="Bach <1>")
    uri = re.search(r'src="data:audio/wav;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(uri) == data
    assert "Bach &lt;1&gt;" in html and "<audio controls" in html
    with pytest.raises(ValueError, match="WAVE"):
        render.audio_html(b"ID3 an mp3")


def test_piano_roll_draws_one_bar_per_note():
    fig = piano_roll(two_second_score(), title="test")
    ax = fig.axes[0]
    bars = sum(len(c.get_paths()) for c in ax.collections)
    assert bars == 4
    assert ax.get_xlim() == (0.0, 4.0) and ax.get_title() == "test"
    assert figure_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"
