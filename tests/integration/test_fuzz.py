"""Hypothesis fuzz: random small DataFrames through fit -> sample -> log_prob for every
model. Nothing but a documented ValueError may escape, and output keeps every column."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genmodels as gm
from genmodels.models import registry
from tests.conftest import quick_settings

MODELS = sorted(registry("table"))
KINDS = ("float", "int", "bool", "cat", "date", "nanfloat", "const", "allnan", "text")


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=1, max_value=40))
    ncol = draw(st.integers(min_value=1, max_value=5))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    rng = np.random.default_rng(seed)
    cols = {}
    for j in range(ncol):
        kind = draw(st.sampled_from(KINDS))
        levels = draw(st.integers(min_value=1, max_value=6))
        if kind == "float":
            col = rng.normal(0, 10.0 ** rng.integers(-3, 4), n)
        elif kind == "int":
            col = rng.integers(-5, 50, n)
        elif kind == "bool":
            col = rng.random(n) < 0.5
        elif kind == "cat":
            col = rng.choice([f"L{i}" for i in range(levels)], n)
        elif kind == "date":
            col = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D")
        elif kind == "nanfloat":
            col = np.where(rng.random(n) < 0.3, np.nan, rng.normal(size=n))
        elif kind == "const":
            col = np.full(n, 3.5)
        elif kind == "allnan":
            col = np.full(n, np.nan)
        else:
            col = np.array([f"free text number {rng.integers(0, 10**6)}" for _ in range(n)])
        cols[f"c{j}_{kind}"] = col
    return pd.DataFrame(cols)


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(df=frames())
def test_random_frames_fit_sample_or_clear_error(model, df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            small = quick_settings(model)
            gen = gm.Generator(model, **small).fit(df, seed=0)
        except ValueError as e:
            assert str(e)  # a documented, worded refusal
            return
        out = gen.sample(7, seed=1)
        assert list(out.columns) == list(df.columns) and len(out) == 7
        if gen.codec.exact_units:
            lp = gen.log_prob(df)
            assert lp.shape == (len(df),) and not np.isnan(lp).any()
