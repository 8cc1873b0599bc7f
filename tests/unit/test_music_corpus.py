"""Bundled corpora: converted once with music21, cached atomically, loaded fast."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("music21")
pytest.importorskip("symusic")

from genmodels.music import corpus  # noqa: E402
from genmodels.music.notes import score_notes, time_signatures  # noqa: E402


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # music21 keeps its scratch files there
    return tmp_path / "cache" / "music"


def folder(name):
    return corpus.cache_dir(name)


def test_bach_is_converted_once_then_read_from_the_cache(cache, monkeypatch):
    paths = corpus.bundled_music("bach", limit=2)
    assert folder("bach").parent == cache
    assert [p.parent for p in paths] == [folder("bach")] * 2
    for p in paths:
        notes = score_notes(p)
        assert notes.size > 100  # a four-voice chorale
        assert len({int(n) for n in notes["program"]}) == 1
    index = json.loads((folder("bach") / "index.json").read_text())
    assert len(index["pieces"]) == 350 and index["pieces"][:2] == [p.stem for p in paths]
    assert not list(folder("bach").glob(".*tmp"))  # atomic writes leave nothing behind

    def no_conversion(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(corpus, "_convert_corpus", no_conversion)
    assert corpus.bundled_music("bach", limit=2) == paths
    assert corpus.bundled_music("bach", limit=1) == paths[:1]


def test_pickup_bars_are_shifted_onto_the_bar_grid(cache):
    path = corpus.bundled_music("bach", limit=1)[0]  # bwv269: 3/4 with a one-beat pickup
    assert path.stem == "bwv269"
    assert time_signatures(path)[0] == (0, 3, 4)
    assert int(score_notes(path)["onset"].min()) == 8  # the downbeat falls on step 12


def test_essen_tunes_and_a_broken_index(cache):
    paths = corpus.bundled_music("essen", limit=2)
    assert [p.stem for p in paths] == ["altdeu10_1", "altdeu10_2"]
    assert all(score_notes(p).size > 10 for p in paths)
    (folder("essen") / "index.json").write_text("{not json")
    assert corpus.bundled_music("essen", limit=2) == paths


def test_music_sources_resolves_inputs(cache, tmp_path):
    paths = corpus.bundled_music("bach", limit=2)
    assert corpus.music_sources("bach:2") == paths
    assert corpus.music_sources(folder("bach")) == sorted(paths)
    assert corpus.music_sources([str(paths[0]), paths[1]]) == [paths[0], paths[1]]
    assert corpus.is_music_input(paths[0]) and not corpus.is_music_input(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="name"):
        corpus.bundled_music("mozart")
    with pytest.raises(ValueError, match="limit"):
        corpus.bundled_music("bach", limit=0)
    with pytest.raises(ValueError, match="empty"):
        corpus.music_sources([])


def test_text_is_not_taken_for_music(tmp_path):
    assert not corpus.is_music_input("x" * 5000)
    assert not corpus.is_music_input("a line\nanother line")
    assert not corpus.is_music_input(["some text", "more text"])
    (tmp_path / "a.txt").write_text("hello")
    assert not corpus.is_music_input(tmp_path)
