"""``gm.compare``: several models on one train/holdout split, each in its own process
under the same wall-clock budget, their samples evaluated and ranked.

A run directory (``$GENMODELS_HOME/compare/<run-id>/`` or ``out``) holds
``train.parquet`` and ``holdout.parquet`` (the split every model saw),
``models/<name>/`` (each saved model), ``synth/<name>.parquet`` (its samples),
``results.json`` (:meth:`CompareResult.to_dict`) and ``report.html``.

**Composite score** (the leaderboard's order), in [0, 1], higher is better: the
weighted mean, over the terms that are defined, of ``gm.evaluate``'s group scores
(``report.group_scores()``; formulas in ``genmodels.evaluation.SCORE_FORMULA``):

* fidelity (weight 1/2): column and pairwise distances and the C2ST detection term;
* utility (1/4, with a ``target``): train-on-synthetic relative to train-on-real,
  ``clip(TSTR / TRTR, 0, 1)`` averaged over the boosted-trees and linear learners;
* privacy (1/4): membership-inference AUC, distance-to-closest-record ratio and
  exact copies beyond the holdout's rate (``1 - exact-copy rate`` without a holdout).

A model that fails or runs out of time has no score and is listed after the others.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from genmodels._compare_processes import EVAL_LIMIT, schedule
from genmodels._compare_worker import HOLDOUT_FILE, TRAIN_FILE

log = logging.getLogger(__name__)

FORMAT = "genmodels.compare/1"
RESULTS_FILE = "results.json"
REPORT_FILE = "report.html"
DEFAULT_BUDGET = 600.0
"""Seconds of fitting per model when no budget is given (as ``--budget 10m``)."""
WEIGHTS = {"fidelity": 0.5, "utility": 0.25, "privacy": 0.25}


# ------------------------------------------------------------------ results
@dataclass
class ModelRun:
    """One model's outcome in a comparison. ``status``: "ok", "failed" or "timeout"."""

    model: str
    status: str
    hyperparams: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    rank: int | None = None
    composite: float | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    holdout_nll: float | None = None
    likelihood: str | None = None
    fit_seconds: float | None = None
    sample_seconds: float | None = None
    samples_per_s: float | None = None
    peak_rss_mb: float | None = None
    seconds: float | None = None
    n_synth: int | None = None
    model_dir: str | None = None
    synth_path: str | None = None
    history: dict[str, list] | None = None
    evaluation: dict[str, Any] | None = None
    run_id: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelRun:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class CompareResult:
    """Everything a comparison produced; ``runs`` are in leaderboard order."""

    run_id: str
    out_dir: str
    data: str
    target: str | None
    sensitive: str | None
    seed: int
    budget: float | None
    grace: float | None
    holdout_fraction: float
    n_train: int
    n_holdout: int
    columns: list[str]
    processes: int
    created: str
    seconds: float
    runs: list[ModelRun]
    report_path: str | None = None
    report_error: str | None = None
    format: str = FORMAT

    @property
    def best(self) -> ModelRun | None:
        """The top-ranked model that finished, or None."""
        ok = [r for r in self.runs if r.status == "ok"]
        return ok[0] if ok else None

    def leaderboard(self) -> Any:
        """One row per model in rank order: a pandas DataFrame."""
        import pandas as pd

        rows = []
        for r in self.runs:
            m = r.metrics
            rows.append({"rank": r.rank, "model": r.model, "status": r.status,
                         "composite": r.composite, "fidelity": m.get("fidelity"),
                         "utility": m.get("utility"), "privacy": m.get("privacy"),
                         "c2st_auc": m.get("c2st_auc"), "holdout_nll": r.holdout_nll,
                         "fit_s": r.fit_seconds, "samples_per_s": r.samples_per_s,
                         "peak_rss_mb": r.peak_rss_mb, "error": r.error})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: the settings, the split sizes and every model's run."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompareResult:
        if data.get("format") != FORMAT:
            raise ValueError(f"results: format {data.get('format')!r} is not {FORMAT!r}")
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in names}
        kw["runs"] = [ModelRun.from_dict(r) for r in data.get("runs", [])]
        return cls(**kw)

    @classmethod
    def load(cls, path: str | Path) -> CompareResult:
        """Read ``results.json`` from a compare directory (or the file itself)."""
        import json

        path = Path(path)
        file = path / RESULTS_FILE if path.is_dir() else path
        if not file.is_file():
            raise ValueError(f"run: {str(path)!r} is not a compare directory (no {RESULTS_FILE})")
        return cls.from_dict(json.loads(file.read_text("utf-8")))


