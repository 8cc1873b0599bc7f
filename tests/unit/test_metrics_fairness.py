"""Fairness metrics: known gaps of hand-made labellings, and a biased synthetic table
that the report must show as biased."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genmodels.evaluation import evaluate
from genmodels.evaluation._tables import align
from genmodels.evaluation.fairness import (
    MAX_GROUPS,
    FairnessColumn,
    demographic_parity_gap,
    equalized_odds_gap,
    fairness_column,
    group_labels,
)
from genmodels.evaluation.utility import fit_predict


def test_demographic_parity_gap_of_fair_and_unfair_labellings() -> None:
    groups = np.array(["a"] * 10 + ["b"] * 10)
    fair = np.array([1, 0] * 10)  # 50% positive in both groups
    assert demographic_parity_gap(fair, groups) == 0.0
    unfair = np.array([1] * 8 + [0] * 2 + [1] * 3 + [0] * 7)  # 80% vs 30%
    assert demographic_parity_gap(unfair, groups) == pytest.approx(0.5)
    three = np.array(["a"] * 4 + ["b"] * 4 + ["c"] * 4)
    y3 = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])  # each group one class: gap 1
    assert demographic_parity_gap(y3, three) == 1.0
    assert np.isnan(demographic_parity_gap(fair, np.array(["a"] * 20)))


def test_small_groups_are_left_out_of_the_gaps() -> None:
    groups = np.array(["a"] * 30 + ["b"] * 30 + ["tiny"] * 2)
    y = np.array([1, 0] * 30 + [1, 1])
    assert demographic_parity_gap(y, groups) == pytest.approx(0.5)
    assert demographic_parity_gap(y, groups, min_count=20) == 0.0


def test_equalized_odds_gap_is_the_larger_of_tpr_and_fpr_gaps() -> None:
    y_true = np.array([1] * 10 + [0] * 10 + [1] * 10 + [0] * 10)
    groups = np.array(["a"] * 20 + ["b"] * 20)
    assert equalized_odds_gap(y_true, y_true, groups) == 0.0  # a perfect classifier
    # group a: TPR 0.9, FPR 0.1; group b: TPR 0.6, FPR 0.3 -> gaps 0.3 and 0.2
    pred = np.concatenate([[1] * 9 + [0], [1] + [0] * 9, [1] * 6 + [0] * 4, [1] * 3 + [0] * 7])
    assert equalized_odds_gap(y_true, pred, groups) == pytest.approx(0.3)
    # same positive rate in both groups (DP fair) but wrong for group b: EO catches it
    flipped = np.concatenate([y_true[:20], 1 - y_true[20:]])
    assert demographic_parity_gap(flipped, groups) == 0.0
    assert equalized_odds_gap(y_true, flipped, groups) == 1.0


def test_group_labels_cap_levels_and_cut_numbers_at_quartiles() -> None:
    s = pd.Series([f"g{i}" for i in range(MAX_GROUPS + 3)] + ["g0"] * 5 + [None])
    labels = group_labels(s, "categorical", s)
    assert labels[0] == "g0" and labels[-1] == "<missing>"
    assert (labels == "<other>").sum() == 3
    v = pd.Series(np.arange(100.0))
    q = group_labels(v, "numeric", v)
    assert sorted(set(q)) == ["Q1", "Q2", "Q3", "Q4"] and (q == "Q1").sum() == 25
    few = pd.Series([0, 1, 1, 0])
    assert list(group_labels(few, "numeric", few)) == ["0", "1", "1", "0"]


def table(n: int, seed: int, bias: float) -> pd.DataFrame:
    """Income depends on skill only; with ``bias`` the labels of group B are pushed down."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], n)
    skill = rng.normal(size=n)
    score = skill - bias * (group == "B") + 0.5 * rng.normal(size=n)
    return pd.DataFrame({"group": group, "skill": skill, "hours": rng.normal(40, 5, n),
                         "high": np.where(score > 0, "yes", "no")})


def test_biased_synthetic_table_shows_larger_gaps() -> None:
    real, holdout = table(3000, 0, 0.0), table(1500, 1, 0.0)
    kinds = align(real, real)[1]

    def fairness(synth: pd.DataFrame) -> FairnessColumn:
        synth = align(real, synth)[0]
        pred = fit_predict(real, synth, kinds, "high", holdout=holdout)
        return fairness_column(real, synth, kinds, "group", pred)

    fair, biased = fairness(table(3000, 2, 0.0)), fairness(table(3000, 3, 2.0))
    assert fair.label_dp_gap_real < 0.05 and fair.label_dp_gap_synth < 0.05
    assert biased.label_dp_gap_synth > 0.35  # the generator invented the bias
    assert fair.dp_gap_real < 0.06 and fair.dp_gap_synth < 0.06
    assert biased.dp_gap_synth > fair.dp_gap_synth + 0.3  # and a model learns it
    assert biased.eo_gap_synth > fair.eo_gap_synth + 0.3
    assert biased.dp_gap_real == pytest.approx(fair.dp_gap_real)  # real side unchanged
    g = biased.groups.set_index("group")
    assert g.loc["B", "tstr_synth"] < g.loc["A", "tstr_synth"] - 0.1  # B is served worse
    assert set(g.index) == {"A", "B"} and (g["n_test"] > 600).all()


def test_underrepresented_group_and_per_group_fidelity() -> None:
    real = table(3000, 0, 0.0)
    synth = table(3000, 4, 0.0)
    drop = synth.index[(synth["group"] == "B")][:1000]
    synth = synth.drop(index=drop)
    synth.loc[synth["group"] == "B", "hours"] += 10  # group B's hours are wrong
    fc = evaluate(real, synth, sensitive=["group"]).fairness["group"]
    share_b = (synth["group"] == "B").mean()
    assert fc.representation_tv == pytest.approx(abs(share_b - (real["group"] == "B").mean()))
    assert fc.representation_tv > 0.15
    g = fc.groups.set_index("group")
    # B: hours shifted by 2 sd, KS = 2 Phi(1) - 1 = 0.68, averaged over 3 columns
    assert g.loc["B", "column_distance"] > 0.2 > 0.05 > g.loc["A", "column_distance"]
    assert fc.dp_gap_real is None and "tstr_real" not in fc.groups  # no target given
