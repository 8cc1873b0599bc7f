"""The Generator's sequence path: a sequence codec (text, music) plus a
:class:`~genmodels.models._sequence.SequenceModel`.

A sequence codec is any registered codec class with ``input_type`` (``"text"``,
``"music"``), a classmethod ``accepts(data)``, ``fit(data)``, ``encode(data)`` -> one
token stream, ``encode_docs(data)`` -> one id array per document, ``encode_prompt(p)``,
``decode(ids)`` -> one document, and optionally ``count_units(data)`` (characters,
events) and ``unit`` (their name) for per-unit likelihoods.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from genmodels.models._sequence import Decoding, SequenceModel

if TYPE_CHECKING:
    from genmodels.generator import Generator

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 256
OnText = Callable[[int, str], None]
"""``on_text(row, text)``: new text of a row, as it is generated."""


def is_sequence(gen: Generator) -> bool:
    return isinstance(gen.model, SequenceModel)


def sequence_codec_class(data: Any) -> type | None:
    """The registered sequence codec that accepts ``data``, or None."""
    from genmodels import codecs  # noqa: F401  (registers the built-in codecs)
    from genmodels.codecs.base import _CODECS

    for cls in _CODECS.values():
        accepts = getattr(cls, "accepts", None)
        if getattr(cls, "input_type", None) and callable(accepts) and accepts(data):
            return cls
    return None


def check_table_input(gen: Generator, data: Any) -> None:
    """A table model given a corpus: a clear error instead of a confusing one later."""
    cls = sequence_codec_class(data)
    if cls is not None:
        raise ValueError(f"data: looks like a {cls.input_type} corpus, but {gen.model_name!r} "
                         "models tables; use a sequence model (ngram, transformer, lstm)")


_FILE_SUFFIXES = {".csv", ".parquet", ".pq", ".npz", ".npy", ".mid", ".midi", ".json"}


def _raw_text(data: Any) -> bool:
    """A str that is text itself, not the name of a file."""
    return isinstance(data, str) and bool(data) and ("\n" in data or (
        Path(data).suffix.lower() not in _FILE_SUFFIXES and not Path(data).exists()))


def _codec_for(gen: Generator, data: Any) -> Any:
    from genmodels.codecs.base import _CODECS

    cls = sequence_codec_class(data)
    if isinstance(data, str) and "\n" not in data and not Path(data).exists():
        from genmodels import datasets

        if data in datasets.names():
            raise ValueError(f"data: {data!r} is a bundled table dataset; {gen.model_name!r} "
                             "models sequences (text: a .txt file, a folder of .txt files, "
                             "a str or a list of str)")
    if cls is None and (_raw_text(data) or isinstance(data, str | Path) and Path(data).is_dir()):
        cls = _CODECS["text"]  # raw text, or a folder: the text codec says what is wrong
    if cls is None:
        shown = type(data).__name__ if not isinstance(data, str | Path) else repr(str(data))
        raise ValueError(f"data: {gen.model_name!r} is a sequence model; got {shown}; allowed: "
                         "a .txt file, a folder of .txt files, a str or a list of str (text), "
                         "or MIDI files (music)")
    try:
        return cls(**gen.codec_options)
    except TypeError as e:
        raise ValueError(f"codec_options: {e}") from None


def _init_generator(init_from: Any, gen: Generator) -> Generator:
    from genmodels.generator import Generator, load

    init = load(init_from) if isinstance(init_from, str | Path) else init_from
    if not isinstance(init, Generator) or not init.fitted:
        raise ValueError(f"init_from: got {type(init_from).__name__}; allowed: a saved model "
                         "directory or a fitted Generator")
    if init.model_name != gen.model_name:
        raise ValueError(f"init_from: holds a {init.model_name!r} model; fine-tuning needs the "
                         f"same family ({gen.model_name!r})")
    return init


def fit_sequence(gen: Generator, data: Any, *, seed: int, budget: float | None, run: Any,
                 init_from: Any = None) -> None:
    """Fit ``gen``'s codec (or take the codec of ``init_from``) and its sequence model."""
    start = time.perf_counter()
    init = _init_generator(init_from, gen) if init_from is not None else None
    if init is not None:
        codec = init.codec
        if gen.codec_options:
            log.info("init_from: the codec (vocabulary) of the initial model is used; "
                     "codec_options are ignored")
    else:
        codec = _codec_for(gen, data)
        codec.fit(data, seed=seed)
    stream = codec.encode(data)
    vocab = codec.schema.fields[0].levels
    remaining = None if budget is None else max(budget - (time.perf_counter() - start), 1e-3)
    gen.model.fit_tokens(stream, vocab_size=vocab, seed=seed, budget=remaining, run=run,
                         init_from=init.model if init is not None else None)
    gen.codec = codec
    gen._input_type = codec.input_type
    n_docs = int(np.sum(stream == 0)) - 1
    gen._record_fit(start=start, seed=seed, run=run, info={
        "n_rows": n_docs, "n_columns": 1, "n_fields": 1,
        "n_documents": n_docs, "n_tokens": int(stream.size), "vocab_size": int(vocab),
        "tokenizer": getattr(codec, "kind", codec.name),
        "data_fingerprint": stream_fingerprint(stream, codec.to_json()),
        "input_type": codec.input_type,
        "init_from": str(init_from) if isinstance(init_from, str | Path) else
        (init.fit_info_ or {}).get("data_fingerprint") if init is not None else None,
    })