# ------------------------------------------------------------------ scoring
def composite_score(metrics: Mapping[str, float | None]) -> float | None:
    """The documented composite (module docstring) of the group scores ``fidelity``,
    ``utility`` and ``privacy`` in ``metrics``; None when none is defined. [0, 1]."""
    total = weight = 0.0
    for key, w in WEIGHTS.items():
        value = metrics.get(key)
        if value is None or not math.isfinite(value):
            continue
        total += w * min(max(float(value), 0.0), 1.0)
        weight += w
    return round(total / weight, 6) if weight else None


def privacy_term(mia_auc: float | None, exact_copy_rate: float | None) -> float | None:
    """A privacy term for evaluations without group scores: ``1 - 2 * max(mia_auc -
    0.5, 0)``, else ``1 - exact_copy_rate``; [0, 1], higher is safer."""
    if mia_auc is not None and math.isfinite(mia_auc):
        return 1.0 - 2.0 * max(mia_auc - 0.5, 0.0)
    if exact_copy_rate is not None and math.isfinite(exact_copy_rate):
        return 1.0 - exact_copy_rate
    return None


def rank_runs(runs: Sequence[ModelRun]) -> list[ModelRun]:
    """Finished models by composite (best first), then failures and timeouts."""
    def key(r: ModelRun) -> tuple:
        score = r.composite if r.composite is not None else -1.0
        return (r.status != "ok", -score, r.model)

    ordered = sorted(runs, key=key)
    for i, r in enumerate(ordered):
        r.rank = i + 1 if r.status == "ok" else None
    return ordered


