"""Cost: what the model took to fit and takes to sample.

Fit time and peak memory come from the generator's ``fit_info_`` (written by
``Generator.fit`` and kept when saved), or else from its newest matching run in the
run registry (same model and data fingerprint); sampling speed is measured here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger(__name__)

SAMPLE_ROWS = 1000
"""Rows drawn to time sampling."""


@dataclass
class Cost:
    """Fit seconds, training rows/s, peak resident memory (MB), sampling rows/s."""

    model: str
    fit_seconds: float | None = None
    fit_rows: int | None = None
    fit_rows_per_s: float | None = None
    peak_rss_mb: float | None = None
    sample_rows_per_s: float | None = None
    source: str = "fit_info"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def registry_run(model_name: str, fingerprint: str | None) -> dict[str, Any] | None:
    """The newest successful run of ``model_name`` on data with ``fingerprint``, if the
    registry exists (it is never created by this lookup)."""
    from genmodels import runs

    if not fingerprint or not runs.registry_path().exists():
        return None
    try:
        for run in runs.list_runs(limit=500, model=model_name):
            if run.get("data_fingerprint") == fingerprint and run.get("status") == "ok":
                return run
    except Exception as e:  # a busy or foreign registry must not stop an evaluation
        log.warning("cost: could not read the run registry: %s", e)
    return None


def sample_speed(model: Any, *, seed: int, rows: int = SAMPLE_ROWS) -> float:
    """Rows per second of ``model.sample(rows, seed=seed)`` (one timed call)."""
    start = time.perf_counter()
    model.sample(rows, seed=seed)
    seconds = time.perf_counter() - start
    return rows / seconds if seconds > 0 else float("inf")


def cost_metrics(model: Any, *, seed: int = 0, sample_rows: int = SAMPLE_ROWS) -> Cost:
    """Cost figures of a fitted ``gm.Generator`` (see the module doc)."""
    info = dict(getattr(model, "fit_info_", None) or {})
    name = str(getattr(model, "model_name", type(model).__name__))
    out = Cost(name, info.get("fit_seconds"), info.get("n_rows"), None, info.get("peak_rss_mb"))
    if out.fit_seconds is None or out.peak_rss_mb is None:
        run = registry_run(name, info.get("data_fingerprint"))
        if run is not None:
            out.fit_seconds = out.fit_seconds if out.fit_seconds is not None else run["duration_s"]
            out.peak_rss_mb = out.peak_rss_mb if out.peak_rss_mb is not None else run["peak_rss_mb"]
            out.source = f"registry run {run['id']}"
    if out.fit_seconds and out.fit_rows:
        out.fit_rows_per_s = out.fit_rows / out.fit_seconds
    out.sample_rows_per_s = sample_speed(model, seed=seed, rows=sample_rows)
    return out
