"""How the ``gan`` lays encoded fields out for its networks, and back.

Every field becomes one or two spans of the network's row ``h: (n, D)``:
a discrete field is a one-hot (softmax span); a continuous field is either one linear
value (``continuous="linear"``) or CTGAN's ``alpha`` (tanh span) plus its mode one-hot
(softmax span, ``continuous="modes"``, see :mod:`genmodels.models._gan_modes`).
The generator's raw outputs pass through each span's activation: identity, tanh, or a
Gumbel-softmax drawn with the run's seeded ``torch.Generator`` (``F.gumbel_softmax``
would use the global RNG).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from genmodels.models._gan_modes import ModeNormalizer
from genmodels.models.base import Schema


@dataclass(frozen=True)
class Span:
    start: int
    width: int
    kind: str  # "linear" | "tanh" | "softmax"

    @property
    def stop(self) -> int:
        return self.start + self.width


def gumbel_noise(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Standard Gumbel draws ``-log(-log U)`` of ``shape`` from ``generator``."""
    u = torch.rand(shape, generator=generator, device=generator.device).clamp_(1e-10, 1.0 - 1e-7)
    return -torch.log(-torch.log(u))


def gumbel_softmax(logits: torch.Tensor, tau: float, generator: torch.Generator) -> torch.Tensor:
    """Relaxed one-hot sample ``softmax((logits + g) / tau)`` (Jang et al. 2017): ``(n, k)``."""
    g = gumbel_noise(tuple(logits.shape), generator).to(logits.device, logits.dtype)
    return torch.softmax((logits + g) / tau, dim=1)


class Layout:
    """The spans of each field for ``schema``; ``modes`` is None for linear continuous."""

    def __init__(self, schema: Schema, modes: ModeNormalizer | None) -> None:
        self.schema = schema
        self.modes = modes
        self.field_spans: list[tuple[Span, ...]] = []
        self.cont_slot: dict[int, int] = {}  # field index -> its column in modes
        start = 0
        for j, f in enumerate(schema.fields):
            if f.kind == "discrete":
                spans: tuple[Span, ...] = (Span(start, f.levels, "softmax"),)
            elif modes is None:
                spans = (Span(start, 1, "linear"),)
            else:
                slot = self.cont_slot[j] = len(self.cont_slot)
                spans = (Span(start, 1, "tanh"), Span(start + 1, modes.counts[slot], "softmax"))
            self.field_spans.append(spans)
            start = spans[-1].stop
        self.dim = start
        self.spans = [s for spans in self.field_spans for s in spans]
        # activate() works on groups, not span by span (tens of tiny ops per step cost
        # more than the networks on small tables): all tanh columns at once, and the
        # softmax spans of each width as one (n, spans, width) block.
        self._tanh = torch.tensor([s.start for s in self.spans if s.kind == "tanh"],
                                  dtype=torch.int64)
        widths = sorted({s.width for s in self.spans if s.kind == "softmax"})
        self._soft = [torch.tensor([list(range(s.start, s.stop)) for s in self.spans
                                    if s.kind == "softmax" and s.width == w], dtype=torch.int64)
                      for w in widths]

    def discrete_span(self, j: int) -> Span:
        return self.field_spans[j][0]

    # ------------------------------------------------------------ numpy side
    def encode(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Encoded rows ``x: (n, d)`` -> network rows ``h: (n, D)`` float32."""
        h = np.zeros((x.shape[0], self.dim), dtype=np.float32)
        rows = np.arange(x.shape[0])
        for j, spans in enumerate(self.field_spans):
            v = x[:, j]
            if spans[0].kind == "softmax":
                h[rows, spans[0].start + v.astype(np.int64)] = 1.0
            elif spans[0].kind == "linear":
                h[:, spans[0].start] = v
            else:
                alpha, mode = self.modes.encode(self.cont_slot[j], v, rng)
                h[:, spans[0].start] = alpha
                h[rows, spans[1].start + mode] = 1.0
        return h

    def decode(self, h: np.ndarray) -> np.ndarray:
        """Network rows ``(n, D)`` (one-hots or probabilities) -> encoded rows ``(n, d)``."""
        x = np.empty((h.shape[0], len(self.field_spans)), dtype=np.float64)
        for j, spans in enumerate(self.field_spans):
            first = spans[0]
            if first.kind == "softmax":
                x[:, j] = h[:, first.start:first.stop].argmax(axis=1)
            elif first.kind == "linear":
                x[:, j] = h[:, first.start]
            else:
                mode = h[:, spans[1].start:spans[1].stop].argmax(axis=1)
                x[:, j] = self.modes.decode(self.cont_slot[j], h[:, first.start], mode)
        return x

    # ------------------------------------------------------------ torch side
    def activate(self, raw: torch.Tensor, tau: float, generator: torch.Generator) -> torch.Tensor:
        """Generator outputs ``(n, D)`` -> rows the critic sees: tanh / Gumbel-softmax
        (linear spans pass through)."""
        noisy = (raw + gumbel_noise(tuple(raw.shape), generator).to(raw.device)) / tau
        out = raw.clone()
        if self._tanh.numel():
            t = self._tanh.to(raw.device)
            out[:, t] = torch.tanh(raw[:, t])
        for idx in self._soft:
            idx = idx.to(raw.device)
            out[:, idx.reshape(-1)] = torch.softmax(noisy[:, idx], dim=2).reshape(raw.shape[0], -1)
        return out

    def draw(self, raw: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Generator outputs -> exact samples: one-hots drawn from each softmax (Gumbel-max)."""
        out = raw.clone()
        for s in self.spans:
            r = raw[:, s.start:s.stop]
            if s.kind == "tanh":
                out[:, s.start] = torch.tanh(r[:, 0])
            elif s.kind == "softmax":
                pick = (r + gumbel_noise(tuple(r.shape), generator).to(r.device)).argmax(dim=1)
                out[:, s.start:s.stop] = torch.nn.functional.one_hot(pick, s.width).to(r.dtype)
        return out
