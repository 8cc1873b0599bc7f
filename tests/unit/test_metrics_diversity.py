"""Diversity: mode coverage on planted modes, distinct-n and n-gram copying."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from genmodels.evaluation import evaluate
from genmodels.evaluation.diversity import distinct_n, mode_coverage, ngram_copy_rate

MODES = np.array([[np.cos(a), np.sin(a)] for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)]) * 5


def ring(n: int, seed: int, modes: np.ndarray = MODES) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return modes[rng.integers(0, len(modes), n)] + 0.2 * rng.normal(size=(n, 2))


def test_mode_coverage_of_a_fresh_and_a_collapsed_sample() -> None:
    real = ring(4000, 0)
    fresh = mode_coverage(ring(4000, 1), MODES, real=real)
    assert fresh.covered == 8 and fresh.coverage == 1.0 and fresh.mode_tv < 0.05
    assert fresh.on_mode_share > 0.9
    collapsed = mode_coverage(ring(4000, 2, MODES[:2]), MODES, real=real)
    assert collapsed.covered == 2 and collapsed.coverage == pytest.approx(2 / 8)
    assert collapsed.mode_tv > 0.7
    blurred = mode_coverage(np.random.default_rng(3).normal(scale=5, size=(4000, 2)), MODES,
                            real=real)
    assert blurred.on_mode_share < 0.3  # samples between the modes


def test_mode_coverage_radius_and_starved_modes() -> None:
    x = np.array([[0.0, 0.0]] * 95 + [[10.0, 0.0]] * 5)
    modes = np.array([[0.0, 0.0], [10.0, 0.0]])
    # uniform expectation: mode 2 needs >= 10% of 1/2 = 5% of the rows; it has exactly 5%
    assert mode_coverage(x, modes, radius=1.0).covered == 2
    assert mode_coverage(x[:-1], modes, radius=1.0).covered == 1  # 4/99 < 5%
    assert mode_coverage(x + 2.0, modes, radius=1.0).on_mode_share == 0.0
    with pytest.raises(ValueError, match="radius"):
        mode_coverage(x, modes)
    with pytest.raises(ValueError, match="modes: got shape"):
        mode_coverage(x, np.zeros((2, 3)), radius=1.0)


def test_distinct_n_hand_values() -> None:
    assert distinct_n(["abab"], 2) == pytest.approx(2 / 3)  # ab, ba, ab
    assert distinct_n(["aaaa", "aaaa"], 1) == pytest.approx(1 / 8)
    assert distinct_n([[1, 2, 3], [4, 5, 6]], 3) == 1.0
    assert math.isnan(distinct_n(["a"], 2))
    with pytest.raises(ValueError, match="n: got 0"):
        distinct_n(["abc"], 0)


def test_ngram_copy_rate_copies_novel_and_partial() -> None:
    corpus = ["the quick brown fox jumps over the lazy dog"]
    assert ngram_copy_rate(corpus, corpus) == 1.0
    assert ngram_copy_rate(["zyxwvutsrqponm"], corpus) == 0.0
    # 9 copied characters, then 11 novel ones: of 13 8-grams the first 2 are copied
    assert ngram_copy_rate(["the quick" + "#" * 11], corpus) == pytest.approx(2 / 13)
    assert ngram_copy_rate([[1, 2, 3]], [[1, 2, 3]], n=2) == 1.0


def test_evaluate_reports_mode_coverage_in_data_units() -> None:
    real = pd.DataFrame(ring(1500, 0), columns=["a", "b"]).assign(tag="t")
    collapsed = pd.DataFrame(ring(1500, 2, MODES[:3]), columns=["a", "b"]).assign(tag="t")
    report = evaluate(real, collapsed, modes=MODES)
    assert report.diversity.covered == 3
    assert report.headline()["mode_coverage"] == pytest.approx(3 / 8)
    assert report.to_dict()["diversity"]["modes"]["n_modes"] == 8
    with pytest.raises(ValueError, match=r"modes: got an array of shape \(8, 3\)"):
        evaluate(real, collapsed, modes=np.zeros((8, 3)))
