"""The music codec through the Generator (sequence path) with the n-gram model, and the
music benchmark's one-command run on a few chorales."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

symusic = pytest.importorskip("symusic")

import genmodels.codecs.music  # noqa: E402,F401  (registers the codec)
from genmodels.generator import Generator, load  # noqa: E402
from genmodels.music.notes import score_notes  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def scale_piece(path: Path, shift: int, reps: int = 4) -> Path:
    """A C-major scale up and down in quarters (``reps`` times), transposed by
    ``shift``, 4/4."""
    score = symusic.Score(480)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    track = symusic.Track(name="piano", program=0)
    pitches = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 60] * reps
    for i, p in enumerate(pitches):
        track.notes.append(symusic.Note(480 * i, 480, p + shift, 90))
    score.tracks.append(track)
    score.dump_midi(str(path))
    return path


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "midi"
    folder.mkdir()
    for k, shift in enumerate([0, 2, 5, 7]):
        scale_piece(folder / f"s{k}.mid", shift)
    return folder


def test_ngram_on_midi_fits_samples_saves_and_loads(corpus, tmp_path):
    gen = Generator("ngram", order=6, codec_options={"velocity_bins": 0}).fit(corpus, seed=0)
    assert gen.fit_info_["input_type"] == "music" and gen.fit_info_["n_documents"] == 4
    # beats the add-one unigram of the same stream by far (the scales are predictable)
    stream = gen.codec.encode(corpus)
    counts = np.bincount(stream, minlength=gen.codec.vocab_size) + 1.0
    unigram = -np.log(counts / counts.sum())[stream[1:]].mean()
    nll = gen.stream_nll(corpus)
    assert nll["nats_per_token"] < 0.5 * unigram
    assert nll["n_notes"] == 4 * 64 + 4
    pieces = gen.sample(3, seed=1, max_tokens=400)
    assert len(pieces) == 3
    for piece in pieces:
        notes = score_notes(piece)
        assert notes.size >= 1
        assert notes["pitch"].min() >= 60 and notes["pitch"].max() <= 79
    gen.save(tmp_path / "run")
    again = load(tmp_path / "run")
    assert [score_notes(p).tolist() for p in again.sample(3, seed=1, max_tokens=400)] == \
        [score_notes(p).tolist() for p in pieces]
    assert np.allclose(again.log_prob(corpus), gen.log_prob(corpus))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:pin_threads called after numpy")
def test_music_benchmark_runs_with_one_command(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    pytest.importorskip("music21")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import music as bench
    finally:
        sys.path.pop(0)
    out = tmp_path / "music.json"
    assert bench.main(["--limit", "10", "--models", "ngram", "--orders", "2,4",
                       "--samples", "2", "--max-tokens", "200", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["data"]["held_out_pieces"] == 1 and res["data"]["train_pieces"] == 9
    # a 4-gram of chorale events beats the unigram floor on the held-out chorale
    assert res["models"]["ngram"]["nats_per_event"] < res["models"]["unigram"]["nats_per_event"]
    assert len(list((tmp_path / "music" / "ngram").glob("*.mid"))) == 2
