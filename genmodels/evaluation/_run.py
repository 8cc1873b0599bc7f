"""Run every metric group of ``evaluate`` on checked inputs, timing each group."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from genmodels.evaluation._tables import Kind, to_float
from genmodels.evaluation.c2st import THREADS
from genmodels.evaluation.features import DESCRIPTION, FeatureSpace, subsample

# Independent random streams per group: adding a group never changes another's figures.
_STREAMS = {"embed": 0, "privacy": 1, "likelihood": 2}


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - start, 3)


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAMS[stream]])


def _fidelity(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind],
              feats: dict[str, np.ndarray], seed: int, max_rows: int, sample_rows: int):
    from genmodels.evaluation.c2st import c2st_auc
    from genmodels.evaluation.fidelity import Fidelity, column_metrics, pairwise_metrics
    from genmodels.evaluation.mmd import mmd_rbf
    from genmodels.evaluation.prdc import K, prdc

    rng = _rng(seed, "embed")
    xr = feats["real"][subsample(len(real), sample_rows, rng)]
    xs = feats["synth"][subsample(len(synth), sample_rows, rng)]
    return Fidelity(
        column_metrics(real, synth, kinds), pairwise_metrics(real, synth, kinds),
        c2st_auc(real, synth, kinds, seed=seed, max_rows=max_rows),
        mmd=mmd_rbf(xr, xs),
        prdc=prdc(xr, xs) if min(len(xr), len(xs)) > K else None,
        feature_space=DESCRIPTION)


def _model_input(frame: pd.DataFrame, was_array: bool) -> Any:
    return frame.to_numpy(dtype=np.float64) if was_array else frame


def _numeric(frame: pd.DataFrame, kinds: dict[str, Kind]) -> np.ndarray:
    cols = [to_float(frame[c], k) for c, k in kinds.items() if k != "categorical"]
    x = np.column_stack(cols)
    return x[np.isfinite(x).all(axis=1)]


def run_groups(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind],
               hold: pd.DataFrame | None, *, target: str | None, sensitive: tuple[str, ...],
               model: Any, modes: np.ndarray | None, seed: int, max_rows: int,
               was_array: bool, sample_rows: int) -> tuple[dict[str, Any], dict[str, float]]:
    """Every group's result (keyword arguments of ``EvaluationReport``) and the seconds
    each took. BLAS and OpenMP pools run ``THREADS`` threads (see ``c2st.THREADS``)."""
    with threadpool_limits(limits=THREADS):
        return _run_groups(real, synth, kinds, hold, target=target, sensitive=sensitive,
                           model=model, modes=modes, seed=seed, max_rows=max_rows,
                           was_array=was_array, sample_rows=sample_rows)


def _run_groups(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind],
                hold: pd.DataFrame | None, *, target: str | None, sensitive: tuple[str, ...],
                model: Any, modes: np.ndarray | None, seed: int, max_rows: int,
                was_array: bool, sample_rows: int) -> tuple[dict[str, Any], dict[str, float]]:
    from genmodels.evaluation.privacy import privacy_metrics

    timings: dict[str, float] = {}
    out: dict[str, Any] = {}
    with _timed(timings, "features"):
        space = FeatureSpace.fit(real, kinds)
        tables = {"real": real, "synth": synth} | ({} if hold is None else {"holdout": hold})
        feats = {name: space.transform(t) for name, t in tables.items()}
    with _timed(timings, "fidelity"):
        out["fidelity"] = _fidelity(real, synth, kinds, feats, seed, max_rows, sample_rows)
    with _timed(timings, "privacy"):
        out["privacy"] = privacy_metrics(real, synth, kinds, feats, _rng(seed, "privacy"), hold)
    pred = None
    if target is not None:
        from genmodels.evaluation.utility import fit_predict, utility_from

        with _timed(timings, "utility"):
            pred = fit_predict(real, synth, kinds, target, seed=seed, max_rows=max_rows,
                               holdout=hold)
            out["utility"] = utility_from(pred)
    if sensitive:
        from genmodels.evaluation.fairness import fairness_column

        with _timed(timings, "fairness"):
            out["fairness"] = {c: fairness_column(real, synth, kinds, c, pred) for c in sensitive}
    if model is not None:
        from genmodels.evaluation.cost import cost_metrics
        from genmodels.evaluation.likelihood import model_likelihood

        with _timed(timings, "likelihood"):
            rng = _rng(seed, "likelihood")
            train = _model_input(real.iloc[subsample(len(real), max_rows, rng)], was_array)
            test = None if hold is None else _model_input(
                hold.iloc[subsample(len(hold), max_rows, rng)], was_array)
            out["likelihood"] = model_likelihood(model, train, test)
        with _timed(timings, "cost"):
            out["cost"] = cost_metrics(model, seed=seed)
    if modes is not None:
        from genmodels.evaluation.diversity import mode_coverage

        with _timed(timings, "diversity"):
            out["diversity"] = mode_coverage(_numeric(synth, kinds), modes,
                                             real=_numeric(real, kinds))
    return out, timings
