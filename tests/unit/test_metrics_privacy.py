"""Privacy metrics: a set that copies its training rows must be flagged by every
figure; a fresh sample from the same distribution must look like the holdout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genmodels.evaluation import evaluate
from genmodels.evaluation._tables import align
from genmodels.evaluation.privacy import dcr, exact_match_rate, mia_auc, nndr


def population(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": x + rng.normal(size=n), "z": rng.gamma(2.0, size=n),
                         "c": rng.choice(list("abcd"), n), "k": rng.integers(0, 5, n)})


def test_dcr_and_nndr_hand_computed() -> None:
    train = np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 0.0]])
    query = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    np.testing.assert_allclose(dcr(query, train), [0, 1, 0, 4])
    # ratios: 0/3, 1/2, twins 0/0 -> 1, 4/5
    np.testing.assert_allclose(nndr(query, train), [0.0, 0.5, 1.0, 0.8])


def test_mia_auc_finds_copies_and_not_fresh_rows() -> None:
    rng = np.random.default_rng(0)
    members, non_members = rng.normal(size=(400, 3)), rng.normal(size=(400, 3))
    assert mia_auc(members, non_members, members.copy()) == pytest.approx(1.0)
    fresh = rng.normal(size=(2000, 3))
    assert abs(mia_auc(members, non_members, fresh) - 0.5) < 0.06
    # half the members copied: the attacker finds exactly those
    leaky = np.concatenate([members[:200], rng.normal(size=(1800, 3))])
    assert 0.7 < mia_auc(members, non_members, leaky) < 0.8


def test_exact_match_rate_counts_copied_rows() -> None:
    real = population(200, 0)
    synth = pd.concat([real.iloc[:50], population(150, 1)], ignore_index=True)
    synth, kinds = align(real, synth)
    assert exact_match_rate(real, synth, kinds) == pytest.approx(50 / 200)


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    return population(1500, 10), population(1500, 11)


def test_copied_training_set_is_flagged(split) -> None:
    train, holdout = split
    p = evaluate(train, train.sample(frac=1.0, random_state=0), holdout=holdout).privacy
    assert p.exact_copy_rate == 1.0 and p.holdout_copy_rate == 0.0
    assert p.dcr_synth["median"] == 0.0 and p.dcr_holdout["median"] > 0.2
    assert p.dcr_ratio == 0.0
    assert p.mia_auc > 0.95
    assert p.nndr_synth < p.nndr_holdout


def test_fresh_sample_looks_like_the_holdout(split) -> None:
    train, holdout = split
    report = evaluate(train, population(1500, 12), holdout=holdout)
    p = report.privacy
    assert p.exact_copy_rate == 0.0
    assert 0.8 < p.dcr_ratio < 1.25
    assert abs(p.mia_auc - 0.5) < 0.05
    assert abs(p.nndr_synth - p.nndr_holdout) < 0.1
    assert report.group_scores()["privacy"] > 0.9


def test_without_holdout_the_attack_figures_are_absent(split) -> None:
    train, _ = split
    p = evaluate(train, train).privacy
    assert p.mia_auc is None and p.dcr_holdout is None and p.dcr_ratio is None
    assert p.exact_copy_rate == 1.0 and p.dcr_synth["p5"] == 0.0
    d = p.to_dict()
    assert d["mia_auc"] is None and d["rows"]["train"] == len(train)
