"""The sequence contract, checked over every registered model whose modalities include
"text" (ngram, transformer, lstm, ...): nothing here names a model except the tiny
settings in FAST, so a newly registered sequence model is covered automatically."""

from __future__ import annotations

import numpy as np
import pytest

import genmodels as gm
from genmodels.models import registry

TEXT_MODELS = sorted(n for n, cls in registry().items() if "text" in cls.capabilities.modalities)
FAST = {
    "ngram": {"order": 4},
    "transformer": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 32,
                    "batch_size": 16, "steps": 300, "lr": 3e-3, "warmup": 10},
    "lstm": {"hidden": 32, "n_embd": 32, "bptt": 32, "batch_size": 16, "steps": 300,
             "lr": 3e-3, "warmup": 10},
}
RUN = {"threads": 1, "device": "cpu"}
WORDS = ["the cat sat on the mat", "a dog ran to the park", "the sun is warm",
         "we like to read", "it rains in spring"]


def corpus(n: int, seed: int) -> list[str]:
    """Short documents of a few fixed sentences (structure a model can learn fast)."""
    rng = np.random.default_rng(seed)
    return [". ".join(WORDS[i] for i in rng.integers(0, len(WORDS), rng.integers(1, 4))) + "."
            for _ in range(n)]


TRAIN, HELD_OUT = corpus(60, 0), corpus(12, 1)
ABAB = ["ab" * int(k) for k in np.random.default_rng(2).integers(10, 30, 40)]


def settings(name: str) -> dict:
    """FAST settings limited to the model's declared hyperparameters."""
    params = registry()[name].params
    return {k: v for k, v in FAST.get(name, {}).items() if k in params}


def fitted(name: str, data=TRAIN, seed: int = 0, **kw) -> gm.Generator:
    return gm.Generator(name, **settings(name)).fit(data, seed=seed, run=RUN, **kw)


@pytest.fixture(scope="module", params=TEXT_MODELS)
def gen(request) -> gm.Generator:
    return fitted(request.param)


def test_there_are_text_models():
    assert "ngram" in TEXT_MODELS


def test_samples_are_text_of_known_characters(gen):
    out = gen.sample(5, seed=1, max_tokens=60)
    assert isinstance(out, list) and len(out) == 5 and all(isinstance(s, str) for s in out)
    known = set("".join(TRAIN))
    assert set("".join(out)) <= known
    assert all(len(s) <= 60 for s in out) and sum(map(len, out)) > 0


def test_same_seed_same_text_other_seed_other_text(gen):
    a = gen.sample(4, seed=7, max_tokens=40)
    assert a == gen.sample(4, seed=7, max_tokens=40)
    assert a != gen.sample(4, seed=8, max_tokens=40)


def test_fit_is_deterministic(gen):
    again = fitted(gen.model_name)
    assert again.sample(3, seed=0, max_tokens=30) == gen.sample(3, seed=0, max_tokens=30)
    np.testing.assert_array_equal(again.log_prob(HELD_OUT), gen.log_prob(HELD_OUT))


def test_save_load_same_samples_and_log_prob(gen, tmp_path):
    back = gm.load(gen.save(tmp_path / "model"))
    assert back.sample(3, seed=5, max_tokens=40, prompt="the ") == \
        gen.sample(3, seed=5, max_tokens=40, prompt="the ")
    np.testing.assert_array_equal(back.log_prob(HELD_OUT), gen.log_prob(HELD_OUT))
    assert back.fit_info_["vocab_size"] == gen.codec.n_tokens


def test_log_prob_beats_a_uniform_model_on_held_out_text(gen):
    lp = gen.log_prob(HELD_OUT)
    assert lp.shape == (len(HELD_OUT),) and np.all(lp < 0)
    uniform = -np.array([len(d) + 1 for d in HELD_OUT]) * np.log(gen.codec.n_tokens)
    assert lp.sum() < 0 and lp.sum() > uniform.sum() + 0.3 * abs(uniform.sum())
    nll = gen.stream_nll(HELD_OUT[:1])  # one short document: the stream is that document
    assert nll["nats_per_char"] == pytest.approx(-lp[0] / (len(HELD_OUT[0]) + 1))
    assert nll["bits_per_char"] == pytest.approx(nll["nats_per_char"] / np.log(2))


def test_streaming_gives_the_returned_text(gen):
    pieces: dict[int, str] = {}
    out = gen.sample(2, seed=3, max_tokens=40, prompt="the",
                     on_text=lambda row, text: pieces.update({row: pieces.get(row, "") + text}))
    assert [pieces.get(i, "") for i in range(2)] == out