# ------------------------------------------------------------------ compare
def compare(data: Any, *, models: str | Sequence[str] | Mapping[str, Mapping] = "all",
            budget: float | None = DEFAULT_BUDGET, target: str | None = None,
            sensitive: str | None = None, seed: int = 0, holdout_fraction: float = 0.2,
            processes: int | None = None, n_samples: int | None = None,
            grace: float | None = None, out: str | Path | None = None, force: bool = False,
            report: bool = True, record: bool = True,
            progress: Callable[[ModelRun], None] | None = None) -> CompareResult:
    """Fit every model in ``models`` on one train split of ``data``, sample, evaluate
    against the split and rank (see the module docstring for the composite score).

    ``data``: DataFrame, CSV/Parquet path, bundled dataset name or ``(n, d)`` array.
    ``models``: "all" (every registered model), names (a list or "a,b"), or
    ``{name: hyperparams}``. ``budget``: seconds of fitting per model (None: no limit);
    each model runs in its own spawned process, at most ``processes`` at a time
    (default ``min(len(models), os.cpu_count())``), and is stopped and marked "timeout"
    past ``budget + grace`` (default grace: 10 s + 20% of the budget). ``n_samples``:
    synthetic rows per model (default: as many as the train split).

    Workers are *spawned* processes: a script that calls ``compare`` at top level must
    guard it with ``if __name__ == "__main__":`` (notebooks and ``python -c`` need not).
    """
    from genmodels import runs as registry
    from genmodels.files import atomic_write_text, check_output_path, dumps

    wall = time.perf_counter()
    specs = resolve_models(models)
    frame, label = _read(data)
    _check_args(frame, target, sensitive, seed, holdout_fraction, budget, grace, n_samples)
    processes = _processes(processes, len(specs))
    grace = None if budget is None else (grace if grace is not None else 10.0 + 0.2 * budget)
    run_id = registry.new_run_id()
    out_dir = Path(out) if out is not None else registry.home() / "compare" / run_id
    check_output_path(out_dir, force=force, what="out")
    train, holdout = split(frame, holdout_fraction, seed, target)
    out_dir.mkdir(parents=True, exist_ok=True)
    train.to_parquet(out_dir / TRAIN_FILE, index=False)
    holdout.to_parquet(out_dir / HOLDOUT_FILE, index=False)
    common = {"dir": str(out_dir), "seed": seed, "budget": budget,
              "limit": None if budget is None else budget + grace,
              "n_synth": int(n_samples or len(train)), "target": target,
              "sensitive": sensitive, "threads": max(1, (os.cpu_count() or 1) // processes),
              "eval_limit": EVAL_LIMIT}
    tasks = [{**common, "name": name, "hyperparams": hp} for name, hp in specs.items()]
    fp = _fingerprint(train)

    results: list[ModelRun] = []

    def finished(task: dict, out: dict) -> None:
        run = ModelRun.from_dict({**out, "model": task["name"],
                                  "hyperparams": task["hyperparams"]})
        run.composite = composite_score(run.metrics) if run.status == "ok" else None
        if record:
            run.run_id = _record(run, label, fp, seed, budget, run_id, target)
        results.append(run)
        if progress is not None:
            progress(run)

    schedule(tasks, processes, finished)
    shutil.rmtree(out_dir / ".work", ignore_errors=True)
    result = CompareResult(
        run_id=run_id, out_dir=str(out_dir), data=label, target=target, sensitive=sensitive,
        seed=seed, budget=budget, grace=grace, holdout_fraction=holdout_fraction,
        n_train=len(train), n_holdout=len(holdout), columns=[str(c) for c in frame.columns],
        processes=processes, created=datetime.now(UTC).isoformat(timespec="seconds"),
        seconds=0.0, runs=rank_runs(results))
    result.seconds = round(time.perf_counter() - wall, 3)  # the report's time not included
    if report:
        _write_report(result, out_dir)
    atomic_write_text(out_dir / RESULTS_FILE, dumps(_finite(result.to_dict())))
    log.info("compare %s: %d models in %.1f s -> %s", run_id, len(results), result.seconds,
             out_dir)
    return result


def resolve_models(models: str | Sequence[str] | Mapping[str, Mapping]) -> dict[str, dict]:
    """``"all"``, ``"a,b"``, ``["a", "b"]`` or ``{name: hyperparams}`` -> ``{name:
    hyperparams}``; unknown names and bad hyperparameters raise ValueError here, before
    any process starts."""
    from genmodels.models.base import get_model_class, registry

    if isinstance(models, str):
        names = list(registry("table")) if models.strip() == "all" else \
            [m.strip() for m in models.split(",") if m.strip()]
        specs: dict[str, dict] = {n: {} for n in names}
    elif isinstance(models, Mapping):
        specs = {str(k): dict(v or {}) for k, v in models.items()}
    elif isinstance(models, Sequence):
        specs = {str(n): {} for n in models}
    else:
        raise ValueError(f"models: got {models!r}; allowed: 'all', a list of model names "
                         "or a {name: hyperparams} mapping")
    if not specs:
        raise ValueError(f"models: got {models!r}; allowed: at least one model name or 'all'")
    for name, hp in specs.items():
        get_model_class(name)(**hp)  # validates the name and the hyperparameters
    return specs


def split(frame: Any, fraction: float, seed: int, target: str | None = None
          ) -> tuple[Any, Any]:
    """One seeded train/holdout split (stratified on a categorical target when every
    class has two rows or more); both with a fresh index."""
    from sklearn.model_selection import train_test_split

    strat = None
    if target is not None:
        y = frame[target].astype("string").fillna("(missing)")
        counts = y.value_counts()
        if 1 < len(counts) <= 50 and counts.min() >= 2:
            strat = y.to_numpy()
    train, holdout = train_test_split(frame, test_size=fraction, random_state=seed,
                                      stratify=strat)
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


# ------------------------------------------------------------------ helpers
def _read(data: Any) -> tuple[Any, str]:
    """DataFrame, path, dataset name or array -> (DataFrame, label)."""
    from genmodels import datasets
    from genmodels.evaluation._tables import as_frame

    if isinstance(data, str) and not Path(data).exists() and data in datasets.names():
        return datasets.load(data), data
    if isinstance(data, str | os.PathLike):
        if not Path(data).exists():
            raise ValueError(f"data: {str(data)!r} is neither a file nor a bundled dataset; "
                             f"datasets: {', '.join(datasets.names())}")
        return as_frame(data, "data"), str(Path(data).resolve())
    import pandas as pd

    label = "DataFrame" if isinstance(data, pd.DataFrame) else "array"
    return as_frame(data, "data"), label


def _check_args(frame: Any, target: str | None, sensitive: str | None, seed: Any,
                fraction: Any, budget: Any, grace: Any, n_samples: Any) -> None:
    cols = [str(c) for c in frame.columns]
    if any(not isinstance(c, str) for c in frame.columns):
        raise ValueError(f"data: column names must be strings; got {list(frame.columns)[:5]}")
    for arg, col in (("target", target), ("sensitive", sensitive)):
        if col is not None and col not in cols:
            raise ValueError(f"{arg}: got {col!r}; allowed: one of the columns {', '.join(cols)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: got {seed!r}; allowed: a non-negative integer")
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) \
            or not 0 < fraction <= 0.5:
        raise ValueError(f"holdout_fraction: got {fraction!r}; allowed: a number in (0, 0.5]")
    n_hold = math.ceil(fraction * len(frame))
    if len(frame) - n_hold < 10 or n_hold < 2:
        raise ValueError(f"data: {len(frame)} rows leave too few for a train/holdout split; "
                         "allowed: at least 12 rows")
    for arg, value in (("budget", budget), ("grace", grace), ("n_samples", n_samples)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not value > 0):
            raise ValueError(f"{arg}: got {value!r}; allowed: a positive number")


