"""The music codec: exact round trips of quantized pieces, the token grammar, the
stream layout, JSON, and clear errors for corrupt MIDI."""

from __future__ import annotations

import numpy as np
import pytest

symusic = pytest.importorskip("symusic")

from genmodels.codecs.base import codec_from_json  # noqa: E402
from genmodels.codecs.music import EOS, MusicCodec  # noqa: E402
from genmodels.music.notes import score_notes  # noqa: E402

TPQ = 480
STEP = TPQ // 4


def make_score(notes, sigs=((0, 4, 4),), *, tracks=None):
    """notes: (onset step, duration steps, pitch, velocity, program) tuples."""
    score = symusic.Score(TPQ)
    for step, num, den in sigs:
        score.time_signatures.append(symusic.TimeSignature(step * STEP, num, den))
    for prog in sorted({n[4] for n in notes}):
        track = symusic.Track(name=f"p{prog}", program=prog)
        for on, dur, pitch, vel, p in notes:
            if p == prog:
                track.notes.append(symusic.Note(on * STEP, dur * STEP, pitch, vel))
        score.tracks.append(track)
    return score


def write(tmp_path, name, score):
    path = tmp_path / name
    score.dump_midi(str(path))
    return path


def key(notes, fields=("onset", "duration", "pitch", "program")):
    return sorted(tuple(int(n[f]) for f in fields) for n in notes)


def random_piece(rng, n=40, programs=(0,)):
    seen, notes = set(), []
    while len(notes) < n:
        on, pitch, prog = int(rng.integers(0, 96)), int(rng.integers(48, 80)), int(rng.choice(programs))
        if (on, pitch, prog) in seen:
            continue
        seen.add((on, pitch, prog))
        notes.append((on, int(rng.integers(1, 17)), pitch, int(rng.integers(1, 128)), prog))
    return notes


