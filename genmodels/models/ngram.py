"""``ngram``: interpolated modified Kneser-Ney n-gram language model (Chen & Goodman,
"An empirical study of smoothing techniques for language modeling", 1998).

Counts live in sorted int64 key arrays, one per order: the n-gram ``(x_1..x_k)`` has
key ``((x_1 V + x_2) V + ...) V + x_k``, so its context is ``key // V``, its last token
``key % V`` and its lower-order suffix ``key % V**(k-1)``. The highest order keeps raw
counts, lower orders continuation counts (distinct left extensions). Histories never
reach back past an EOS: tokens before the last EOS of a history are read as EOS, so
every document starts from the same ``EOS EOS ...`` context.

``p_k(w | h) = max(c(hw) - D_k(c(hw)), 0) / c(h) + gamma(h) p_{k-1}(w | h')`` with
discounts D1, D2, D3+ per order from the counts of counts, ``p_0 = 1 / V``: every
distribution is exactly normalised and every token keeps a nonzero probability.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from genmodels.models._sequence import EOS, SequenceModel
from genmodels.models.base import Capabilities, Param, positive_int, register

log = logging.getLogger(__name__)

KEY_LIMIT = 2 ** 62


def windows(stream: np.ndarray, order: int) -> np.ndarray:
    """``(len(stream) - 1, order)`` n-grams ending at each position 1..N-1, histories
    left-padded with EOS and masked before their last EOS (see the module docstring)."""
    pad = np.concatenate([np.full(order - 1, EOS, np.int64), stream.astype(np.int64)])
    w = np.lib.stride_tricks.sliding_window_view(pad, order)[1:].copy()
    mask_history(w)
    return w


def mask_history(w: np.ndarray) -> None:
    """In place: in each row's history ``w[:, :-1]``, set tokens before its last EOS to EOS."""
    hist = w[:, :-1]
    if hist.shape[1] < 2:
        return
    is_eos = hist == EOS
    after = np.cumsum(is_eos[:, ::-1], axis=1)[:, ::-1] - is_eos  # EOS strictly later
    hist[after > 0] = EOS