def _processes(processes: Any, n_models: int) -> int:
    if processes is None:
        return max(1, min(n_models, os.cpu_count() or 1))
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes: got {processes!r}; allowed: a positive integer")
    return min(processes, n_models)


def _fingerprint(frame: Any) -> str:
    from genmodels.generator import fingerprint

    return fingerprint(frame)


def _record(run: ModelRun, label: str, fp: str, seed: int, budget: float | None,
            compare_id: str, target: str | None) -> str | None:
    """Record one model's run (kind "compare"); a registry error is only a warning."""
    from genmodels import runs as registry

    error = run.error if run.status != "ok" else None
    try:
        return registry.record_run(
            kind="compare", model=run.model, data=label, data_fingerprint=fp,
            config={"compare_id": compare_id, "hyperparams": run.hyperparams,
                    "budget_s": budget, "target": target, "status": run.status},
            seed=seed, duration_s=run.seconds, peak_rss_mb=run.peak_rss_mb,
            metrics={**run.metrics, "composite": run.composite, "holdout_nll": run.holdout_nll},
            out_dir=run.model_dir, status=run.status, error=error)
    except Exception as e:
        log.warning("compare: the run of %s was not recorded: %s", run.model, e)
        return None


def _write_report(result: CompareResult, out_dir: Path) -> None:
    """Write report.html; a failure is recorded in the result and logged, not raised."""
    try:
        from genmodels.report import write_report

        result.report_path = str(write_report([out_dir], out_dir / REPORT_FILE, result=result))
    except Exception as e:
        log.warning("compare: the HTML report could not be written: %s", describe(e))
        result.report_error = describe(e)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def describe(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
