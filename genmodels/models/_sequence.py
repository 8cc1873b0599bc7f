"""The contract of autoregressive sequence models (text, music): a token stream in,
token sequences out.

A sequence codec (``genmodels.codecs.text``, ``genmodels.codecs.music``) turns a corpus
into one int64 stream of token ids ``0..vocab_size-1`` in which the reserved id
:data:`EOS` (0) separates documents: ``[EOS, d1..., EOS, d2..., EOS]``. A model learns
``p(t_i | t_<i)`` on that stream; it starts a new document after ``EOS`` and ends one by
emitting ``EOS``. Every method takes and returns token ids; text and MIDI are the codec's
business.

Subclasses implement ``_fit_tokens``, ``_next_log_probs`` or ``_generate``,
``_stream_log_probs``, ``state``, ``extra`` and ``load_state``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genmodels.models.base import Field, Model, Schema, _check_seed

EOS = 0
"""Token id that separates documents (codecs reserve it)."""

OnToken = Callable[[int, int], None]
"""``on_token(row, token_id)``: called as each token is drawn (streaming output)."""


@dataclass(frozen=True)
class Decoding:
    """How to turn next-token probabilities into a draw: temperature, top-k, top-p."""

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None

    def __post_init__(self) -> None:
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, int | float) or not np.isfinite(t) or t <= 0:
            raise ValueError(f"temperature: got {t!r}; allowed: a positive number")
        k = self.top_k
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"top_k: got {k!r}; allowed: a positive integer or None")
        p = self.top_p
        if p is not None and (isinstance(p, bool) or not isinstance(p, int | float)
                              or not 0 < p <= 1):
            raise ValueError(f"top_p: got {p!r}; allowed: a number in (0, 1] or None")


def check_tokens(name: str, tokens: Any, vocab_size: int) -> np.ndarray:
    """``tokens`` as a 1-D int64 array of ids in ``0..vocab_size-1``, or a clear error."""
    arr = np.asarray(tokens)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence of token ids, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name}: token ids must be integers")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= vocab_size):
        bad = int(arr[(arr < 0) | (arr >= vocab_size)][0])
        raise ValueError(f"{name}: token id {bad} is outside 0..{vocab_size - 1}")
    return arr


class SequenceModel(Model):
    """Base of autoregressive models over one token stream (see the module docstring).

    The table methods of :class:`Model` (``fit(x)``, ``sample(n)``, ``log_prob(x)``) are
    replaced by ``fit_tokens``, ``generate`` and ``log_prob_tokens``/``stream_nll``.
    ``schema_`` is one discrete field of ``vocab_size`` levels, so saving works as for
    every model.
    """

    context: int | None = None
    """Longest prompt (with the start-of-document token) the model can read as a whole;
    a longer one is refused. None: any length (an LSTM's state, an n-gram's Markov
    window)."""

    # ----------------------------------------------------------------- public API
    def fit(self, *args: Any, **kwargs: Any) -> Model:  # noqa: D401
        raise TypeError(f"{self.name} is a sequence model: use fit_tokens(stream, "
                        "vocab_size=..., seed=...) or Generator(...).fit('corpus.txt')")

    def sample(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(f"{self.name} is a sequence model: use generate(n, seed=..., "
                        "max_tokens=...)")

    def log_prob(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(f"{self.name} is a sequence model: use log_prob_tokens(docs) or "
                        "stream_nll(stream)")

    def fit_tokens(self, stream: Any, *, vocab_size: int, seed: int,
                   budget: float | None = None, run: Any = None, callbacks: Iterable[Any] = (),
                   init_from: SequenceModel | None = None) -> SequenceModel:
        """Fit to ``stream: (N,)`` token ids (documents separated by :data:`EOS`).

        ``init_from``: a fitted model of the same family and vocabulary whose weights
        are the starting point (fine-tuning); ``run``: training-run options of a deep
        model (see :class:`genmodels.training.RunOptions`)."""
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int | np.integer) \
                or vocab_size < 2:
            raise ValueError(f"vocab_size: got {vocab_size!r}; allowed: an integer >= 2")
        _check_seed(seed)
        stream = check_tokens("stream", stream, int(vocab_size))
        if stream.size < 2:
            raise ValueError(f"stream: need at least 2 tokens to fit {self.name}, "
                             f"got {stream.size}")
        if init_from is not None:
            if type(init_from) is not type(self) or not init_from.fitted:
                raise ValueError(f"init_from: expected a fitted {self.name} model, got "
                                 f"{type(init_from).__name__}")
            if init_from.vocab_size_ != vocab_size:
                raise ValueError(f"init_from: its vocabulary has {init_from.vocab_size_} "
                                 f"tokens, this data's has {vocab_size}; fine-tune with the "
                                 "same codec")
        self.vocab_size_ = int(vocab_size)
        self.schema_ = Schema((Field("token", "discrete", int(vocab_size)),))
        self.run_ = run
        self._fit_tokens(stream, np.random.default_rng(seed), budget=budget,
                         callbacks=tuple(callbacks), init_from=init_from)
        return self

    def generate(self, n: int, *, seed: int, max_tokens: int,
                 prompt: Sequence[int] | None = None, decoding: Decoding | None = None,
                 stop_at_eos: bool = True, on_token: OnToken | None = None) -> list[np.ndarray]:
        """Draw ``n`` continuations of ``prompt`` (default: a new document, i.e. after
        :data:`EOS`), each at most ``max_tokens`` long; a row ends early when it draws
        EOS (``stop_at_eos``; the EOS is not returned). Returns the new tokens only."""
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
            raise ValueError(f"n: got {n!r}; allowed: a positive integer")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int | np.integer) \
                or max_tokens <= 0:
            raise ValueError(f"max_tokens: got {max_tokens!r}; allowed: a positive integer")
        _check_seed(seed)
        prefix = check_tokens("prompt", [] if prompt is None else list(prompt), self.vocab_size_)
        prefix = np.concatenate([[EOS], prefix]).astype(np.int64)
        if prefix.size > 1 and EOS in prefix[1:]:
            raise ValueError("prompt: contains the end-of-document token (id 0)")
        if self.context is not None and prefix.size > self.context:
            raise ValueError(f"prompt: {prefix.size - 1} tokens is longer than {self.name}'s "
                             f"context of {self.context} (the start-of-document token takes "
                             f"one place); shorten it to its last {self.context - 1} tokens "
                             "at most")
        decoding = decoding or Decoding()
        rng = np.random.default_rng(seed)
        out = self._generate(int(n), prefix, int(max_tokens), rng, decoding, stop_at_eos,
                             on_token)
        assert len(out) == n
        return out

    def log_prob_tokens(self, docs: Sequence[Any]) -> np.ndarray:
        """Exact ``log p(doc, EOS | EOS)`` in nats per document: ``(len(docs),)``."""
        self._check_fitted()
        out = np.empty(len(docs))
        for i, d in enumerate(docs):
            d = check_tokens(f"docs[{i}]", d, self.vocab_size_)
            full = np.concatenate([[EOS], d, [EOS]]).astype(np.int64)
            out[i] = float(self._stream_log_probs(full).sum())
        return out

    def stream_nll(self, stream: Any) -> float:
        """Mean nats per predicted token of ``stream[1:]`` given what precedes it (the
        usual validation loss of a language model; the first token is context only)."""
        self._check_fitted()
        stream = check_tokens("stream", stream, self.vocab_size_)
        if stream.size < 2:
            raise ValueError("stream: need at least 2 tokens")
        return float(-self._stream_log_probs(stream).mean())

    # ------------------------------------------------------------ to implement
    def _fit_tokens(self, stream: np.ndarray, rng: np.random.Generator, *,
                    budget: float | None, callbacks: tuple,
                    init_from: SequenceModel | None) -> None:
        raise NotImplementedError

    def _stream_log_probs(self, stream: np.ndarray) -> np.ndarray:
        """``log p(stream[i] | stream[:i])`` for i = 1..N-1: ``(N-1,)`` (a model with a
        bounded context evaluates long streams in overlapping windows)."""
        raise NotImplementedError

    def _next_log_probs(self, prefixes: list[np.ndarray]) -> np.ndarray:
        """Next-token log-probabilities after each prefix: ``(len(prefixes), V)``. The
        default ``_generate`` uses it (simple models); fast models override
        ``_generate`` (e.g. with a KV cache)."""
        raise NotImplementedError

    def _generate(self, n: int, prefix: np.ndarray, max_tokens: int, rng: np.random.Generator,
                  decoding: Decoding, stop_at_eos: bool,
                  on_token: OnToken | None) -> list[np.ndarray]:
        from genmodels.sampling.decoding import draw_tokens

        rows = [list(prefix) for _ in range(n)]
        done = np.zeros(n, dtype=bool)
        start = len(prefix)
        for _ in range(max_tokens):
            live = np.flatnonzero(~done)
            if live.size == 0:
                break
            logp = self._next_log_probs([np.asarray(rows[i]) for i in live])
            picks = draw_tokens(logp, rng, decoding)
            for i, t in zip(live, picks, strict=True):
                if stop_at_eos and t == EOS:
                    done[i] = True
                    continue
                rows[i].append(int(t))
                if on_token is not None:
                    on_token(int(i), int(t))
        return [np.asarray(r[start:], dtype=np.int64) for r in rows]


class NeuralSequenceModel(SequenceModel):
    """A sequence model whose fitted state is one torch module ``net_`` built by
    ``_build(generator)`` from the hyperparameters and ``vocab_size_``: saving and loading
    are the same for all of them (``transformer``, ``lstm``)."""

    def _build(self, generator: Any) -> Any:
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        return {f"net.{k}": v.detach().cpu().numpy() for k, v in self.net_.state_dict().items()}

    def extra(self) -> dict[str, Any]:
        self._check_fitted()
        return {"vocab_size": self.vocab_size_}

    def load_state(self, state: Mapping[str, np.ndarray], extra: Mapping[str, Any]) -> None:
        import torch

        from genmodels.models._lm_train import net_tensors

        self.vocab_size_ = int(extra.get("vocab_size", self.schema_.fields[0].levels))
        self.net_ = self._build(torch.Generator().manual_seed(0))
        self.net_.load_state_dict(net_tensors(self.net_, state))
        self.net_.eval()
