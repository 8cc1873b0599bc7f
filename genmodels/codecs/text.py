"""The ``text`` codec: a corpus of documents <-> one token stream (characters or
byte-level BPE), with the reserved id 0 (EOS) separating documents.

Input: a ``.txt`` path (one document), a folder of ``.txt`` files (one document each,
in name order), a ``str`` (one document) or a list of ``str``. The vocabulary (a
character list, or the ``tokenizers`` BPE JSON) is kept in ``codec.json``; no pickle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genmodels.codecs.base import Codec, register_codec
from genmodels.models.base import Field, Schema

EOS = 0
EOS_TOKEN = "<|endoftext|>"
KINDS = ("char", "bpe")
MIN_BPE_VOCAB = 260
"""256 byte tokens + EOS + a few merges: the smallest BPE vocabulary accepted."""


def _is_text_path(data: Any) -> bool:
    if isinstance(data, Path):
        return True
    return isinstance(data, str) and "\n" not in data and len(data) < 4096 and (
        data.lower().endswith(".txt") or Path(data).is_dir())


def is_text_input(data: Any) -> bool:
    """Whether ``data`` looks like a text corpus: a .txt path, a folder of .txt files,
    or a non-empty list of str."""
    if isinstance(data, Path | str) and _is_text_path(data):
        p = Path(data)
        return p.suffix.lower() == ".txt" or (p.is_dir() and any(p.glob("*.txt")))
    return isinstance(data, list | tuple) and bool(data) and all(isinstance(d, str) for d in data)


def _read_file(path: Path, what: str) -> str:
    raw = path.read_bytes()
    if not raw.strip():
        raise ValueError(f"{what}: {str(path)!r} is empty; allowed: a UTF-8 text file "
                         "with some text")
    if b"\x00" in raw:
        raise ValueError(f"{what}: {str(path)!r} contains NUL bytes (a binary file?); "
                         "allowed: UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{what}: {str(path)!r} is not UTF-8 text (byte {e.start}: "
                         f"{e.reason}); allowed: UTF-8 text") from None
    return text.replace("\r\n", "\n")


def read_documents(data: Any, what: str = "data") -> list[str]:
    """The documents of a corpus (see the module docstring), or a clear ``ValueError``."""
    if isinstance(data, Path | str) and _is_text_path(data):
        p = Path(data)
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.suffix.lower() == ".txt" and f.is_file())
            if not files:
                raise ValueError(f"{what}: folder {str(p)!r} holds no .txt file; allowed: a "
                                 "folder of UTF-8 .txt files (one document each)")
            return [_read_file(f, what) for f in files]
        if not p.is_file():
            raise ValueError(f"{what}: file {str(p)!r} does not exist")
        return [_read_file(p, what)]
    if isinstance(data, str):
        docs = [data]
    elif isinstance(data, list | tuple):
        docs = list(data)
    else:
        raise ValueError(f"{what}: got {type(data).__name__}; allowed: a .txt path, a folder "
                         "of .txt files, a str or a list of str")
    if not docs:
        raise ValueError(f"{what}: the list is empty; allowed: a non-empty list of str")
    for i, d in enumerate(docs):
        if not isinstance(d, str):
            raise ValueError(f"{what}[{i}]: got {type(d).__name__}; allowed: str")
        if not d:
            raise ValueError(f"{what}[{i}]: empty document; allowed: non-empty text")
        if "\x00" in d:
            raise ValueError(f"{what}[{i}]: contains NUL characters; allowed: text")
    return docs


@register_codec
class TextCodec(Codec):
    """Characters or byte-level BPE <-> token ids; id 0 is EOS (document separator)."""

    name = "text"
    input_type = "text"
    unit = "char"

    def __init__(self, *, kind: str = "char", vocab_size: int = 2000) -> None:
        super().__init__(inputs="discrete")
        if kind not in KINDS:
            raise ValueError(f"kind: got {kind!r}; allowed: {', '.join(map(repr, KINDS))}")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int | np.integer) \
                or (kind == "bpe" and vocab_size < MIN_BPE_VOCAB):
            raise ValueError(f"vocab_size: got {vocab_size!r}; allowed: an integer >= "
                             f"{MIN_BPE_VOCAB} (256 bytes + EOS + merges)")
        self.kind = kind
        self.vocab_size = int(vocab_size)
        self.chars_: list[str] | None = None
        self._index: dict[str, int] = {}
        self._tokenizer: Any = None

    @classmethod
    def accepts(cls, data: Any) -> bool:
        return is_text_input(data)

    # ------------------------------------------------------------------ fit
    def fit(self, data: Any, *, seed: int = 0) -> TextCodec:
        docs = read_documents(data)
        if self.kind == "char":
            self._set_chars(sorted(set().union(*map(set, docs))))
        else:
            self._set_tokenizer(_train_bpe(docs, self.vocab_size))
        return self

    def _set_chars(self, chars: list[str]) -> None:
        self.chars_ = list(chars)
        self._index = {c: i + 1 for i, c in enumerate(self.chars_)}
        self.schema_ = Schema((Field("token", "discrete", len(self.chars_) + 1),))

    def _set_tokenizer(self, tok: Any) -> None:
        self._tokenizer = tok
        if tok.token_to_id(EOS_TOKEN) != EOS:
            raise ValueError(f"codec.json: the BPE vocabulary must map {EOS_TOKEN!r} to id 0")
        self.schema_ = Schema((Field("token", "discrete", tok.get_vocab_size()),))

    @property
    def n_tokens(self) -> int:
        """Vocabulary size including EOS."""
        return self.schema.fields[0].levels

    # -------------------------------------------------------------- encode
    def encode_text(self, text: str, *, what: str = "prompt") -> np.ndarray:
        """One text -> its token ids ``(m,)`` int64 (no EOS). Unknown characters (char
        codec) raise a ValueError naming them and the known ones."""
        self.schema  # noqa: B018  (raises when not fitted)
        if not isinstance(text, str):
            raise ValueError(f"{what}: got {type(text).__name__}; allowed: str")
        if self.kind == "bpe":
            ids = self._tokenizer.encode(text, add_special_tokens=False).ids
            return np.asarray(ids, dtype=np.int64)
        try:
            return np.fromiter((self._index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as e:
            c = e.args[0]
            known = "".join(self.chars_).encode("unicode_escape").decode()
            raise ValueError(f"{what}: character {c!r} (U+{ord(c):04X}) is not in the "
                             f"vocabulary of this model; known characters: {known!r}") from None

    encode_prompt = encode_text

    def encode_docs(self, data: Any, what: str = "data") -> list[np.ndarray]:
        """A corpus -> one id array per document."""
        return [self.encode_text(d, what=f"{what}[{i}]" if i else what)
                for i, d in enumerate(read_documents(data, what))]

    def encode(self, data: Any) -> np.ndarray:
        """A corpus -> one stream ``[EOS, d1..., EOS, d2..., EOS]``: ``(N,)`` int64."""
        parts = [np.zeros(1, np.int64)]
        for ids in self.encode_docs(data):
            parts += [ids, np.zeros(1, np.int64)]
        return np.concatenate(parts)

    def count_units(self, data: Any) -> int:
        """Characters in a corpus, plus one per document end (EOS)."""
        docs = read_documents(data)
        return sum(len(d) for d in docs) + len(docs)

    # -------------------------------------------------------------- decode
    def decode(self, x: Any, *, condition: Mapping[str, Any] | None = None,
               seed: int = 0) -> str:
        """Token ids ``(m,)`` -> text; EOS ids are dropped."""
        ids = [int(i) for i in np.asarray(x).ravel() if int(i) != EOS]
        if self.kind == "bpe":
            return self._tokenizer.decode(ids, skip_special_tokens=True)
        return "".join(self.chars_[i - 1] for i in ids)

    def decode_many(self, rows: Sequence[Any]) -> list[str]:
        return [self.decode(r) for r in rows]

    def log_det_jacobian(self, data: Any) -> np.ndarray:
        return np.zeros(len(read_documents(data)))

    def encode_condition(self, condition: Mapping[str, Any]) -> dict[int, float]:
        raise ValueError("condition: text models take a prompt, not a condition")

    def n_rows(self, data: Any) -> int:
        return len(read_documents(data))

    def summary(self) -> list[dict[str, Any]]:
        """One row for ``genmodels info``."""
        return [{"name": f"{self.kind} tokens", "kind": "text", "levels": self.n_tokens}]

    # ---------------------------------------------------------------- json
    def to_json(self) -> dict:
        out: dict[str, Any] = {"codec": self.name, "kind": self.kind,
                               "vocab_size": self.vocab_size}
        if self.kind == "char":
            out["chars"] = self.chars_
        else:
            import json

            out["tokenizer"] = json.loads(self._tokenizer.to_str())
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TextCodec:
        codec = cls(kind=data.get("kind", "char"), vocab_size=int(data.get("vocab_size", 2000)))
        if codec.kind == "char":
            chars = data.get("chars")
            if not isinstance(chars, list) or not all(isinstance(c, str) for c in chars):
                raise ValueError("codec.json: 'chars' must be a list of characters")
            codec._set_chars(chars)
        else:
            import json

            from tokenizers import Tokenizer

            codec._set_tokenizer(Tokenizer.from_str(json.dumps(data["tokenizer"])))
        return codec


def _train_bpe(docs: list[str], vocab_size: int) -> Any:
    """A byte-level BPE tokenizer trained on ``docs`` (deterministic), EOS at id 0."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS_TOKEN],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(docs, trainer=trainer)
    return tok
