"""The process side of ``gm.compare``: fit, sample, evaluate and save one model.

Runs in a spawned worker. It tells the parent what it is doing through a small state
file (``{"pid", "phase", "deadline"}``, written atomically), so the parent can kill it
when it overstays; it also stops itself at the fit + sample deadline (SIGALRM, where
the platform has it). Everything it returns is JSON-able.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TRAIN_FILE = "train.parquet"
HOLDOUT_FILE = "holdout.parquet"


class Deadline(BaseException):  # noqa: N818 - BaseException: library code must not catch it
    """Raised in the worker when fit + sample pass ``budget + grace``."""


def worker_init(state_file: str, startup_limit: float) -> None:
    """Pool initializer: record this process's pid before anything else happens."""
    write_state(state_file, "start", time.time() + startup_limit)


def write_state(state_file: str, phase: str, deadline: float | None) -> None:
    from genmodels.files import atomic_write_text

    atomic_write_text(state_file, json.dumps({"pid": os.getpid(), "phase": phase,
                                              "deadline": deadline}))


def read_state(path: Path) -> dict[str, Any] | None:
    """The worker's last state, or None if it has not written one yet."""
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return None


@contextmanager
def deadline_alarm(seconds: float | None) -> Iterator[None]:
    """Raise :class:`Deadline` in this (main) thread after ``seconds`` (None: never)."""
    if seconds is None or not hasattr(signal, "setitimer"):
        yield
        return

    def _alarm(signum: int, frame: Any) -> None:
        raise Deadline()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_model(task: Mapping[str, Any]) -> dict[str, Any]:
    """Fit ``task["name"]`` on the run's train split, sample, evaluate, save; return a
    JSON-able dict (``status`` "ok", "failed" or "timeout", metrics, paths, timings)."""
    start = time.perf_counter()
    try:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=int(task["threads"])):
            out = _work(task)
        out["status"] = "ok"
    except Deadline:
        out = {"status": "timeout",
               "error": f"fit + sample took longer than the budget {task['budget']:.0f} s + "
                        f"grace {task['limit'] - task['budget']:.0f} s"}
    except Exception as e:
        out = {"status": "failed", "error": f"{type(e).__name__}: {e}" if str(e)
               else type(e).__name__}
    out["seconds"] = round(time.perf_counter() - start, 3)
    return out


def _work(task: Mapping[str, Any]) -> dict[str, Any]:
    import pandas as pd

    import genmodels as gm

    state, run_dir, name = task["state"], Path(task["dir"]), task["name"]
    train = pd.read_parquet(run_dir / TRAIN_FILE)
    holdout = pd.read_parquet(run_dir / HOLDOUT_FILE)
    gen = gm.Generator(name, **task["hyperparams"])
    if "torch" in sys.modules:  # a deep model: one process's share of the cores
        sys.modules["torch"].set_num_threads(int(task["threads"]))
    limit = task["limit"]
    deadline = None if limit is None else time.time() + limit
    write_state(state, "fit", deadline)
    with deadline_alarm(limit):
        gen.fit(train, seed=task["seed"], budget=task["budget"])
        write_state(state, "sample", deadline)
        t0 = time.perf_counter()
        synth = gen.sample(int(task["n_synth"]), seed=task["seed"] + 1)
        sample_s = time.perf_counter() - t0
    write_state(state, "evaluate", time.time() + task["eval_limit"])
    evaluation = evaluate(train, synth, holdout, gen, task)
    metrics = headline(evaluation)
    nll, likelihood = holdout_nll(evaluation)
    history = training_history(gen)
    write_state(state, "save", time.time() + task["eval_limit"])
    rounded = {k: round(v, 6) for k, v in metrics.items() if v is not None}
    gen.metrics_ = {**gen.metrics_, **rounded,
                    **({"holdout_nll": nll} if nll is not None else {})}
    model_dir = gen.save(run_dir / "models" / name, force=True)
    synth_path = run_dir / "synth" / f"{name}.parquet"
    synth_path.parent.mkdir(parents=True, exist_ok=True)
    synth.to_parquet(synth_path, index=False)
    info = gen.fit_info_
    return {"metrics": metrics, "evaluation": evaluation, "holdout_nll": nll,
            "likelihood": likelihood, "fit_seconds": info["fit_seconds"],
            "sample_seconds": round(sample_s, 4), "n_synth": len(synth),
            "samples_per_s": round(len(synth) / max(sample_s, 1e-9), 1),
            "peak_rss_mb": info["peak_rss_mb"], "model_dir": str(model_dir),
            "synth_path": str(synth_path), "history": history}


