"""The text codec: char and byte-level BPE, stream layout, JSON round trip, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genmodels.codecs import codec_from_json
from genmodels.codecs.text import TextCodec, is_text_input, read_documents

DOCS = ["To be, or not to be: that is the question.\n", "Whether 'tis nobler in the mind",
        "naïve café — 日本語 ✓"]


def test_char_vocabulary_and_stream_layout():
    codec = TextCodec().fit(DOCS)
    chars = sorted(set("".join(DOCS)))
    assert codec.chars_ == chars and codec.n_tokens == len(chars) + 1
    stream = codec.encode(DOCS)
    eos = np.flatnonzero(stream == 0)
    assert eos.tolist() == [0, 1 + len(DOCS[0]), 2 + len(DOCS[0]) + len(DOCS[1]),
                            stream.size - 1]
    assert stream.dtype == np.int64 and stream.max() == codec.n_tokens - 1
    assert codec.decode(stream[1:eos[1]]) == DOCS[0]
    assert [codec.decode(d) for d in codec.encode_docs(DOCS)] == DOCS


def test_char_ids_follow_the_sorted_characters():
    codec = TextCodec().fit("cab")
    assert codec.encode_text("abc").tolist() == [1, 2, 3]


def test_bpe_round_trip_json_and_eos_id():
    corpus = [" ".join(["the quick brown fox jumps over the lazy dog"] * 20), *DOCS]
    codec = TextCodec(kind="bpe", vocab_size=300).fit(corpus)
    assert 257 < codec.n_tokens <= 300
    stream = codec.encode(corpus)
    assert stream[0] == 0 and stream[-1] == 0 and np.sum(stream == 0) == len(corpus) + 1
    ids = codec.encode_text("the quick brown fox")
    assert 0 < ids.size < len("the quick brown fox")  # merges were learnt
    for doc, enc in zip(corpus, codec.encode_docs(corpus), strict=True):
        assert codec.decode(enc) == doc  # byte-level: every character round-trips
    back = codec_from_json(json.loads(json.dumps(codec.to_json())))
    assert isinstance(back, TextCodec) and back.kind == "bpe"
    np.testing.assert_array_equal(back.encode(corpus), stream)
    assert back.decode(back.encode_text("日本 ✓ unseen")) == "日本 ✓ unseen"


def test_bpe_training_is_deterministic():
    corpus = ["abracadabra " * 30, "alakazam " * 30]
    a = TextCodec(kind="bpe", vocab_size=280).fit(corpus).to_json()
    b = TextCodec(kind="bpe", vocab_size=280).fit(corpus).to_json()
    assert a == b


def test_char_json_round_trip():
    codec = TextCodec().fit(DOCS)
    back = codec_from_json(json.loads(json.dumps(codec.to_json())))
    np.testing.assert_array_equal(back.encode(DOCS), codec.encode(DOCS))


def test_inputs_file_folder_str_list(tmp_path):
    (tmp_path / "b.txt").write_text("second", "utf-8")
    (tmp_path / "a.txt").write_text("\ufefffirst\r\nline", "utf-8")  # BOM and CRLF
    (tmp_path / "skip.md").write_text("not text", "utf-8")
    assert read_documents(tmp_path) == ["first\nline", "second"]
    assert read_documents(str(tmp_path / "b.txt")) == ["second"]
    assert read_documents("just text") == ["just text"]
    assert is_text_input(tmp_path) and is_text_input(["a"]) and not is_text_input("penguins")


@pytest.mark.parametrize("content, needle", [
    (b"", "empty"), (b"  \n", "empty"), (b"abc\x00def", "NUL"),
    (b"caf\xe9 au lait", "not UTF-8"),
])
def test_bad_files_name_the_problem(tmp_path, content, needle):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=needle) as e:
        TextCodec().fit(path)
    assert "bad.txt" in str(e.value)


def test_bad_corpora(tmp_path):
    with pytest.raises(ValueError, match="no .txt file"):
        read_documents(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        read_documents(str(tmp_path / "nope.txt"))
    with pytest.raises(ValueError, match="empty"):
        read_documents([])
    with pytest.raises(ValueError, match=r"data\[1\]: empty document"):
        read_documents(["a", ""])
    with pytest.raises(ValueError, match=r"data\[0\]: got int"):
        read_documents([3])


def test_unknown_prompt_character_is_named_with_the_known_ones():
    codec = TextCodec().fit("abc ")
    with pytest.raises(ValueError, match=r"prompt: character 'z' \(U\+007A\).*known characters: ' abc'"):
        codec.encode_text("abz")


def test_bad_options():
    with pytest.raises(ValueError, match="kind"):
        TextCodec(kind="word")
    with pytest.raises(ValueError, match="vocab_size"):
        TextCodec(kind="bpe", vocab_size=100)
    with pytest.raises(ValueError, match="not fitted"):
        TextCodec().encode_text("a")