def stream_fingerprint(stream: np.ndarray, codec_json: Mapping[str, Any]) -> str:
    import json

    h = hashlib.sha256(np.ascontiguousarray(stream, dtype=np.int64).tobytes())
    h.update(json.dumps(codec_json, sort_keys=True).encode())
    return "sha256:" + h.hexdigest()


def sample_sequence(gen: Generator, n: int, *, seed: int, prompt: str | None = None,
                    max_tokens: int | None = None, temperature: float = 1.0,
                    top_k: int | None = None, top_p: float | None = None,
                    on_text: OnText | None = None) -> list[Any]:
    """``n`` continuations of ``prompt`` (new text only; a new document without one)."""
    codec, model = gen.codec, gen.model
    max_tokens = DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens
    decoding = Decoding(temperature=temperature, top_k=top_k, top_p=top_p)
    empty = prompt is None or (isinstance(prompt, str) and not prompt)
    ids = np.zeros(0, np.int64) if empty else np.asarray(codec.encode_prompt(prompt), np.int64)
    on_token = _Streamer(codec, n, on_text) if on_text is not None else None
    rows = model.generate(n, seed=seed, max_tokens=max_tokens, prompt=ids, decoding=decoding,
                          on_token=on_token)
    if getattr(codec, "input_type", None) == "music":  # a continuation needs its prompt's bars
        return [codec.decode(np.concatenate([ids, r])) for r in rows]
    return [codec.decode(r) for r in rows]


class _Streamer:
    """Turns ``on_token(row, id)`` into ``on_text(row, new_text)``; holds back a partial
    UTF-8 character (byte-level BPE) until it is complete."""

    def __init__(self, codec: Any, n: int, on_text: OnText) -> None:
        self.codec, self.on_text = codec, on_text
        self.ids: list[list[int]] = [[] for _ in range(n)]
        self.sent = [0] * n

    def __call__(self, row: int, token: int) -> None:
        self.ids[row].append(token)
        text = self.codec.decode(self.ids[row])
        if not isinstance(text, str) or text.endswith("\ufffd"):
            return
        new = text[self.sent[row]:]
        if new:
            self.sent[row] = len(text)
            self.on_text(row, new)


def log_prob_sequence(gen: Generator, data: Any) -> np.ndarray:
    """Exact ``log p(document, EOS)`` in nats per document: ``(n_docs,)``."""
    return gen.model.log_prob_tokens(gen.codec.encode_docs(data))


def stream_nll(gen: Generator, data: Any) -> dict[str, float]:
    """Held-out likelihood of a corpus read as one stream: nats and bits per token and
    per unit (character for text; document ends count as one unit), perplexity."""
    codec = gen.codec
    stream = codec.encode(data)
    nats = gen.model.stream_nll(stream) * (stream.size - 1)
    out = {"n_tokens": int(stream.size - 1), "nats_per_token": nats / (stream.size - 1)}
    out["bits_per_token"] = out["nats_per_token"] / np.log(2)
    out["perplexity"] = float(np.exp(out["nats_per_token"]))
    count = getattr(codec, "count_units", None)
    if callable(count):
        unit = getattr(codec, "unit", "unit")
        units = count(data)
        out[f"n_{unit}s"] = int(units)
        out[f"nats_per_{unit}"] = nats / units
        out[f"bits_per_{unit}"] = nats / units / np.log(2)
    return {k: float(v) if isinstance(v, float | np.floating) else v for k, v in out.items()}
