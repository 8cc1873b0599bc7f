"""``make demo``: ``compare`` on penguins and adult, one HTML report for both.

Every registered model is fitted on each dataset's train split under the same short
budget (statistical models need a second or two; deep ones stop at the budget), its
samples are evaluated against the split, and the leaderboards and the report's path
are printed. Everything goes under ``$GENMODELS_HOME/demo/`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

DATASETS = ("penguins", "adult")
MODELS = "all"
BUDGET = 30.0
"""Seconds of fitting per model and dataset."""
MAX_ROWS = 10_000
"""Synthetic rows per model (adult's train split has 39,073 rows; evaluating 10,000
keeps the demo to a few minutes)."""


def run(datasets: tuple[str, ...] = DATASETS, models: str = MODELS, budget: float = BUDGET,
        seed: int = 0, out: str | Path | None = None, processes: int | None = None,
        max_rows: int = MAX_ROWS) -> Path:
    """Compare ``models`` on each dataset, write one report for all; return its path."""
    from rich.console import Console

    import genmodels as gm
    from genmodels import runs
    from genmodels.compare import compare
    from genmodels.report import write_report

    console = Console(stderr=False, highlight=False)
    root = Path(out) if out is not None else runs.home() / "demo"
    start = time.perf_counter()
    dirs = []
    for name in datasets:
        info = gm.datasets.info(name)
        target = Path(root) / name
        if out is None and target.exists():
            shutil.rmtree(target)  # the demo's own folder from a previous run
        console.print(f"[bold]{name}[/]: {info['rows']:,} rows × {info['columns']} columns, "
                      f"target {info['target']!r}; budget {budget:g} s per model")
        n_rows = min(max_rows, int(info["rows"] * 0.8))
        result = compare(name, models=models, budget=budget, target=info["target"],
                         seed=seed, processes=processes, n_samples=n_rows, out=target,
                         force=True, report=True, progress=lambda r: _line(console, r))
        _print_leaderboard(console, result)
        dirs.append(target)
    report = write_report(dirs, root / "report.html",
                          title="genmodels demo: " + " and ".join(datasets))
    console.print(f"\ndone in {time.perf_counter() - start:.0f} s. Per-dataset results "
                  f"and reports: {', '.join(str(d) for d in dirs)}")
    console.print(f"Report: [bold]{report}[/]")
    return report


def _line(console, run) -> None:
    if run.status == "ok":
        score = "—" if run.composite is None else f"{run.composite:.3f}"
        console.print(f"  {run.model:<20} composite {score}  fit {run.fit_seconds:.1f} s")
    else:
        console.print(f"  {run.model:<20} [red]{run.status}[/]: {run.error}", markup=True)


def _print_leaderboard(console, result) -> None:
    from rich.table import Table

    table = Table(title=f"{result.data}: leaderboard (higher composite is better)")
    for col in ("rank", "model", "status", "composite", "fidelity", "utility", "privacy"):
        table.add_column(col, justify="left" if col in ("model", "status") else "right")
    for r in result.runs:
        m = r.metrics
        table.add_row("" if r.rank is None else str(r.rank), r.model, r.status,
                      *[("—" if v is None else f"{v:.3f}") for v in
                        (r.composite, m.get("fidelity"), m.get("utility"), m.get("privacy"))])
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--models", default=MODELS, help="'all' or comma-separated names")
    parser.add_argument("--budget", type=float, default=BUDGET, help="seconds per model")
    parser.add_argument("--rows", type=int, default=MAX_ROWS, help="synthetic rows per model")
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="default: $GENMODELS_HOME/demo")
    args = parser.parse_args(argv)
    try:
        run(tuple(d for d in args.datasets.split(",") if d), args.models, args.budget,
            args.seed, args.out, args.processes, args.rows)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
