"""Shared test data: small, made here, deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

QUICK = {"gan": {"epochs": 1, "batch_size": 1000, "g_width": 32, "d_width": 32, "pac": 1,
                 "noise_dim": 16, "diag_every": 0, "continuous": "linear"}}


def quick_settings(model: str) -> dict:
    """Hyperparameters that keep a model fast in tests about input handling (not quality):
    deep models train one or two epochs of small networks, mixtures try few components."""
    from genmodels.models import registry

    if "mixture" in model or model == "gmm":
        return {"max_components": 2}
    if model in QUICK:
        return dict(QUICK[model])
    return {"epochs": 2} if registry()[model].capabilities.deep else {}


def make_mixed_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Correlated continuous columns, an integer, a categorical tied to x, a boolean,
    and missing values in one numeric column."""
    rng = np.random.default_rng(seed)
    x = rng.normal(10.0, 2.0, n)
    y = 2.0 * x + rng.normal(0.0, 1.0, n)
    cat = np.where(x > 11, "high", np.where(x < 9, "low", "mid"))
    flag = rng.random(n) < 0.3
    count = rng.poisson(4.0, n).astype(np.int64)
    y_missing = y.copy()
    y_missing[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "x": np.round(x, 2),
        "y": np.round(y_missing, 2),
        "cat": cat,
        "flag": flag,
        "count": count,
    })


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    return make_mixed_frame()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test writes its runs under its own temporary GENMODELS_HOME."""
    monkeypatch.setenv("GENMODELS_HOME", str(tmp_path / "genmodels-home"))


@pytest.fixture
def one_torch_thread():
    """torch at one intra-op thread for the test (tiny networks; two test workers share
    two cores), restored afterwards."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