def evaluate(train: Any, synth: Any, holdout: Any, gen: Any, task: Mapping[str, Any]) -> dict:
    """``gm.evaluate`` of the samples against the train split, with the holdout (privacy
    attacks, utility test rows, held-out likelihood) and the model: ``to_dict()``."""
    from genmodels.evaluation import evaluate as _evaluate

    return _evaluate(train, synth, target=task["target"], sensitive=task.get("sensitive"),
                     model=gen, holdout=holdout, seed=task["seed"]).to_dict()


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


def _dig(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, Mapping) or key not in d:
            return None
        d = d[key]
    return d


def headline(evaluation: Mapping[str, Any]) -> dict[str, float | None]:
    """The leaderboard's numbers from an evaluation's ``to_dict()``: the three group
    scores of the composite (``fidelity``, ``utility``, ``privacy``; the evaluation's
    own composites, see its ``score_formula``) and the figures people look for first."""
    from genmodels.compare import privacy_term

    s = evaluation.get("summary") or {}
    scores = evaluation.get("scores") or {}
    out = {key: _number(s.get(key)) for key in (
        "c2st_auc", "column_distance", "pairwise_distance", "mmd2", "precision", "recall",
        "coverage", "utility_ratio", "mia_auc", "dcr_ratio")}
    out["exact_copy_rate"] = _number(s.get("exact_match_rate"))
    out["fidelity"] = _number(scores.get("fidelity", s.get("score")))
    utility = _number(scores.get("utility"))
    if utility is None and out["utility_ratio"] is not None:
        utility = min(max(out["utility_ratio"], 0.0), 1.0)
    out["utility"] = utility
    privacy = _number(scores.get("privacy"))
    out["privacy"] = privacy if privacy is not None else \
        privacy_term(out["mia_auc"], out["exact_copy_rate"])
    return out


def holdout_nll(evaluation: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """Mean negative log-likelihood per holdout row (nats, data units) from the
    evaluation's likelihood group, and its kind ("exact", "bound", "approximate"), or
    ``(None, None)`` when the model has no likelihood in the data's units."""
    lk = evaluation.get("likelihood") or {}
    kind = lk.get("kind")
    if kind in (None, "unavailable"):
        return None, None
    note = lk.get("note") or ""
    label = kind if kind == "exact" or not note else \
        note if note.lower().startswith(kind) else f"{kind} ({note})"
    return _number(lk.get("holdout_nll")), label


def training_history(gen: Any) -> dict[str, list] | None:
    """Per-epoch training curves ``{key: [value per epoch]}`` when the model has them
    (``metrics_["training"]["history"]``, ``metrics_["history"]`` or the model's
    ``train_result_``)."""
    m = gen.metrics_ or {}
    hist = _dig(m, "training", "history") or m.get("history")
    if hist is None and getattr(gen.model, "train_result_", None) is not None:
        hist = gen.model.train_result_.compact().get("history")
    if isinstance(hist, list):  # one dict per epoch -> columns
        keys = sorted({k for row in hist for k in row})
        hist = {k: [row.get(k) for row in hist] for k in keys}
    if not isinstance(hist, Mapping) or not hist:
        return None
    return {str(k): [_number(v) for v in vals] for k, vals in hist.items()
            if isinstance(vals, list)}
