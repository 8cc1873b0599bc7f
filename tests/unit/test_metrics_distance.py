"""Feature space, exact k-NN distances, MMD and PRDC: hand-checked values and the
ideal / degraded cases each metric must tell apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist, pdist

from genmodels.evaluation import distances
from genmodels.evaluation.features import MAX_LEVELS, FeatureSpace
from genmodels.evaluation.mmd import median_bandwidth, mmd_rbf
from genmodels.evaluation.prdc import prdc


# ------------------------------------------------------------------ feature space
def test_feature_space_scales_levels_and_missing() -> None:
    real = pd.DataFrame({"v": [0.0, 2.0, 4.0, np.nan], "c": ["a", "a", "b", None]})
    space = FeatureSpace.fit(real, {"v": "numeric", "c": "categorical"})
    new = pd.DataFrame({"v": [2.0, np.nan, 6.0], "c": ["b", "zzz", None]})
    x = space.transform(new)
    assert x.shape == (3, space.dim) == (3, 2 + 2 + 2)
    sd = np.std([0.0, 2.0, 4.0])
    np.testing.assert_allclose(x[:, 0], [0.0, 0.0, 4.0 / sd])  # z-score; missing -> 0
    np.testing.assert_array_equal(x[:, 1], [0, 1, 0])  # missing indicator
    onehot = x[:, 2:] * np.sqrt(2)  # levels a, b, other, missing
    np.testing.assert_allclose(onehot, [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    # two different levels are exactly 1 apart, like one standard deviation
    a_b = space.transform(pd.DataFrame({"v": [2.0, 2.0], "c": ["a", "b"]}))
    assert np.linalg.norm(a_b[0] - a_b[1]) == pytest.approx(1.0)


def test_feature_space_caps_levels_and_handles_constant_columns() -> None:
    levels = [f"l{i:03d}" for i in range(MAX_LEVELS + 20)]
    real = pd.DataFrame({"c": levels + ["l000"] * 5, "k": 3.0})
    space = FeatureSpace.fit(real, {"c": "categorical", "k": "numeric"})
    assert space.dim == 2 + MAX_LEVELS + 2
    x = space.transform(real)
    assert np.isfinite(x).all() and (x[:, 0] == 0).all()  # constant column: scale 1
    rare = x[real["c"] == levels[-1]][0]
    assert rare[2 + MAX_LEVELS] == pytest.approx(np.sqrt(0.5))  # beyond the cap: "other"


# ------------------------------------------------------------------ distances
def test_knn_distances_match_brute_force_and_copies_are_exactly_zero(monkeypatch) -> None:
    monkeypatch.setattr(distances, "BLOCK_BYTES", 8 * 7 * 40)  # force many small blocks
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(40, 6)) * 50
    query = np.concatenate([ref[:5], rng.normal(size=(17, 6)) * 50])
    got = distances.knn_distances(query, ref, 3)
    want = np.sort(cdist(query, ref), axis=1)[:, :3]
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert (got[:5, 0] == 0).all()
    self_excl = distances.knn_distances(ref, ref, 2, exclude_self=True)
    full = cdist(ref, ref)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_allclose(self_excl, np.sort(full, axis=1)[:, :2], rtol=1e-9)
    np.testing.assert_allclose(distances.pairwise_distances(query, ref), cdist(query, ref),
                               rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="k: got 41"):
        distances.knn_distances(query, ref, 41)


# ------------------------------------------------------------------ MMD
def test_mmd_identical_is_zero_and_grows_with_the_shift() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 3))
    assert mmd_rbf(x, x.copy()).mmd2 == 0.0
    same = mmd_rbf(x, rng.normal(size=(600, 3))).mmd2
    shifted = [mmd_rbf(x, rng.normal(size=(600, 3)) + [s, 0, 0]).mmd2 for s in (0.5, 1.0, 2.0)]
    assert same < 0.01 < shifted[0] < shifted[1] < shifted[2] <= 2.0
    assert shifted[0] > 5 * same


def test_mmd_matches_a_direct_computation_and_the_median_heuristic() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(20, 2)) + 1
    sigma = median_bandwidth(x, y)
    assert sigma == pytest.approx(np.median(pdist(np.concatenate([x, y]))))
    k = lambda a, b: np.exp(-cdist(a, b, "sqeuclidean") / (2 * sigma**2))  # noqa: E731
    want = k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()
    res = mmd_rbf(x, y)
    assert res.mmd2 == pytest.approx(want) and res.bandwidth == sigma
    assert mmd_rbf(x, y, bandwidth=0.5).bandwidth == 0.5
    with pytest.raises(ValueError, match="bandwidth"):
        mmd_rbf(x, y, bandwidth=-1.0)


# ------------------------------------------------------------------ PRDC
def test_prdc_identical_is_ideal_and_fresh_sample_is_near_ideal() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(800, 4))
    same = prdc(x, x.copy())
    assert (same.precision, same.recall, same.density, same.coverage) == (1, 1, 1, 1)
    fresh = prdc(x, rng.normal(size=(800, 4)))
    assert fresh.precision > 0.9 and fresh.recall > 0.9 and fresh.coverage > 0.9
    assert 0.85 < fresh.density < 1.15


def test_prdc_separates_fidelity_from_diversity() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(800, 2))
    collapsed = prdc(x, 0.2 * rng.normal(size=(800, 2)))  # realistic but not diverse
    assert collapsed.precision > 0.95 and collapsed.recall < 0.3 and collapsed.coverage < 0.3
    off = prdc(x, rng.normal(size=(800, 2)) + [4.0, 0.0])  # diverse but off the data
    assert off.precision < 0.5 and off.density < 0.25 and off.coverage < 0.15


def test_prdc_hand_computed_example() -> None:
    real = np.array([[0.0], [1.0], [2.0], [10.0]])  # k=1 radii: 1, 1, 1, 8
    synth = np.array([[0.5], [5.0], [20.0]])  # k=1 radii: 4.5, 4.5, 15
    r = prdc(real, synth, k=1)
    assert r.precision == pytest.approx(2 / 3)  # 0.5 in the balls of 0 and 1; 5 in 10's
    assert r.density == pytest.approx((2 + 1 + 0) / 3)
    assert r.recall == pytest.approx(1.0)  # every real point lies in some synthetic ball
    assert r.coverage == pytest.approx(3 / 4)  # balls of 0 and 1 hold 0.5, 10's holds 5
    with pytest.raises(ValueError, match="k: got 5"):
        prdc(real, synth, k=5)
