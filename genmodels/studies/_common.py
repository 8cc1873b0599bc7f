"""Pieces shared by the studies: input checks, data loading, training-set sizes,
stratified draws, paired differences over repeats, and the result interface."""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genmodels.studies import _plots

THREADS = 1
"""BLAS/OpenMP threads for the scikit-learn fits: the machine is usually shared, and one
thread per fit keeps the timings stable."""


# ----------------------------------------------------------------- checks
def check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: got {value!r}; allowed: an integer >= {minimum}")
    return int(value)


def check_fraction(name: str, value: Any, *, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low < value < high:
        raise ValueError(f"{name}: got {value!r}; allowed: a number in ({low:g}, {high:g})")
    return float(value)


def check_names(name: str, values: Any, allowed: Sequence[str]) -> list[str]:
    """A non-empty list of distinct names, each in ``allowed``."""
    if isinstance(values, str):
        values = [v.strip() for v in values.split(",") if v.strip()]
    values = list(values or [])
    if not values:
        raise ValueError(f"{name}: got an empty list; allowed: one or more of {', '.join(allowed)}")
    for v in values:
        if v not in allowed:
            raise ValueError(f"{name}: got {v!r}; allowed: {', '.join(allowed)}")
    if len(set(values)) != len(values):
        raise ValueError(f"{name}: {values} names one entry twice")
    return values


def check_sizes(sizes: Any, low: int, high: int, what: str = "sizes") -> list[int]:
    """Sorted distinct training-set sizes, each in ``[low, high]``."""
    out = []
    for s in sizes:
        s = check_int(what, s, 1)
        if not low <= s <= high:
            raise ValueError(f"{what}: got {s}; allowed: sizes between {low} and {high} "
                             "for this data")
        out.append(s)
    if not out:
        raise ValueError(f"{what}: got an empty list; allowed: one or more sizes")
    return sorted(set(out))


def log_sizes(low: int, high: int, k: int) -> list[int]:
    """About ``k`` distinct integers log-spaced from ``low`` to ``high`` (both included)."""
    if high <= low:
        return [int(high)]
    return sorted({int(round(v)) for v in np.geomspace(low, high, k)})


def child_seeds(seed: int, k: int) -> list[int]:
    """``k`` independent integer seeds derived from ``seed``."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(k)]


# ----------------------------------------------------------------- data
def load_table(data: Any, what: str = "data", name: str | None = None
               ) -> tuple[pd.DataFrame, str]:
    """A DataFrame, a CSV/Parquet path or a bundled dataset name -> ``(frame, label)``;
    ``name`` overrides the label (a DataFrame's label is otherwise "DataFrame")."""
    from genmodels import datasets

    if name is not None and not isinstance(name, str):
        raise ValueError(f"name: got {name!r}; allowed: a string")
    if isinstance(data, pd.DataFrame):
        return data, name or "DataFrame"
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if path.is_file():
            from genmodels.codecs.tabular_io import read_table

            return read_table(path), name or path.name
        if isinstance(data, str) and data in datasets.names():
            return datasets.load(data), name or data
        raise ValueError(f"{what}: {str(data)!r} is neither a CSV/Parquet file nor a bundled "
                         f"dataset; datasets: {', '.join(datasets.names())}")
    raise ValueError(f"{what}: got {type(data).__name__}; allowed: a DataFrame, a CSV/Parquet "
                     "path or a bundled dataset name")


def resolve_target(frame: pd.DataFrame, target: str | None, label: str) -> str:
    """``target``, or the bundled dataset's own target when ``target`` is None."""
    if target is None:
        from genmodels import datasets

        if label in datasets.names():
            target = datasets.info(label)["target"]
        else:
            raise ValueError("target: got None; allowed: one of the columns "
                             f"{', '.join(map(str, frame.columns))}")
    if target not in frame.columns:
        raise ValueError(f"target: got {target!r}; allowed: one of the columns "
                         f"{', '.join(map(str, frame.columns))}")
    return target


def class_labels(y: pd.Series, what: str = "target", max_classes: int = 50) -> np.ndarray:
    """Integer codes ``(n,)`` of a class column (sorted labels); refuses a continuous one."""
    if y.isna().any():
        raise ValueError(f"{what}: has missing values; drop those rows first")
    values = y.to_numpy()
    uniques = pd.unique(y)
    if len(uniques) > max_classes:
        raise ValueError(f"{what}: {y.name!r} has {len(uniques)} distinct values; allowed: a "
                         f"class column with at most {max_classes} classes")
    if len(uniques) < 2:
        raise ValueError(f"{what}: {y.name!r} has a single class; allowed: two or more classes")
    labels = np.array(sorted(uniques, key=str), dtype=object)
    lookup = {v: i for i, v in enumerate(labels)}
    return np.fromiter((lookup[v] for v in values), dtype=np.int64, count=len(values))


def stratified_draw(y: np.ndarray, n: int, rng: np.random.Generator,
                    min_per_class: int = 2) -> np.ndarray:
    """Indices of ``n`` rows of ``y`` (class codes), classes in proportion (largest
    remainder) but at least ``min_per_class`` each (or all the class has)."""
    classes, counts = np.unique(y, return_counts=True)
    floor = np.minimum(counts, min_per_class)
    if n < floor.sum():
        raise ValueError(f"size: got {n}; allowed: at least {int(floor.sum())} rows "
                         f"({min_per_class} per class)")
    share = counts / counts.sum() * n
    take = np.maximum(np.floor(share).astype(int), floor)
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    i = 0
    while take.sum() < n:
        c = order[i % len(order)]
        if take[c] < counts[c]:
            take[c] += 1
        i += 1
    while take.sum() > n:
        c = int(np.argmax(take - floor))
        take[c] -= 1
    idx = [rng.choice(np.flatnonzero(y == c), k, replace=False) for c, k in zip(classes, take, strict=True)]
    return np.sort(np.concatenate(idx))


def paired_diff(a: np.ndarray, b: np.ndarray) -> tuple[float, float, int]:
    """Mean and standard error of ``a - b`` over repeats (pairs with a NaN dropped)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return float("nan"), float("nan"), 0
    se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")
    return float(d.mean()), se, int(d.size)


def nan_stats(values: np.ndarray) -> tuple[float, float]:
    """Mean and std over the last axis, NaN ignored (NaN if all are NaN)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std())


def array(values: Any) -> np.ndarray:
    """Nested lists from JSON (``None`` for NaN) -> a float array."""
    return np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)


