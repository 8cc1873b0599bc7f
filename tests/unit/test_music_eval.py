"""Music metrics on pieces whose values are known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from genmodels.evaluation import music as mm
from genmodels.music.notes import NOTE_DTYPE


def notes(*rows):
    """(onset, duration, pitch) rows -> a note array (velocity 90, program 0)."""
    return np.array([(o, d, p, 90, 0) for o, d, p in rows], dtype=NOTE_DTYPE)


C_MAJOR = notes(*[(4 * i, 4, p) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71])])


def test_pitch_class_histogram_of_a_scale():
    h = mm.pitch_class_histogram(C_MAJOR)
    expected = np.zeros(12)
    expected[[0, 2, 4, 5, 7, 9, 11]] = 1 / 7
    assert np.allclose(h, expected)
    # duration weighting: a long C dominates
    hd = mm.pitch_class_histogram(notes((0, 12, 60), (12, 4, 67)), weight="duration")
    assert np.allclose(hd[[0, 7]], [0.75, 0.25])


def test_histogram_distances_known_values():
    p, q = np.array([1.0, 0, 0]), np.array([0, 1.0, 0])
    assert mm.histogram_distance(p, p) == 0.0
    assert mm.histogram_distance(p, q) == pytest.approx(1.0)
    assert mm.histogram_distance(p, q, "js") == pytest.approx(np.log(2), rel=1e-4)
    a, b = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    assert mm.histogram_distance(a, b, "kl") == pytest.approx(
        0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5), rel=1e-4)
    with pytest.raises(ValueError, match="metric"):
        mm.histogram_distance(a, b, "l2")


def test_pitch_class_distance_is_zero_for_transposition_by_octave_only():
    up_octave = C_MAJOR.copy()
    up_octave["pitch"] += 12
    assert mm.pitch_class_distance(up_octave, C_MAJOR) == 0.0
    up_tone = C_MAJOR.copy()
    up_tone["pitch"] += 2  # D major: shares 5 of 7 pitch classes
    assert mm.pitch_class_distance(up_tone, C_MAJOR) == pytest.approx(2 / 7)


def test_duration_distance_known_value():
    quarters = notes(*[(4 * i, 4, 60) for i in range(4)])
    halves = notes(*[(8 * i, 8, 60) for i in range(2)])
    mixed = notes((0, 4, 60), (4, 8, 60))
    assert mm.duration_distance(quarters, halves) == pytest.approx(1.0)
    assert mm.duration_distance(mixed, quarters) == pytest.approx(0.5)


def test_polyphony_known_cases():
    assert mm.polyphony(C_MAJOR) == 1.0
    chord = notes((0, 16, 48), (0, 16, 55), (0, 16, 64), (0, 16, 72))
    assert mm.polyphony(chord) == 4.0
    # two notes overlapping for 2 of 6 sounding steps: (2*1 + 2*2 + 2*1) / 6
    assert mm.polyphony(notes((0, 4, 60), (2, 4, 64))) == pytest.approx(8 / 6)
    assert np.isnan(mm.polyphony(notes()))


def test_copy_rate_finds_transposed_copies_and_not_new_material():
    train = [C_MAJOR]
    transposed = C_MAJOR.copy()
    transposed["pitch"] += 5
    assert mm.note_copy_rate([transposed], train, n=4) == 1.0
    other = notes(*[(4 * i, 2, p) for i, p in enumerate([60, 61, 63, 66, 70, 75, 81])])
    assert mm.note_copy_rate([other], train, n=4) == 0.0
    half = notes(*[(4 * i, 4, p) for i, p in enumerate([60, 62, 64, 65, 66, 60, 55])])
    assert mm.note_copy_rate([half], train, n=3) == pytest.approx(2 / 5)


def test_note_sequence_is_onset_then_pitch_order():
    seq = mm.note_sequence(notes((4, 2, 67), (0, 4, 64), (0, 4, 60)))
    assert seq == [(0, 4), (4, 4), (3, 2)]


def test_music_metrics_bundle():
    out = mm.music_metrics([C_MAJOR], [C_MAJOR], [C_MAJOR], copy_n=4)
    assert out["pitch_class_tv"] == 0.0 and out["duration_tv"] == 0.0
    assert out["polyphony"] == out["polyphony_reference"] == 1.0
    assert out["copy_rate_4"] == 1.0 and out["notes_per_piece"] == 7.0


# ------------------------------------------------------------ evaluate_music
SCALE = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 60]


def write_piece(path, shift: int = 0, *, chords: bool = False, reps: int = 2):
    """A C-major scale up and down in quarters (a third above each note with
    ``chords``), transposed by ``shift`` semitones, 4/4, as a .mid file."""
    symusic = pytest.importorskip("symusic")
    score = symusic.Score(480)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    track = symusic.Track(name="piano", program=0)
    onset = 0
    for i, p in enumerate(SCALE * reps):
        duration = 480 if i % 4 else 960
        for q in ((p, p + 4) if chords else (p,)):
            track.notes.append(symusic.Note(onset, duration, q + shift, 90))
        onset += duration
    score.tracks.append(track)
    score.dump_midi(str(path))
    return path


def folder_of(root, name: str, shifts, **kw):
    folder = root / name
    folder.mkdir()
    for k, s in enumerate(shifts):
        write_piece(folder / f"p{k}.mid", s, **kw)
    return folder


@pytest.fixture
def corpora(tmp_path):
    return {"train": folder_of(tmp_path, "train", [0, 2, 5], chords=True),
            "up": folder_of(tmp_path, "up", [1, 3, 6], chords=True),
            "mono": folder_of(tmp_path, "mono", [0]),
            "tmp": tmp_path}


def test_a_corpus_against_itself(corpora):
    out = mm.evaluate_music(corpora["train"], corpora["train"])
    m = out["music"]
    assert out["likelihood"] is None and out["reference"] == "training"
    assert out["n_training_pieces"] == 3 and m["n_pieces"] == 3.0
    assert m["pitch_class_tv"] == 0.0 and m["duration_tv"] == 0.0
    assert m["pitch_class_kl"] == pytest.approx(0.0, abs=1e-12)
    assert m["copy_rate_8"] == 1.0
    assert m["polyphony"] == m["polyphony_reference"] == pytest.approx(2.0)


def test_a_transposed_copy_is_a_copy_in_other_keys(corpora):
    m = mm.evaluate_music(corpora["train"], corpora["up"])["music"]
    assert m["pitch_class_tv"] > 0.2  # one semitone up: other pitch classes
    assert m["duration_tv"] == 0.0 and m["polyphony"] == m["polyphony_reference"]
    assert m["copy_rate_8"] == 1.0  # the copy measure is transposition-invariant
    mono = mm.evaluate_music(corpora["train"], corpora["mono"])["music"]
    assert mono["polyphony"] == 1.0 and mono["polyphony_reference"] == pytest.approx(2.0)
    assert mono["copy_rate_8"] < 0.5  # single notes: other intervals than the chords


def test_holdout_is_the_reference_and_training_the_copy_source(corpora):
    out = mm.evaluate_music(corpora["train"], corpora["up"], holdout=corpora["up"])
    m = out["music"]
    assert out["reference"] == "holdout" and out["n_holdout_pieces"] == 3
    assert m["pitch_class_tv"] == 0.0 and m["copy_rate_8"] == 1.0
    single = mm.evaluate_music(write_piece(corpora["tmp"] / "one.mid"), corpora["train"])
    assert single["n_training_pieces"] == 1 and single["music"]["copy_rate_8"] == 0.0


def test_with_a_model_likelihood_and_drawn_pieces(corpora):
    import genmodels as gm

    gen = gm.Generator("ngram", order=6).fit(corpora["train"], seed=0)
    out = mm.evaluate_music(corpora["train"], model=gen, holdout=corpora["up"], seed=3)
    lk = out["likelihood"]
    assert lk["train"] == gen.stream_nll(corpora["train"])
    assert lk["holdout"] == gen.stream_nll(corpora["up"])
    # a 6-gram knows its training scales better than the unseen keys, and both beat uniform
    assert lk["train"]["nats_per_token"] < lk["holdout"]["nats_per_token"]
    assert lk["holdout"]["nats_per_token"] < np.log(gen.codec.vocab_size)
    assert out["generated"] == f"{mm.SAMPLE_PIECES} pieces drawn from the model (seed 3)"
    assert out["music"]["n_pieces"] == mm.SAMPLE_PIECES
    assert out == mm.evaluate_music(corpora["train"], model=gen, holdout=corpora["up"], seed=3)
    # gm.evaluate dispatches a music corpus here; the pieces may be Scores in memory
    pieces = gen.sample(2, seed=1, max_tokens=200)
    via = gm.evaluate(corpora["train"], pieces, model=gen)
    assert via == mm.evaluate_music(corpora["train"], pieces, model=gen)
    train = sorted(corpora["train"].iterdir())
    assert via["music"]["copy_rate_8"] == mm.note_copy_rate(pieces, train, n=8)
    assert via["music"]["pitch_class_tv"] == mm.pitch_class_distance(pieces, train)


def test_gm_evaluate_dispatches_corpora_and_keeps_tables():
    import genmodels as gm

    text = gm.evaluate(["the cat sat on the mat"] * 3, ["the cat sat on the hat"])
    assert set(text) >= {"likelihood", "diversity"} and text["likelihood"] is None
    assert 0 < text["diversity"]["distinct_1"] <= 1
    with pytest.raises(ValueError, match="target: .*text corpus"):
        gm.evaluate(["a text"], ["a text"], target="y")
    with pytest.raises(ValueError, match="seed"):
        gm.evaluate(["a text"], ["a text"], seed=-1)


def test_bad_inputs_name_the_argument(corpora):
    import genmodels as gm

    train = corpora["train"]
    txt = corpora["tmp"] / "notes.txt"
    txt.write_text("not music", "utf-8")
    bad_mid = corpora["tmp"] / "bad.mid"
    bad_mid.write_bytes(b"MThd garbage")
    (corpora["tmp"] / "empty").mkdir()
    for kw, pattern in [
        ({"training": corpora["tmp"] / "nope"}, r"^training: .*neither a file"),
        ({"training": 3}, r"^training: got int; allowed: a bundled corpus name"),
        ({"training": txt}, r"^training: got .*notes.txt'; allowed"),
        ({"generated": corpora["tmp"] / "empty"}, r"^generated: .*no .mid"),
        ({"generated": bad_mid}, r"^generated: MIDI file .*cannot be read"),
        ({"generated": train, "holdout": []}, r"^holdout: music input: .*empty"),
        ({"holdout": ["the cat"]}, r"^holdout: .*neither a file"),
        ({"model": "ngram"}, r"^model: got str"),
        ({"seed": -1}, r"^seed: got -1"),
        ({"generated": train, "copy_n": 0}, r"^copy_n: got 0"),
    ]:
        args = {"training": train} | kw
        with pytest.raises(ValueError, match=pattern):
            mm.evaluate_music(args.pop("training"), **args)
    text_model = gm.Generator("ngram", order=2).fit(["some text"], seed=0)
    with pytest.raises(ValueError, match="^model: 'ngram' was fitted on text data"):
        mm.evaluate_music(train, model=text_model)
    with pytest.raises(ValueError, match="not fitted"):
        mm.evaluate_music(train, model=gm.Generator("ngram"))
