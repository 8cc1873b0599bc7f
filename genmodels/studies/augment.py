"""Augmentation: append conditional synthetic rows for the classes of a target column.

``augment(df, "y", "bayesnet", balance=True)`` fits a generator on the table and draws,
for each class that needs rows, exactly that many rows conditioned on ``y == class``
(models without conditional sampling get one generator per class instead). The
original rows come first and unchanged; synthetic rows follow.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from genmodels.studies import _common as cm

log = logging.getLogger(__name__)

__all__ = ["augment", "augment_plan"]

METHODS = ("auto", "condition", "per_class")
MAX_CLASSES = 50


def augment_plan(y: pd.Series, *, ratio: float | None = None,
                 balance: bool = False) -> dict[Any, int]:
    """Synthetic rows to add per class of ``y`` (missing values are not a class).

    ``balance``: bring every class up to the largest class's count. ``ratio``: add
    ``floor(ratio * count + 1/2)`` rows to each class (class shares are kept).
    Classes are listed from the most to the least frequent.
    """
    if balance is not True and balance is not False:
        raise ValueError(f"balance: got {balance!r}; allowed: True or False")
    if (ratio is None) == (not balance):
        raise ValueError("ratio, balance: give exactly one of ratio (a number > 0) or "
                         f"balance=True; got ratio={ratio!r}, balance={balance!r}")
    if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, numbers.Real)
                              or not math.isfinite(ratio) or ratio <= 0):
        raise ValueError(f"ratio: got {ratio!r}; allowed: a finite number > 0")
    counts = y.value_counts(dropna=True)
    if counts.empty:
        raise ValueError(f"target: {y.name!r} has no non-missing values")
    if len(counts) > MAX_CLASSES:
        raise ValueError(f"target: {y.name!r} has {len(counts)} distinct values; allowed: a "
                         f"class column with at most {MAX_CLASSES} classes")
    if balance:
        top = int(counts.max())
        return {label: top - int(c) for label, c in counts.items()}
    return {label: int(math.floor(ratio * int(c) + 0.5)) for label, c in counts.items()}


def augment(data: Any, target: str, model: str = "bayesnet", *, ratio: float | None = None,
            balance: bool = False, seed: int = 0,
            hyperparams: Mapping[str, Any] | None = None, budget: float | None = None,
            method: str = "auto", mark: str | None = None) -> pd.DataFrame:
    """``data`` with conditional synthetic rows appended: see :func:`augment_plan` for
    how many per class. Returns a new DataFrame (index 0..n-1): the original rows first,
    unchanged, then the synthetic rows class by class; with ``mark`` a boolean column of
    that name says which rows are synthetic.

    ``method``: "condition" (one generator, ``sample(condition={target: class})``),
    "per_class" (one generator per class fitted on that class's rows, which needs 2 or
    more of them), "auto" (condition when the model can, else per_class).
    """
    from genmodels.generator import Generator

    frame, _ = cm.load_table(data)
    seed = cm.check_int("seed", seed, 0)
    if target not in frame.columns:
        raise ValueError(f"target: got {target!r}; allowed: one of the columns "
                         f"{', '.join(map(str, frame.columns))}")
    if method not in METHODS:
        raise ValueError(f"method: got {method!r}; allowed: {', '.join(METHODS)}")
    if mark is not None and (not isinstance(mark, str) or not mark or mark in frame.columns):
        raise ValueError(f"mark: got {mark!r}; allowed: a new column name")
    plan = augment_plan(frame[target], ratio=ratio, balance=balance)
    gen = Generator(model, **dict(hyperparams or {}))  # validates model and hyperparameters
    if method == "auto":
        method = "condition" if gen.capabilities.conditional else "per_class"
    if method == "condition" and not gen.capabilities.conditional:
        raise ValueError(f"method: {model} cannot sample conditionally; use 'per_class'")
    seeds = dict(zip(plan, cm.child_seeds(seed, len(plan)), strict=True))
    parts = []
    if method == "condition" and any(plan.values()):
        gen.fit(frame, seed=seed, budget=budget)
    for label, k in plan.items():
        if k == 0:
            continue
        if method == "condition":
            rows = gen.sample(k, seed=seeds[label], condition={target: _py(label)})
        else:
            rows = _per_class(frame, target, label, k, model, hyperparams, seeds[label], budget)
        parts.append(_checked(rows, frame, target, label, k))
        log.info("augment: %d synthetic rows for %s=%r", k, target, label)
    return _assemble(frame, parts, mark)


def _per_class(frame: pd.DataFrame, target: str, label: Any, k: int, model: str,
               hyperparams: Mapping[str, Any] | None, seed: int,
               budget: float | None) -> pd.DataFrame:
    from genmodels.generator import Generator

    rows = frame[frame[target] == label].drop(columns=[target])
    if len(rows) < 2:
        raise ValueError(f"target: class {label!r} has {len(rows)} row(s); the per_class "
                         "method needs at least 2 to fit a generator")
    gen = Generator(model, **dict(hyperparams or {})).fit(rows, seed=seed, budget=budget)
    out = gen.sample(k, seed=seed)
    out.insert(list(frame.columns).index(target), target,
               pd.Series([label] * k, dtype=frame[target].dtype))
    return out


def _checked(rows: pd.DataFrame, frame: pd.DataFrame, target: str, label: Any,
             k: int) -> pd.DataFrame:
    """Synthetic rows in ``frame``'s column order and dtypes; never silently wrong."""
    if len(rows) != k or list(rows.columns) != list(frame.columns):
        raise RuntimeError(f"augment: the generator returned {len(rows)} rows with columns "
                           f"{list(rows.columns)}; expected {k} with {list(frame.columns)}")
    if not (rows[target] == label).all():
        raise RuntimeError(f"augment: synthetic rows for {target}={label!r} do not all "
                           "carry that value")
    rows = rows.reset_index(drop=True)
    for col in frame.columns:
        if rows[col].dtype != frame[col].dtype:
            try:
                rows[col] = rows[col].astype(frame[col].dtype)
            except (TypeError, ValueError):
                log.warning("augment: column %r stays %s (data: %s)", col, rows[col].dtype,
                            frame[col].dtype)
    return rows


def _assemble(frame: pd.DataFrame, parts: list[pd.DataFrame], mark: str | None) -> pd.DataFrame:
    original = frame.reset_index(drop=True)
    out = pd.concat([original, *parts], ignore_index=True) if parts else original.copy()
    if mark is not None:
        flags = np.zeros(len(out), dtype=bool)
        flags[len(frame):] = True
        out[mark] = flags
    return out


def _py(value: Any) -> Any:
    """A numpy scalar as the plain Python value (what the codec's condition matching expects)."""
    return value.item() if isinstance(value, np.generic) else value
