"""Diversity: does the generator produce all of the data's variety, or a few modes?

Mode coverage for data whose modes are known (mixtures, benchmarks with planted
clusters), and for sequences distinct-n and the share of generated n-grams copied
from the training corpus — pure functions, ready for text and music.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genmodels.evaluation.distances import knn_distances, sq_dist_blocks

MIN_SHARE = 0.1
"""A mode is covered when it gets at least this fraction of the rows its real share
predicts (and at least one row)."""
RADIUS_QUANTILE = 0.95
"""Default radius: this quantile of the real rows' distances to their nearest mode."""


@dataclass(frozen=True)
class ModeCoverage:
    """Mode coverage of a sample (see :func:`mode_coverage`)."""

    n_modes: int
    covered: int
    coverage: float
    on_mode_share: float
    mode_tv: float
    radius: float

    def to_dict(self) -> dict[str, Any]:
        return {"n_modes": self.n_modes, "covered": self.covered, "coverage": self.coverage,
                "on_mode_share": self.on_mode_share, "mode_tv": self.mode_tv,
                "radius": self.radius}


def _assign(x: np.ndarray, modes: np.ndarray, radius: float) -> np.ndarray:
    """Index of each row's nearest mode, or ``len(modes)`` when farther than ``radius``."""
    out = np.empty(len(x), dtype=np.int64)
    for start, d2 in sq_dist_blocks(x, modes):
        nearest = d2.argmin(axis=1)
        near = np.sqrt(d2[np.arange(len(d2)), nearest]) <= radius
        out[start:start + len(d2)] = np.where(near, nearest, len(modes))
    return out


def mode_coverage(synth: np.ndarray, modes: np.ndarray, *, real: np.ndarray | None = None,
                  radius: float | None = None, min_share: float = MIN_SHARE) -> ModeCoverage:
    """How many known modes ``(K, d)`` a sample ``(m, d)`` reaches (Srivastava et al.,
    "VEEGAN", NeurIPS 2017: rows within a radius of their nearest mode count for it).

    ``radius`` defaults to the ``RADIUS_QUANTILE`` of the ``real`` rows' distances to
    their nearest mode (required then). Mode ``k`` is covered when its synthetic share
    reaches ``min_share`` times its real share (uniform ``1/K`` without ``real``).
    ``coverage`` = covered / K in [0, 1], higher is better (1 ideal; a collapse onto one
    mode gives 1/K); ``on_mode_share``: synthetic rows within the radius of a mode;
    ``mode_tv``: TV distance between real and synthetic mode histograms (off-mode
    rows a bin of their own), [0, 1], lower is better.
    """
    modes = np.asarray(modes, dtype=np.float64)
    synth = np.asarray(synth, dtype=np.float64)
    if modes.ndim != 2 or modes.shape[0] < 1 or synth.ndim != 2 or synth.shape[1] != modes.shape[1]:
        raise ValueError(f"modes: got shape {modes.shape} for data with {synth.shape[-1]} "
                         "numeric columns; allowed: (K, that many columns), K >= 1")
    k = len(modes)
    if radius is None:
        if real is None:
            raise ValueError("radius: needed when no real rows are given")
        radius = float(np.quantile(knn_distances(real, modes, 1)[:, 0], RADIUS_QUANTILE))
    q = np.bincount(_assign(synth, modes, radius), minlength=k + 1) / len(synth)
    if real is not None:
        p = np.bincount(_assign(np.asarray(real, np.float64), modes, radius),
                        minlength=k + 1) / len(real)
    else:
        p = np.append(np.full(k, 1.0 / k), 0.0)
    covered = int(np.sum((q[:k] > 0) & (q[:k] >= min_share * p[:k])))
    return ModeCoverage(k, covered, covered / k, float(q[:k].sum()),
                        float(0.5 * np.abs(p - q).sum()), float(radius))


def _ngrams(seq: Sequence[Any], n: int) -> Iterable[tuple]:
    return (tuple(seq[i:i + n]) for i in range(len(seq) - n + 1))


def distinct_n(sequences: Iterable[Sequence[Any]], n: int = 2) -> float:
    """Distinct-n (Li, Galley, Brockett, Gao & Dolan, NAACL 2016): distinct n-grams over
    all n-grams of the generated sequences (strings are sequences of characters, lists
    of tokens work too). Range [0, 1], higher is more diverse; NaN with no n-gram."""
    if n < 1:
        raise ValueError(f"n: got {n}; allowed: an integer >= 1")
    seen: set[tuple] = set()
    total = 0
    for seq in sequences:
        grams = list(_ngrams(seq, n))
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else float("nan")


def ngram_copy_rate(generated: Iterable[Sequence[Any]], training: Iterable[Sequence[Any]],
                    n: int = 8) -> float:
    """Share of the generated n-grams (default 8-grams) that occur somewhere in the
    training sequences — memorisation of the corpus (as in McCoy et al., "How much do
    language models copy from their training data?", TACL 2023). Range [0, 1], lower is
    more novel (a copy of the corpus scores 1); NaN with no generated n-gram."""
    if n < 1:
        raise ValueError(f"n: got {n}; allowed: an integer >= 1")
    train: set[tuple] = set()
    for seq in training:
        train.update(_ngrams(seq, n))
    hits = total = 0
    for seq in generated:
        for g in _ngrams(seq, n):
            total += 1
            hits += g in train
    return hits / total if total else float("nan")
