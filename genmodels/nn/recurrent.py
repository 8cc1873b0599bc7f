"""A recurrent language model: token embedding, a stacked ``torch.nn.LSTM`` and an
output layer (tied to the embedding when the sizes allow). Stateful: ``forward`` takes
and returns the ``(h, c)`` state, so a long stream is scored, and a sequence decoded,
one chunk or token at a time. Every random draw comes from a ``torch.Generator``."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genmodels.nn.mlp import seeded_dropout

State = tuple[torch.Tensor, torch.Tensor]


class LSTMLM(nn.Module):
    """``vocab_size`` tokens -> embedding (``n_embd``) -> LSTM (``n_layer`` x ``hidden``)
    -> logits; ``tie``: the output layer reuses the embedding (needs ``hidden == n_embd``)."""

    def __init__(self, vocab_size: int, *, n_embd: int, hidden: int, n_layer: int,
                 tie: bool = True, dropout: float = 0.0,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if tie and hidden != n_embd:
            raise ValueError(f"tie: tying needs hidden == n_embd, got {hidden} and {n_embd}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout: got {dropout!r}; allowed: a number in [0, 1)")
        self.tie, self.dropout = tie, dropout
        self.emb = nn.Embedding(vocab_size, n_embd)
        self.lstm = nn.LSTM(n_embd, hidden, num_layers=n_layer, batch_first=True)
        self.head = None if tie else nn.Linear(hidden, vocab_size)
        self.bias = nn.Parameter(torch.zeros(vocab_size)) if tie else None
        self.reset_parameters(generator or torch.Generator().manual_seed(0))

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """torch's LSTM init (U(-1/sqrt(h), 1/sqrt(h))), forget-gate biases at 1,
        embedding N(0, 0.1)."""
        bound = 1.0 / math.sqrt(self.lstm.hidden_size)
        h = self.lstm.hidden_size
        for name, p in self.lstm.named_parameters():
            p.uniform_(-bound, bound, generator=generator)
            if name.startswith("bias_ih"):
                p[h:2 * h] = 1.0
            elif name.startswith("bias_hh"):
                p[h:2 * h] = 0.0
        self.emb.weight.normal_(0.0, 0.1, generator=generator)
        if self.head is not None:
            self.head.weight.uniform_(-bound, bound, generator=generator)
            self.head.bias.zero_()

    def forward(self, idx: torch.Tensor, state: State | None = None,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, State]:
        """``idx: (b, t)`` int64 -> logits ``(b, t, vocab_size)`` and the new state.
        ``generator``: draws the dropout masks (in training mode only)."""
        p = self.dropout if self.training else 0.0
        y, state = self.lstm(seeded_dropout(self.emb(idx), p, generator, shared=(1,)), state)
        y = seeded_dropout(y, p, generator, shared=(1,))
        if self.head is not None:
            return self.head(y), state
        return F.linear(y, self.emb.weight, self.bias), state