def num(v: Any) -> float | None:
    """A JSON-able float (None for NaN/inf)."""
    v = float(v)
    return v if np.isfinite(v) else None


# ----------------------------------------------------------------- results
class StudyResult:
    """What every study returns: ``to_dict()``, ``figures()``, ``to_html()`` (a fragment
    with embedded PNGs) and ``page()`` (a self-contained HTML document)."""

    title: str = "study"

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def figures(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_html(self) -> str:
        raise NotImplementedError

    def page(self) -> str:
        return _plots.page(self.title, self.to_html())

    def to_json(self) -> str:
        from genmodels.files import dumps

        return dumps(self.to_dict())


class StudySet(StudyResult):
    """The same study on several datasets: one section each, and an overview table."""

    def __init__(self, study: str, title: str, results: Sequence[StudyResult],
                 intro: str = "") -> None:
        self.study = study
        self.title = title
        self.results = list(results)
        self.intro = intro

    def to_dict(self) -> dict[str, Any]:
        return {"study": self.study, "title": self.title, "intro": self.intro,
                "results": [r.to_dict() for r in self.results]}

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for r in self.results:
            key = getattr(r, "dataset", str(len(out)))
            out.update({f"{key}/{name}": fig for name, fig in r.figures().items()})
        return out

    def overview(self) -> str:
        rows = [row for r in self.results for row in getattr(r, "overview_rows", lambda: [])()]
        header = getattr(self.results[0], "overview_header", None) if self.results else None
        return _plots.html_table(header, rows, "Overview") if rows and header else ""

    def to_html(self, heading: bool = True) -> str:
        intro = f"<p>{_plots.esc(self.intro)}</p>" if self.intro else ""
        body = "\n".join(r.to_html() for r in self.results)
        h2 = f"<h2>{_plots.esc(self.title)}</h2>" if heading else ""
        return (f'<section class="gm-study gm-study-set" id="study-{self.study}">'
                f"{h2}{intro}{self.overview()}\n{body}</section>")

    def page(self) -> str:
        return _plots.page(self.title, self.to_html(heading=False))


def load_result(data: Any) -> StudyResult:
    """A study result (or a set of them) from its :meth:`~StudyResult.to_dict` output or
    the JSON file a ``genmodels`` study command wrote; ``to_html()`` and ``figures()``
    work on it as on the original."""
    import json

    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.is_file():
            raise ValueError(f"data: {str(path)!r} is not a file")
        data = json.loads(path.read_text("utf-8"))
    if not isinstance(data, dict) or "study" not in data:
        raise ValueError("data: not a study result (a dict with a 'study' key)")
    if "results" in data:
        return StudySet(data["study"], data.get("title", data["study"]),
                        [load_result(r) for r in data["results"]], data.get("intro", ""))
    from genmodels.studies._augment_result import AugmentResult
    from genmodels.studies._gvd_result import GvdResult
    from genmodels.studies._mle_result import MleBayesResult

    kinds = {"gvd": GvdResult, "mle-vs-bayes": MleBayesResult, "augment": AugmentResult}
    if data["study"] not in kinds:
        raise ValueError(f"data: study {data['study']!r}; allowed: {', '.join(kinds)}")
    return kinds[data["study"]].from_dict(data)
