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