def test_decoding_filters_change_the_draws(gen):
    greedy = gen.sample(3, seed=4, max_tokens=30, top_k=1)
    assert len(set(greedy)) == 1  # top-k = 1 is greedy: every row the same
    assert gen.sample(3, seed=99, max_tokens=30, top_k=1) == greedy  # seed-independent
    cool = gen.sample(20, seed=4, max_tokens=30, temperature=0.3)
    hot = gen.sample(20, seed=4, max_tokens=30, temperature=3.0)
    assert len(set(cool)) < len(set(hot)) or set("".join(cool)) < set("".join(hot))


@pytest.mark.parametrize("name", TEXT_MODELS)
def test_prompt_is_continued(name):
    gen = fitted(name, data=ABAB)
    out = [s for s in gen.sample(8, seed=0, prompt="ab", max_tokens=20) if s]
    text = "".join(out)  # (a row may end at once: the model drew the end of the document)
    assert len(out) >= 4 and np.mean([s.startswith("ab") for s in out]) >= 0.75
    assert text.count("ab") >= 0.8 * len(text) / 2


def test_prompt_longer_than_the_context_is_a_clear_error(gen):
    ctx = gen.model.context
    if ctx is None:  # reads a prompt of any length (LSTM state, n-gram Markov window)
        long = "the cat sat on the mat. " * 40
        assert all(isinstance(s, str) for s in gen.sample(2, seed=0, prompt=long, max_tokens=5))
        return
    prompt = ("the cat sat on the mat. " * (ctx // 10 + 2))[: ctx + 20]
    with pytest.raises(ValueError, match="longer than .*context"):
        gen.sample(2, seed=0, prompt=prompt, max_tokens=20)
    fits = prompt[-(ctx - 1):]  # the longest prompt that fits is accepted
    assert all(isinstance(s, str) for s in gen.sample(2, seed=0, prompt=fits, max_tokens=5))


def test_bad_input_is_a_clear_error(gen, tmp_path):
    name = gen.model_name
    empty, binary = tmp_path / "empty.txt", tmp_path / "bin.txt"
    empty.write_text("", "utf-8")
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(ValueError, match="empty"):
        fitted(name, data=empty)
    with pytest.raises(ValueError, match="NUL|UTF-8"):
        fitted(name, data=binary)
    with pytest.raises(ValueError, match=r"prompt: character '#'"):
        gen.sample(1, seed=0, prompt="the #")
    with pytest.raises(ValueError, match="max_tokens"):
        gen.sample(1, seed=0, max_tokens=0)
    with pytest.raises(ValueError, match="condition"):
        gen.sample(1, seed=0, condition={"a": 1})
    with pytest.raises(ValueError, match="sequence model"):
        gm.Generator(name, **settings(name)).fit(gm.datasets.load("penguins"))


def test_fine_tuning_keeps_the_vocabulary(gen, tmp_path):
    path = gen.save(tmp_path / "base")
    tuned = fitted(gen.model_name, data=HELD_OUT, init_from=path)
    assert tuned.codec.to_json() == gen.codec.to_json()
    assert tuned.sample(2, seed=0, max_tokens=20) == tuned.sample(2, seed=0, max_tokens=20)
    with pytest.raises(ValueError, match="character '#'"):
        fitted(gen.model_name, data=["new # text"], init_from=gen)


def test_a_table_model_refuses_text(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("some text", "utf-8")
    with pytest.raises(ValueError, match="text corpus"):
        gm.Generator("independent").fit(path)
    with pytest.raises(ValueError, match="text corpus"):
        gm.Generator("independent").fit(["a list", "of documents"])


# ------------------------------------------------------------------ music
# The same contract on MIDI: a few Bach chorales (converted once into a temporary cache),
# tiny settings; every model whose modalities include "music".
MUSIC_MODELS = sorted(n for n, cls in registry().items()
                      if "music" in cls.capabilities.modalities)
MUSIC_FAST = {
    "ngram": {"order": 4},
    "transformer": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 128,
                    "batch_size": 8, "steps": 40, "lr": 3e-3, "warmup": 5},
    "lstm": {"hidden": 32, "n_embd": 32, "bptt": 32, "batch_size": 8, "steps": 40,
             "lr": 3e-3, "warmup": 5},
}
MUSIC_TOKENS = 200


@pytest.fixture(scope="module")
def chorales(tmp_path_factory) -> list:
    """Paths of 4 chorales: 3 to fit, 1 held out."""
    pytest.importorskip("symusic")
    pytest.importorskip("music21")
    from genmodels.music.corpus import bundled_music

    root = tmp_path_factory.mktemp("music")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENMODELS_CACHE", str(root / "cache"))
        mp.setenv("TMPDIR", str(root))  # music21 keeps its scratch files there
        return bundled_music("bach", limit=4)


@pytest.fixture(scope="module", params=MUSIC_MODELS)
def music_gen(request, chorales) -> gm.Generator:
    import torch

    name = request.param
    params = registry()[name].params
    kw = {k: v for k, v in MUSIC_FAST.get(name, {}).items() if k in params}
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield gm.Generator(name, **kw).fit(chorales[:3], seed=0, run=RUN)
    finally:
        torch.set_num_threads(old)


def _midi_bytes(pieces) -> list[bytes]:
    return [bytes(p.dumps_midi()) for p in pieces]


def test_there_are_music_models():
    assert {"ngram", "transformer", "lstm"} <= set(MUSIC_MODELS)


def test_music_samples_are_valid_midi(music_gen, tmp_path):
    import symusic

    codec = music_gen.codec
    pieces = music_gen.sample(3, seed=1, max_tokens=MUSIC_TOKENS)
    assert len(pieces) == 3
    for i, piece in enumerate(pieces):
        path = tmp_path / f"p{i}.mid"
        piece.dump_midi(str(path))
        back = symusic.Score(str(path))
        notes = [n for t in back.tracks for n in t.notes]
        assert notes, f"piece {i} has no notes"
        pitches = np.array([n.pitch for n in notes])
        assert pitches.min() >= codec.pitch_lo_ and pitches.max() <= codec.pitch_hi_
        assert 0 <= pitches.min() and pitches.max() <= 127
        assert all(n.duration > 0 for n in notes)


def test_music_same_seed_same_bytes(music_gen):
    a = _midi_bytes(music_gen.sample(2, seed=7, max_tokens=MUSIC_TOKENS))
    assert a == _midi_bytes(music_gen.sample(2, seed=7, max_tokens=MUSIC_TOKENS))
    assert a != _midi_bytes(music_gen.sample(2, seed=8, max_tokens=MUSIC_TOKENS))


def test_music_save_load_round_trip(music_gen, chorales, tmp_path):
    back = gm.load(music_gen.save(tmp_path / "model"))
    assert _midi_bytes(back.sample(2, seed=5, max_tokens=MUSIC_TOKENS)) == \
        _midi_bytes(music_gen.sample(2, seed=5, max_tokens=MUSIC_TOKENS))
    held_out = chorales[3:]
    np.testing.assert_array_equal(back.log_prob(held_out), music_gen.log_prob(held_out))
    # and the likelihood of the held-out chorale beats a uniform model over the events
    nll = back.stream_nll(held_out)
    assert 0 < nll["nats_per_token"] < np.log(back.codec.vocab_size)


def test_music_prompt_is_the_start_of_the_piece(music_gen, chorales):
    from genmodels.codecs.music import BAR
    from genmodels.music.notes import score_notes

    codec = music_gen.codec
    tokens = codec.encode_piece(chorales[0])
    prompt = tokens[: np.flatnonzero(tokens == BAR)[2] + 1]  # two bars, then the third's Bar
    ctx = music_gen.model.context
    assert ctx is None or prompt.size < ctx
    expected, _ = codec.decode_notes(prompt)
    assert expected.size >= 4
    key = ["onset", "duration", "pitch"]
    for piece in music_gen.sample(2, seed=2, max_tokens=60, prompt=prompt):
        got = score_notes(piece, codec.resolution)
        assert got.size > expected.size  # the prompt's notes, then new ones
        head = np.sort(got[: expected.size][key], order=key)
        np.testing.assert_array_equal(head, np.sort(expected[key], order=key))
        assert got["onset"][expected.size:].min() > expected["onset"].max()
    # the prompt is the chorale's opening: the same notes up to its last onset
    original = score_notes(chorales[0], codec.resolution)
    opening = original[original["onset"] <= expected["onset"].max()]
    assert {(int(o), int(p)) for o, p in opening[["onset", "pitch"]].tolist()} == \
        {(int(o), int(p)) for o, p in expected[["onset", "pitch"]].tolist()}