@pytest.mark.parametrize("programs", [False, True])
def test_round_trip_is_exact_for_quantized_pieces(tmp_path, programs):
    rng = np.random.default_rng(0)
    progs = (0, 40, 73) if programs else (0,)
    pieces = [make_score(random_piece(rng, programs=progs), ((0, 3, 4), (48, 4, 4)))
              for _ in range(4)]
    paths = [write(tmp_path, f"p{i}.mid", s) for i, s in enumerate(pieces)]
    codec = MusicCodec(programs=programs).fit(paths)
    for path in paths:
        before = score_notes(path)
        out = codec.decode(codec.encode_piece(path))
        after = score_notes(out)
        assert key(after) == key(before)
        # velocities come back to their bin: same bin, never off by more than a bin
        vb = sorted((int(n["onset"]), int(n["pitch"]), codec._velocity_bin(int(n["velocity"])))
                    for n in before)
        va = sorted((int(n["onset"]), int(n["pitch"]), codec._velocity_bin(int(n["velocity"])))
                    for n in after)
        assert va == vb
        # the time-signature change comes back at the bar where it took effect
        sigs = sorted((int(t.time) // (out.tpq // 4), t.numerator, t.denominator)
                      for t in out.time_signatures)
        assert sigs == [(0, 3, 4), (48, 4, 4)]


def test_token_grammar_on_a_known_piece():
    # 3/4: C4 quarter on beat 1, E4+G4 eighths on beat 2; next bar empty; bar 3: D4
    score = make_score([(0, 4, 60, 100, 0), (4, 2, 64, 100, 0), (4, 2, 67, 100, 0),
                        (24, 12, 62, 100, 0)], ((0, 3, 4),))
    codec = MusicCodec(velocity_bins=0).fit([score])
    names = codec.token_names(codec.encode_piece(score))
    assert names == ["Bar", "TimeSig_3/4", "Pos_0", "Pitch_60", "Duration_4",
                     "Pos_4", "Pitch_64", "Duration_2", "Pitch_67", "Duration_2",
                     "Bar", "Bar", "Pos_0", "Pitch_62", "Duration_12"]
    # vocabulary: EOS, Bar, 1 time signature, 12 positions, pitches 60..67, 32 durations
    assert codec.vocab_size == 2 + 1 + 12 + 8 + 32


def test_stream_layout_separates_pieces_with_eos(tmp_path):
    rng = np.random.default_rng(1)
    paths = [write(tmp_path, f"p{i}.mid", make_score(random_piece(rng))) for i in range(3)]
    codec = MusicCodec().fit(tmp_path)  # a folder
    stream = codec.encode(tmp_path)
    docs = codec.encode_docs(paths)
    assert stream.dtype == np.int64 and stream.min() >= 0 and stream.max() < codec.vocab_size
    assert np.flatnonzero(stream == EOS).tolist() == \
        np.cumsum([0] + [len(d) + 1 for d in docs]).tolist()
    assert np.array_equal(stream, np.concatenate([[0], docs[0], [0], docs[1], [0], docs[2], [0]]))
    assert codec.schema.fields[0].levels == codec.vocab_size
    assert codec.count_units(paths) == 3 * 40 + 3


def test_json_round_trip_gives_the_same_codec(tmp_path):
    rng = np.random.default_rng(2)
    paths = [write(tmp_path, f"p{i}.mid", make_score(random_piece(rng, programs=(0, 5)),
                                                     ((0, 6, 8),))) for i in range(2)]
    codec = MusicCodec(programs=True, velocity_bins=4).fit(paths)
    again = codec_from_json(codec.to_json())
    assert isinstance(again, MusicCodec) and again.vocab_size == codec.vocab_size
    assert np.array_equal(again.encode(paths), codec.encode(paths))
    assert key(score_notes(again.decode(codec.encode_piece(paths[0])))) == key(score_notes(paths[0]))


def test_out_of_vocabulary_notes_are_moved_not_lost(tmp_path):
    train = make_score([(0, 4, 60, 90, 0), (4, 4, 72, 90, 0)])
    codec = MusicCodec(max_duration=8).fit([train])
    piece = make_score([(0, 4, 48, 90, 0), (4, 20, 61, 90, 0)], ((0, 5, 4),))
    notes = score_notes(codec.decode(codec.encode_piece(piece)))
    assert key(notes, ("onset", "duration", "pitch")) == [(0, 4, 60), (4, 8, 61)]


def test_decode_is_lenient_and_writes_playable_midi(tmp_path):
    rng = np.random.default_rng(3)
    codec = MusicCodec().fit([make_score(random_piece(rng))])
    ids = rng.integers(1, codec.vocab_size, size=500)
    score = codec.decode(ids)
    path = tmp_path / "g.mid"
    score.dump_midi(str(path))
    back = score_notes(path)
    assert back.size == score_notes(score).size
    durs = (ids >= codec._dur0).sum()
    assert 0 < back.size <= durs
    with pytest.raises(ValueError, match="EOS"):
        codec.decode([1, 5, 0, 1, 5])
    with pytest.raises(ValueError, match="outside"):
        codec.decode([codec.vocab_size])


def test_prompt_from_a_piece_or_ids(tmp_path):
    rng = np.random.default_rng(4)
    path = write(tmp_path, "a.mid", make_score(random_piece(rng)))
    codec = MusicCodec().fit([path])
    assert np.array_equal(codec.encode_prompt(path), codec.encode_piece(path))
    assert codec.encode_prompt([1, 3]).tolist() == [1, 3]
    with pytest.raises(ValueError, match="prompt"):
        codec.encode_prompt([0, 1])


def test_written_pieces_are_readable(tmp_path):
    rng = np.random.default_rng(5)
    path = write(tmp_path, "a.mid", make_score(random_piece(rng)))
    codec = MusicCodec().fit([path])
    out = codec.write_pieces([codec.encode_piece(path)], tmp_path / "out")
    assert [p.name for p in out] == ["sample_000.mid"]
    assert key(score_notes(out[0])) == key(score_notes(path))


@pytest.mark.parametrize("content", [b"\x00\x01garbage" * 50, "truncated"])
def test_corrupt_midi_is_a_clear_error_naming_the_file(tmp_path, content):
    good = write(tmp_path, "good.mid", make_score([(0, 4, 60, 90, 0)] * 1))
    if content == "truncated":
        content = good.read_bytes()[:30]
    bad = tmp_path / "bad.mid"
    bad.write_bytes(content)
    with pytest.raises(ValueError, match="bad.mid"):
        MusicCodec().fit([good, bad])
    codec = MusicCodec().fit([good])
    with pytest.raises(ValueError, match="bad.mid"):
        codec.encode(tmp_path)


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="resolution"):
        MusicCodec(resolution=0)
    with pytest.raises(ValueError, match="pitch_range"):
        MusicCodec(pitch_range=(80, 60))
    with pytest.raises(ValueError, match="not fitted"):
        MusicCodec().encode_piece(make_score([(0, 4, 60, 90, 0)]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no .mid"):
        MusicCodec().fit(tmp_path / "empty")
    with pytest.raises(ValueError, match="neither"):
        MusicCodec().fit("no/such/thing.mid")
    assert MusicCodec.accepts(tmp_path / "empty") is False
    assert MusicCodec.accepts("bach") and MusicCodec.accepts("essen:20")


def test_a_stray_far_event_is_refused_not_encoded_for_hours():
    codec = MusicCodec().fit([make_score([(0, 4, 60, 90, 0)])])
    with pytest.raises(ValueError, match="quarter notes long"):
        codec.encode_piece(make_score([(0, 4, 60, 90, 0), (4 * 150_000, 4, 62, 90, 0)]))


def test_merged_tracks_decode_with_the_most_common_program():
    score = make_score([(0, 4, 60, 90, 0)] + [(4 * i, 4, 64, 90, 40) for i in range(5)])
    codec = MusicCodec().fit([score])
    out = codec.decode(codec.encode_piece(score))
    assert [t.program for t in out.tracks] == [40]
    assert MusicCodec.from_json(codec.to_json()).program_ == 40


def test_overlong_bars_are_replaced_and_notes_still_come_back():
    free = make_score([(4 * i, 4, 60 + i % 5, 90, 0) for i in range(40)], ((0, 29, 4),))
    plain = make_score([(0, 4, 60, 90, 0)])
    codec = MusicCodec(max_bar=8).fit([free, plain])
    assert codec.time_sigs_ == [(4, 4)] and codec._n_pos == 16
    assert key(score_notes(codec.decode(codec.encode_piece(free)))) == key(score_notes(free))


def test_tokens_without_a_time_signature_decode_in_the_default_bar():
    score = make_score([(0, 4, 60, 90, 0), (12, 4, 62, 90, 0)], ((0, 3, 4),))
    codec = MusicCodec(velocity_bins=0).fit([score])
    ids = [t for t in codec.encode_piece(score) if codec.token_names([t])[0] != "TimeSig_3/4"]
    out = codec.decode(ids)
    assert [(t.numerator, t.denominator) for t in out.time_signatures] == [(3, 4)]
    assert key(score_notes(out)) == key(score_notes(score))
