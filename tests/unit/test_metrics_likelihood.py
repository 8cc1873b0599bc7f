"""Likelihood and cost: analytic NLL of a Gaussian, bounds labelled as bounds,
missing likelihoods explained, cost figures from fit_info_ or the run registry."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import genmodels as gm
from genmodels.evaluation import evaluate
from genmodels.evaluation.cost import cost_metrics
from genmodels.evaluation.likelihood import (
    bits_per_dim,
    bits_per_token,
    likelihood_kind,
    model_likelihood,
    nll_stats,
)

ENTROPY_2D = math.log(2 * math.pi * math.e)  # of N(0, I_2), nats


@dataclass(frozen=True)
class Caps:
    exact_likelihood: bool
    likelihood_note: str = ""


def test_nll_stats_and_unit_conversions() -> None:
    nll, bad = nll_stats(np.array([-1.0, -3.0, -np.inf, np.nan]))
    assert nll == 2.0 and bad == 0.5
    assert bits_per_dim(2 * math.log(2), 2) == pytest.approx(1.0)
    assert bits_per_token(100 * math.log(256), 100) == pytest.approx(8.0)  # uniform bytes
    with pytest.raises(ValueError, match="dims"):
        bits_per_dim(1.0, 0)
    with pytest.raises(ValueError, match="n_tokens"):
        bits_per_token(1.0, 0)


def test_likelihood_kind_from_capabilities() -> None:
    assert likelihood_kind(Caps(True)) == "exact"
    assert likelihood_kind(Caps(False, "ELBO (a lower bound on log p)")) == "bound"
    assert likelihood_kind(Caps(False, "IWAE with 64 samples")) == "bound"
    assert likelihood_kind(Caps(False, "approximate with 2+ discrete fields")) == "approximate"


@pytest.fixture(scope="module")
def gaussian() -> tuple[gm.Generator, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.normal(size=(4000, 2)), columns=["a", "b"])
    holdout = pd.DataFrame(rng.normal(size=(4000, 2)), columns=["a", "b"])
    return gm.Generator("gaussian").fit(train, seed=0), train, holdout


def test_heldout_nll_of_a_gaussian_matches_the_entropy(gaussian) -> None:
    gen, train, holdout = gaussian
    lk = model_likelihood(gen, train, holdout)
    assert lk.kind == "exact" and lk.metric == "nll" and lk.dims == 2
    assert lk.holdout_nll == pytest.approx(ENTROPY_2D, abs=0.05)
    assert lk.holdout_bits_per_dim == pytest.approx(ENTROPY_2D / (2 * math.log(2)), abs=0.04)
    assert abs(lk.gap) < 0.05  # no overfitting with 4000 rows for 5 parameters
    assert lk.nonfinite_rate == 0.0 and lk.rows == {"holdout": 4000, "train": 4000}
    tiny = gm.Generator("gaussian").fit(train.iloc[:4], seed=0)  # 4 rows: overfitted
    assert model_likelihood(tiny, train.iloc[:4], holdout).gap > 1.0
    # the figure is in data units: scaling the data by 10 costs 2 * log(10) nats per row
    gen10 = gm.Generator("gaussian").fit(train * 10, seed=0)
    lk10 = model_likelihood(gen10, train * 10, holdout * 10)
    assert lk10.holdout_nll - lk.holdout_nll == pytest.approx(2 * math.log(10), abs=1e-6)


def test_bound_is_labelled_and_missing_likelihood_is_explained(gaussian) -> None:
    gen, train, holdout = gaussian

    class Bounded:  # a model whose log_prob is an ELBO
        capabilities = Caps(False, "ELBO: a lower bound")
        log_prob = gen.log_prob

    lk = model_likelihood(Bounded(), train, holdout)
    assert lk.kind == "bound" and lk.metric == "nll_upper_bound"
    assert lk.holdout_nll == pytest.approx(ENTROPY_2D, abs=0.05)
    mixed = train.assign(c=np.where(train["a"] > 0, "x", "y"))
    gen_mixed = gm.Generator("gaussian").fit(mixed, seed=0)  # one-hot: no mass in data units
    missing = model_likelihood(gen_mixed, mixed, mixed)
    assert missing.kind == "unavailable" and "categorical" in missing.reason
    assert missing.holdout_nll is None


def test_evaluate_with_model_adds_likelihood_and_cost(gaussian) -> None:
    gen, train, holdout = gaussian
    synth = gen.sample(2000, seed=1)
    report = evaluate(train, synth, model=gen, holdout=holdout)
    h = report.headline()
    assert h["holdout_nll"] == pytest.approx(report.likelihood.holdout_nll)
    assert h["holdout_nll"] == pytest.approx(ENTROPY_2D, abs=0.05)
    assert report.cost.fit_seconds == gen.fit_info_["fit_seconds"]
    assert report.cost.peak_rss_mb == gen.fit_info_["peak_rss_mb"] > 0
    assert report.cost.sample_rows_per_s > 0 and report.cost.fit_rows == 4000
    assert report.to_dict()["likelihood"]["kind"] == "exact"
    copula = gm.Generator("copula").fit(train.assign(c=np.where(train["a"] > 0, "x", "y"),
                                                     d=np.where(train["b"] > 0, "u", "v")),
                                        seed=0)
    mixed = copula.sample(500, seed=2)
    approx = evaluate(mixed, mixed, model=copula).headline()
    assert "train_nll_approx" in approx and "holdout_nll" not in approx


def test_arrays_reach_the_model_as_arrays(gaussian) -> None:
    _, train, holdout = gaussian
    gen = gm.Generator("gaussian").fit(train.to_numpy(), seed=0)
    report = evaluate(train.to_numpy(), gen.sample(500, seed=1), model=gen,
                      holdout=holdout.to_numpy())
    assert report.likelihood.holdout_nll == pytest.approx(ENTROPY_2D, abs=0.05)


def test_cost_falls_back_to_the_run_registry(gaussian, tmp_path, monkeypatch) -> None:
    gen, _, _ = gaussian
    monkeypatch.setenv("GENMODELS_HOME", str(tmp_path))
    from genmodels import runs

    class Loaded:  # a generator whose fit_info_ lost the timings
        model_name = "gaussian"
        fit_info_ = {"data_fingerprint": gen.fit_info_["data_fingerprint"], "n_rows": 4000}
        sample = gen.sample

    assert cost_metrics(Loaded()).fit_seconds is None  # no registry: nothing invented
    assert not runs.registry_path().exists()  # and the lookup did not create one
    run_id = runs.record_run(kind="fit", model="gaussian", status="ok", duration_s=2.0,
                             peak_rss_mb=321.0,
                             data_fingerprint=gen.fit_info_["data_fingerprint"])
    runs.record_run(kind="fit", model="gaussian", status="ok", duration_s=9.0,
                    data_fingerprint="sha256:other")
    cost = cost_metrics(Loaded())
    assert cost.fit_seconds == 2.0 and cost.peak_rss_mb == 321.0
    assert cost.fit_rows_per_s == 2000.0 and cost.source == f"registry run {run_id}"