def keys_of(w: np.ndarray, v: int) -> np.ndarray:
    """Horner keys of the rows of ``w: (m, k)``: ``(m,)`` int64."""
    key = np.zeros(w.shape[0], np.int64)
    for j in range(w.shape[1]):
        key = key * v + w[:, j]
    return key


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each key in ``sorted_keys`` and whether it is there."""
    if sorted_keys.size == 0:
        return np.zeros(keys.shape, np.int64), np.zeros(keys.shape, bool)
    idx = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return idx, sorted_keys[idx] == keys


def discounts(counts: np.ndarray) -> np.ndarray:
    """Modified Kneser-Ney D1, D2, D3+ from the counts of counts (Chen & Goodman eq. 26),
    clipped to [0, c] so every distribution stays normalised: ``(3,)``."""
    n = np.array([np.sum(counts == i) for i in range(1, 5)], dtype=np.float64)
    if n[0] == 0 or n[1] == 0:
        return np.array([0.5, 1.0, 1.5])
    y = n[0] / (n[0] + 2 * n[1])
    d = np.array([1 - 2 * y * n[1] / n[0],
                  2 - 3 * y * n[2] / n[1],
                  3 - 4 * y * n[3] / max(n[2], 1.0)])
    return np.clip(d, [0.05, 0.05, 0.05], [1.0, 2.0, 3.0])


class _Order:
    """Counts of one order and the per-context totals derived from them."""

    def __init__(self, keys: np.ndarray, counts: np.ndarray, v: int) -> None:
        self.keys, self.counts = keys, counts.astype(np.float64)
        self.d = discounts(self.counts)
        ctx = keys // v
        self.ctx_keys, start = np.unique(ctx, return_index=True)
        c = self.counts
        self.ctx_total = np.add.reduceat(c, start) if keys.size else np.zeros(0)
        which = np.minimum(c, 3).astype(np.int64) - 1
        self.ctx_gamma_mass = np.add.reduceat(self.d[which], start) if keys.size else np.zeros(0)

    def discount(self, c: np.ndarray) -> np.ndarray:
        return np.where(c > 0, self.d[np.clip(c, 1, 3).astype(np.int64) - 1], 0.0)


@register
class NGram(SequenceModel):
    """Interpolated modified Kneser-Ney n-gram model on a token stream."""

    name = "ngram"
    description = "Interpolated modified Kneser-Ney n-gram language model (text, music)"
    capabilities = Capabilities(exact_likelihood=True, conditional=True, inputs="discrete",
                                modalities=("text", "music"), deep=False)
    params = {
        "order": Param(5, int, positive_int, "an integer >= 1",
                       "Tokens per n-gram (context = order - 1)."),
    }

    # context stays None: a prompt of any length is fine, the model reads its last
    # order - 1 tokens by definition (nothing of the prompt is cut that it could use).

    # ------------------------------------------------------------------ fit
    def _fit_tokens(self, stream: np.ndarray, rng: np.random.Generator, *,
                    budget: float | None, callbacks: tuple, init_from: Any) -> None:
        order, v = self.config["order"], self.vocab_size_
        if float(v) ** order >= KEY_LIMIT:
            raise ValueError(f"order: {order} with a vocabulary of {v} tokens overflows the "
                             f"64-bit n-gram keys; allowed: order <= "
                             f"{int(np.log(KEY_LIMIT) / np.log(v))} for this vocabulary")
        if init_from is not None and init_from.config["order"] != order:
            raise ValueError(f"init_from: its order is {init_from.config['order']}, this "
                             f"model's is {order}; fine-tune with the same order")
        w = windows(stream, order)
        tables = [(keys, counts) for keys, counts in self._count(w, v)]
        if init_from is not None:  # fine-tuning: add the counts (for lower orders the sum of
            # continuation counts, an upper bound of the union's: a documented approximation)
            tables = [_merge(a, b) for a, b in zip(tables, init_from._tables(), strict=True)]
        self._build(tables)

    @staticmethod
    def _count(w: np.ndarray, v: int) -> list[tuple[np.ndarray, np.ndarray]]:
        order = w.shape[1]
        out: list[tuple[np.ndarray, np.ndarray]] = []
        distinct_above = None
        for k in range(order, 0, -1):
            if k == order:
                keys, counts = np.unique(keys_of(w[:, order - k:], v), return_counts=True)
            else:  # continuation counts: distinct left extensions of each k-gram
                keys, counts = np.unique(distinct_above % v ** k, return_counts=True)
            out.append((keys, counts.astype(np.int64)))
            distinct_above = keys
        return out[::-1]

    def _build(self, tables: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.orders_ = [_Order(k, c, self.vocab_size_) for k, c in tables]

    def _tables(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(o.keys, o.counts.astype(np.int64)) for o in self.orders_]

    # --------------------------------------------------------- probabilities
    def _prob(self, w: np.ndarray, targets: np.ndarray | None = None) -> np.ndarray:
        """``p(target | history)`` for histories ``w[:, :-1]`` (``targets`` None: the
        last column) — or, with ``targets: (V,)``, the full ``(m, V)`` distributions."""
        v = self.vocab_size_
        hist = w[:, :-1]
        m = hist.shape[0]
        full = targets is not None
        tgt = targets[None, :] if full else w[:, -1][:, None]
        p = np.full((m, tgt.shape[1]), 1.0 / v)
        for k, o in enumerate(self.orders_, start=1):
            ctx = keys_of(hist[:, hist.shape[1] - (k - 1):], v) if k > 1 else np.zeros(m, np.int64)
            ci, cfound = _lookup(o.ctx_keys, ctx)
            total = np.where(cfound, o.ctx_total[ci], 0.0)
            gamma_mass = np.where(cfound, o.ctx_gamma_mass[ci], 0.0)
            gi, gfound = _lookup(o.keys, ctx[:, None] * v + tgt)
            c = np.where(gfound, o.counts[gi], 0.0)
            seen = total > 0
            safe = np.where(seen, total, 1.0)[:, None]
            mixed = (np.maximum(c - o.discount(c), 0.0) + gamma_mass[:, None] * p) / safe
            p = np.where(seen[:, None], mixed, p)
        return p if full else p[:, 0]

    def _stream_log_probs(self, stream: np.ndarray) -> np.ndarray:
        w = windows(stream, self.config["order"])
        out = np.empty(w.shape[0])
        step = 1 << 17
        for s in range(0, w.shape[0], step):
            out[s:s + step] = np.log(self._prob(w[s:s + step]))
        return out

    def _next_log_probs(self, prefixes: list[np.ndarray]) -> np.ndarray:
        order = self.config["order"]
        w = np.empty((len(prefixes), order), np.int64)
        for i, pre in enumerate(prefixes):
            tail = np.concatenate([np.full(order - 1, EOS, np.int64), pre])[-(order - 1):] \
                if order > 1 else np.zeros(0, np.int64)
            w[i, :-1] = tail
        w[:, -1] = 0
        mask_history(w)
        return np.log(self._prob(w, np.arange(self.vocab_size_)))

    # ---------------------------------------------------------------- state
    def state(self) -> dict[str, np.ndarray]:
        out = {}
        for k, o in enumerate(self.orders_, start=1):
            out[f"keys_{k}"] = o.keys
            out[f"counts_{k}"] = o.counts.astype(np.int64)
        return out

    def extra(self) -> dict[str, Any]:
        return {"vocab_size": self.vocab_size_,
                "discounts": [o.d.tolist() for o in self.orders_]}

    def load_state(self, state: Mapping[str, np.ndarray], extra: Mapping[str, Any]) -> None:
        self.vocab_size_ = int(extra.get("vocab_size", self.schema_.fields[0].levels))
        tables = []
        for k in range(1, self.config["order"] + 1):
            if f"keys_{k}" not in state:
                raise ValueError(f"state: missing the counts of order {k}")
            tables.append((np.asarray(state[f"keys_{k}"], np.int64),
                           np.asarray(state[f"counts_{k}"], np.int64)))
        self._build(tables)


def _merge(a: tuple[np.ndarray, np.ndarray],
           b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Sum two count tables (sorted keys, counts) into one."""
    keys, inv = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    counts = np.zeros(keys.size, np.int64)
    np.add.at(counts, inv, np.concatenate([a[1], b[1]]))
    return keys, counts
