"""Shared helpers for the benchmark scripts: thread pinning, machine facts, timing,
SDV/SDMetrics adapters (SDV 1.x and 2.x), a rich table and a JSON writer.

Import this module BEFORE numpy/torch and call :func:`pin_threads` first thing, so that
the BLAS/OpenMP pools of every library start with the same number of threads.
SDV, SDMetrics, RDT and Copulas are benchmark-only extras (Business Source License):
they are imported inside functions, never by genmodels itself.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from importlib import metadata as _md
from pathlib import Path
from typing import Any

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def pin_threads(n: int) -> None:
    """Give every thread pool ``n`` threads: env vars (before numpy is imported), torch
    intra/inter-op threads and already-loaded BLAS/OpenMP pools (threadpoolctl)."""
    if n < 1:
        raise ValueError(f"--threads: got {n}; allowed: an integer >= 1")
    if "numpy" in sys.modules:
        warnings.warn("pin_threads called after numpy was imported; env vars may be ignored",
                      stacklevel=2)
    for var in THREAD_VARS:
        os.environ[var] = str(n)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:  # already set in this process
        pass
    threadpool_limits(limits=n)


def seed_global_rngs(seed: int) -> None:
    """Seed the global RNGs that peer libraries (SDV, CTGAN) draw from. Benchmarks only:
    genmodels itself never touches a global RNG."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def versions(packages: Sequence[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in packages:
        try:
            out[name] = _md.version(name)
        except _md.PackageNotFoundError:
            out[name] = None
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(threads: int) -> dict[str, Any]:
    """Date, machine, interpreter, library versions and thread settings of this run."""
    import psutil

    return {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "threads": threads,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "versions": versions(["genmodels", "numpy", "pandas", "scipy", "scikit-learn", "torch",
                              "sdv", "sdmetrics", "rdt", "copulas"]),
    }


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``(fn(), wall seconds)``."""
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


# --------------------------------------------------------------------------- SDV
def sdv_metadata(df: Any, table: str) -> Any:
    """SDV ``Metadata`` detected from one DataFrame (SDV >= 1.15 and 2.x)."""
    from sdv.metadata import Metadata

    if hasattr(Metadata, "detect_from_dataframe"):  # SDV 1.x
        return Metadata.detect_from_dataframe(df, table_name=table)
    return Metadata.detect_from_dataframes({table: df})  # SDV 2.x: dict of tables only


def sdv_table_dict(metadata: Any, table: str) -> dict[str, Any]:
    """The single-table metadata dict that SDMetrics' single-table reports expect."""
    return metadata.to_dict()["tables"][table]


def sdv_fit(synthesizer_name: str, df: Any, metadata: Any, table: str, seed: int,
            **options: Any) -> Any:
    """Fit ``sdv.single_table.<synthesizer_name>(metadata, **options)`` on ``df`` (global
    RNGs seeded)."""
    import sdv.single_table as st

    seed_global_rngs(seed)
    synth = getattr(st, synthesizer_name)(metadata, **options)
    try:
        synth.fit(df)
    except Exception as err:  # SDV 2.x wants {table: df}
        if type(err).__name__ != "InvalidDataTypeError":
            raise
        synth.fit({table: df})
    return synth


def sdv_sample(synth: Any, n: int, table: str, seed: int) -> Any:
    """``n`` rows from a fitted SDV synthesizer as a DataFrame."""
    seed_global_rngs(seed)
    out = synth.sample(n)
    return out[table] if isinstance(out, dict) else out


def sdmetrics_quality(real: Any, synth: Any, table_metadata: dict[str, Any]) -> dict[str, float]:
    """SDMetrics single-table ``QualityReport``: overall score, Column Shapes and Column
    Pair Trends (each in [0, 1], higher is better)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # deprecated in 0.32, still the reference
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.generate(real, synth, table_metadata, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return {"quality": float(report.get_score()),
            "column_shapes": float(props.get("Column Shapes", float("nan"))),
            "column_pair_trends": float(props.get("Column Pair Trends", float("nan")))}


# ----------------------------------------------------------------------- output
def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i < 2 else "right", no_wrap=i < 2)
    for row in rows:
        table.add_row(*[fmt(v) for v in row])
    console = Console()
    if not console.is_terminal:  # piped or redirected: do not squeeze to 80 columns
        console = Console(width=160)
    console.print(table)


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v != v:
            return "-"
        return f"{v:.3f}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def write_json(path: str | Path, payload: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path
