"""CTGAN's conditional vector and training-by-sampling (Xu et al. 2019, section 4.3).

The conditional vector is the concatenation of one one-hot block per discrete field,
with exactly one active entry in total: "field ``f`` takes level ``l``". Training picks
the field uniformly and the level with probability proportional to ``log(1 + count)``
(rare levels are seen far more often than their frequency), then draws the real rows
of the batch among those that have that level, so the critic compares like with like.
At sampling time the level follows the data frequency, which, mixed over the fields,
gives back the data distribution.

Everything is vectorized: one row-index array per (field, level), built once, and one
``torch.multinomial`` per batch; no per-row Python.
"""

from __future__ import annotations

import numpy as np
import torch

from genmodels.models._gan_layout import Layout


class CondSampler:
    """Condition entries ``0..dim-1``, one per (discrete field, level)."""

    def __init__(self, layout: Layout, counts: np.ndarray) -> None:
        self.fields = layout.schema.discrete_idx
        levels = [layout.schema.fields[j].levels for j in self.fields]
        self.dim = int(sum(levels))
        counts = np.asarray(counts, dtype=np.float64)
        if counts.shape != (self.dim,):
            raise ValueError(f"state: cond.counts has shape {counts.shape}, expected ({self.dim},)")
        self.counts = counts
        self.offsets = np.concatenate([[0], np.cumsum(levels)[:-1]]).astype(np.int64)
        self.field_of = np.repeat(np.arange(len(self.fields)), levels)
        self.level_of = np.concatenate([np.arange(k) for k in levels]).astype(np.int64)
        self.out_pos = torch.as_tensor(np.concatenate(
            [layout.discrete_span(j).start + np.arange(k) for j, k in zip(self.fields, levels,
                                                                         strict=True)]))
        self.spans = [layout.discrete_span(j) for j in self.fields]
        self.p_train = torch.as_tensor(self._per_field(np.log1p(counts)))
        self.p_data = torch.as_tensor(self._per_field(counts))
        self._rows: torch.Tensor | None = None
        self._row_start: torch.Tensor | None = None

    @classmethod
    def build(cls, x: np.ndarray, layout: Layout) -> CondSampler | None:
        """From the encoded training rows ``x: (n, d)``; None without discrete fields."""
        fields = layout.schema.discrete_idx
        if not fields:
            return None
        counts = np.concatenate([np.bincount(x[:, j].astype(np.int64),
                                             minlength=layout.schema.fields[j].levels)
                                 for j in fields])
        sampler = cls(layout, counts)
        sampler.index_rows(x)
        return sampler

    def _per_field(self, weight: np.ndarray) -> np.ndarray:
        """Entry probabilities: field uniform, level proportional to ``weight`` in it."""
        totals = np.bincount(self.field_of, weights=weight, minlength=len(self.fields))
        usable = totals > 0
        p = np.where(usable[self.field_of], weight / np.where(totals > 0, totals, 1)[self.field_of], 0)
        return p / usable.sum()

    def index_rows(self, x: np.ndarray) -> None:
        """Row indices of each (field, level), back to back: ``rows[start[e]:start[e]+count[e]]``."""
        order = [np.argsort(x[:, j], kind="stable") for j in self.fields]
        self._rows = torch.as_tensor(np.concatenate(order).astype(np.int64))
        # each field's counts sum to n, so the exclusive cumsum is the block's start
        start = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        self._row_start = torch.as_tensor(start.astype(np.int64))
        self._row_count = torch.as_tensor(self.counts.astype(np.int64))

    def drop_rows(self) -> None:
        """Free the row index once training is over (sampling does not need it)."""
        self._rows = self._row_start = self._row_count = None

    # ----------------------------------------------------------------- draws
    def draw(self, n: int, generator: torch.Generator, *, train: bool) -> torch.Tensor:
        """``n`` condition entries ``(n,)`` int64: log-frequency levels when ``train``."""
        p = self.p_train if train else self.p_data
        return torch.multinomial(p, n, replacement=True, generator=generator)

    def onehot(self, entries: torch.Tensor) -> torch.Tensor:
        """Entries ``(n,)`` -> condition vectors ``(n, dim)`` float32."""
        out = torch.zeros(entries.shape[0], self.dim)
        out[torch.arange(entries.shape[0]), entries] = 1.0
        return out

    def real_rows(self, entries: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """For each entry, a uniformly drawn training row that has that level: ``(n,)``."""
        count = self._row_count[entries]
        u = torch.rand(entries.shape[0], generator=generator, dtype=torch.float64)
        k = torch.minimum((u * count).long(), count - 1)
        return self._rows[self._row_start[entries] + k]

    def entry(self, j: int, level: int) -> int:
        """The condition entry meaning "field ``j`` takes ``level``"."""
        return int(self.offsets[self.fields.index(j)] + level)

    def cond_loss(self, raw: torch.Tensor, entries: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of the generator's logits for the conditioned field against
        the conditioned level (what makes G honour the condition): a scalar."""
        lse = torch.stack([torch.logsumexp(raw[:, s.start:s.stop], dim=1) for s in self.spans],
                          dim=1)
        rows = torch.arange(raw.shape[0], device=raw.device)
        picked = raw[rows, self.out_pos.to(raw.device)[entries]]
        fields = torch.as_tensor(self.field_of, device=raw.device)[entries]
        return (lse[rows, fields] - picked).mean()

    def state(self) -> dict[str, np.ndarray]:
        return {"cond.counts": self.counts.copy()}
