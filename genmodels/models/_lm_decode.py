"""Decoding and exact scoring for the neural language models.

A model with a bounded context of ``B`` positions defines ``p(t_i | t_<i)`` through a
*window* that moves in steps of ``S`` tokens: token ``i`` is predicted from tokens
``w(i)..i-1``, with ``w(i) = 0`` while ``i <= B`` and else the smallest multiple of
``S`` with ``i - w(i) <= B`` (so every token sees between ``B - S + 1`` and ``B``
tokens of context). Scoring (:func:`window_log_probs`) and generation (:class:`GPTStepper`,
with or without a KV cache) use the same windows, so ``log_prob`` is the exact
log-probability of the sequences ``generate`` draws.
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np
import torch

from genmodels.models._sequence import EOS, Decoding, OnToken
from genmodels.sampling.decoding import draw_tokens

logger = logging.getLogger(__name__)


def window_start(i: int, block: int, stride: int) -> int:
    """First context token of the prediction of token ``i`` (see the module docstring)."""
    return 0 if i <= block else stride * -(-(i - block) // stride)


@torch.inference_mode()
def window_log_probs(net: torch.nn.Module, stream: np.ndarray, block: int, stride: int,
                     batch: int = 32) -> np.ndarray:
    """``log p(stream[i] | window)`` for i = 1..N-1: ``(N-1,)`` float64."""
    n = stream.size
    t = torch.from_numpy(np.ascontiguousarray(stream, dtype=np.int64))
    out = np.empty(n - 1)
    last = window_start(n - 1, block, stride)
    starts = list(range(0, last + 1, stride))
    full = [w for w in starts if w + block <= n - 1]
    rest = [w for w in starts if w + block > n - 1]
    for lo in range(0, len(full), batch):
        ws = full[lo:lo + batch]
        idx = torch.tensor(ws)[:, None] + torch.arange(block + 1)
        _fill(out, net, t[idx], ws, block, stride)
    for w in rest:
        _fill(out, net, t[w:][None, :], [w], block, stride)
    return out


def _fill(out: np.ndarray, net: torch.nn.Module, chunk: torch.Tensor, ws: list[int],
          block: int, stride: int) -> None:
    """Score windows ``chunk: (b, t + 1)`` starting at ``ws`` into ``out``."""
    logp = torch.log_softmax(net(chunk[:, :-1]).double(), dim=-1)
    picked = logp.gather(-1, chunk[:, 1:, None])[..., 0].numpy()
    for row, w in enumerate(ws):
        lo = 1 if w == 0 else w + block - stride + 1  # first token this window predicts
        hi = w + chunk.shape[1] - 1                     # last one
        out[lo - 1:hi] = picked[row, lo - 1 - w:hi - w]


class Stepper(Protocol):
    def next_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        """Logits of the next token after each row of ``seqs: (b, t)`` (a view of the
        decoder's buffer, not contiguous): ``(b, V)``."""

    def keep(self, rows: torch.Tensor) -> None:
        """Only these rows go on (drop the state of finished ones)."""


class GPTStepper:
    """Next-token logits of a GPT along the moving window; ``use_cache``: with a KV
    cache (one token per step through :class:`~genmodels.nn.transformer.OneTokenStep`,
    the window refilled by a full pass when it moves), else by a full forward pass over
    the window each step. Both run torch's native kernels, not oneDNN's: on one row a
    oneDNN GELU costs ~10 us of set-up, more than the op (same values to float rounding)."""

    def __init__(self, net: torch.nn.Module, block: int, stride: int, use_cache: bool) -> None:
        from genmodels.nn.transformer import OneTokenStep

        self.net, self.block, self.stride, self.use_cache = net, block, stride, use_cache
        self.step = OneTokenStep(net) if use_cache else None
        self.cache = None
        self.w = -1

    def next_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        onednn = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = False
        try:
            return self._next_logits(seqs)
        finally:
            torch.backends.mkldnn.enabled = onednn

    def _next_logits(self, seqs: torch.Tensor) -> torch.Tensor:
        i = seqs.shape[1]
        w = window_start(i, self.block, self.stride)
        if not self.use_cache:
            return self.net(seqs[:, w:])[:, -1]
        if self.cache is None or w != self.w:  # a new window: fill the cache from its start
            if self.cache is None or self.cache.batch != seqs.shape[0]:
                self.cache = self.net.new_cache(seqs.shape[0])
            self.cache.length, self.w = 0, w
            return self.net(seqs[:, w:], cache=self.cache)[:, -1]
        return self.step(seqs[:, -1], self.cache)

    def keep(self, rows: torch.Tensor) -> None:
        if self.cache is not None:
            self.cache.k = [k[rows] for k in self.cache.k]
            self.cache.v = [v[rows] for v in self.cache.v]


@torch.inference_mode()
def decode(stepper: Stepper, prefix: np.ndarray, n: int, max_tokens: int,
           rng: np.random.Generator, decoding: Decoding, stop_at_eos: bool,
           on_token: OnToken | None) -> list[np.ndarray]:
    """Draw ``n`` continuations of ``prefix`` (batched; rows that draw EOS leave the
    batch). One numpy draw per live row and step from ``rng``: same seed, same tokens.
    The sequences grow in one preallocated buffer, seen by ``stepper`` as ``(b, t)`` views."""
    start, end = prefix.size, prefix.size + max_tokens
    buf = np.empty((n, end), dtype=np.int64)
    buf[:, :start] = prefix
    seqs = torch.from_numpy(buf)  # shares buf's memory: its views see the new tokens
    rows = np.arange(n)  # original index of each live row
    out: list[np.ndarray | None] = [None] * n
    for i in range(start, end):
        logits = stepper.next_logits(seqs[:, :i])
        picks = draw_tokens(logits.double().numpy(), rng, decoding)
        buf[:, i] = picks
        if on_token is not None:
            for r, tok in zip(rows, picks, strict=True):
                if not (stop_at_eos and tok == EOS):
                    on_token(int(r), int(tok))
        stop = (picks == EOS) if stop_at_eos else None
        if stop is not None and stop.any():
            for j in np.flatnonzero(stop):
                out[rows[j]] = buf[j, start:i].copy()
            live = np.flatnonzero(~stop)
            if live.size == 0:
                break
            buf, rows = buf[live], rows[live]
            seqs = torch.from_numpy(buf)
            stepper.keep(torch.from_numpy(live))
    for j, r in enumerate(rows):
        if out[r] is None:
            out[r] = buf[j, start:end].copy()
    return out
